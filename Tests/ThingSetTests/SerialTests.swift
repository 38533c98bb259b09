import Testing
@testable import ThingSet

@Suite struct SerialTests {
    func line(_ text: String, _ port: inout ThingSetSerialPort, _ node: inout ThingSetNode<TestModel>) -> String {
        var bytes = Array(text.utf8) + [0, 0]
        var out = [UInt8](repeating: 0, count: 512)
        let n = bytes.withUnsafeMutableBufferPointer { l in
            out.withUnsafeMutableBufferPointer { o in port.process(l, count: text.utf8.count, node: &node, into: o) }
        }
        return String(decoding: out[0..<n], as: UTF8.self)
    }

    @Test func crc32IsZlibs() {
        #expect(Array("123456789".utf8).withUnsafeBufferPointer { ThingSetCRC.crc32($0) } == 0xCBF4_3926)
    }

    /// The CRC examples of spec §9.2, both ways.
    @Test func linesWithTheirCRC() {
        var node = ThingSetNode(model: TestModel())
        var port = ThingSetSerialPort()
        #expect(line("?Meas/rSOC_pct 74F75C5B#", &port, &node) == ":85 95.7 63ECFE80#")
        #expect(line("?Input null 61E655F6#\r", &port, &node) == #":85 ["wChgEnable","wDisEnable"] A01E3941#"#)
        #expect(line("!Conf/xPresetLFP [100] B8D7230C#", &port, &node) == ":84 1 FF14EEA0#")
        // Lower-case hex is accepted; a wrong CRC is dropped without an answer.
        #expect(line("?Meas/rSOC_pct 74f75c5b#", &port, &node) == ":85 95.7 63ECFE80#")
        #expect(line("?Meas/rSOC_pct 74F75C5C#", &port, &node) == "")
        // A plain line without a CRC (a human on a terminal) is answered with one.
        #expect(line("?Meas/rSOC_pct", &port, &node) == ":85 95.7 63ECFE80#")
        // Reports and answers from elsewhere, and debug text: no answer.
        #expect(line(#"#mLive {"Meas":{}}"#, &port, &node) == "")
        #expect(line("booting", &port, &node) == "")
    }

    /// The lines python-thingset's serial client sends (spec §4.5, §9.3).
    @Test func theShellCompatibleForm() {
        var node = ThingSetNode(model: TestModel())
        var port = ThingSetSerialPort()
        #expect(line(#"thingset ?Meas [\"rSOC_pct\",\"rBmsState\",]"#, &port, &node) == ":85 [95.7,3]")
        #expect(port.shellMode && !port.unsolicitedOutputAllowed)
        #expect(line("thingset ?Input null", &port, &node) == #":85 ["wChgEnable","wDisEnable"]"#)
        #expect(line(#"thingset =Input {\"wChgEnable\":false}"#, &port, &node) == ":84")
        #expect(node.model.chargeEnable == false)
        #expect(line("thingset !Conf/xPresetLFP [100,]", &port, &node) == ":84 1")
        // A plain request ends the shell mode.
        #expect(line("?Meas/rSOC_pct", &port, &node) == ":85 95.7 63ECFE80#")
        #expect(!port.shellMode)
    }
}
