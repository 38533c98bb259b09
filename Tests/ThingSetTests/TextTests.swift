import Testing
@testable import ThingSet

@Suite struct TextModeTests {
    func ask(_ line: String, _ node: inout ThingSetNode<TestModel>, _ channel: inout ThingSetChannel) -> String {
        var out = [UInt8](repeating: 0, count: 512)
        let n = Array(line.utf8).withUnsafeBufferPointer { l in
            out.withUnsafeMutableBufferPointer { o in node.processText(l, into: o, channel: &channel) }
        }
        return String(decoding: out[0..<n], as: UTF8.self)
    }

    func ask(_ line: String, _ node: inout ThingSetNode<TestModel>) -> String {
        var channel = ThingSetChannel()
        return ask(line, &node, &channel)
    }

    /// The table of spec §3.3, and the forms python-thingset sends (§4.5).
    @Test func theSpecsTextExamples() {
        var node = ThingSetNode(model: TestModel())
        #expect(ask("?Meas/rSOC_pct", &node) == ":85 95.7")
        #expect(ask(#"?Meas ["rSOC_pct","rBmsState"]"#, &node) == ":85 [95.7,3]")
        #expect(ask(#"?Meas ["rSOC_pct","rBmsState",]"#, &node) == ":85 [95.7,3]")     // python-thingset's trailing comma
        #expect(ask("?Input null", &node) == #":85 ["wChgEnable","wDisEnable"]"#)
        #expect(ask("?Input", &node) == #":85 {"wChgEnable":true,"wDisEnable":true}"#)
        #expect(ask(#"=Input {"wChgEnable":false}"#, &node) == ":84")
        #expect(node.model.chargeEnable == false)
        #expect(ask(#"=Meas {"rSOC_pct":50}"#, &node) == ":A3")
        #expect(ask("!Device/xReset", &node) == ":84")
        #expect(ask("!Conf/xPresetLFP [100]", &node) == ":84 1")
        #expect(ask("!Conf/xPresetLFP [100,]", &node) == ":84 1")
        #expect(ask("?mLive", &node) == #":85 ["Meas/rPackVoltage_V","Meas/rSOC_pct","Meas/rBmsState"]"#)
        #expect(ask("?/ null", &node) == ":C5")
        #expect(ask("?Meas", &node) == #":85 {"rPackVoltage_V":52.31,"rSOC_pct":95.7,"rBmsState":3}"#)
        // Conf prints cell voltages with 3 decimals.
        #expect(ask("?Conf/sCellOvervoltage_V", &node) == ":85 3.800")
        // The root: groups as null, functions as their parameter names.
        #expect(ask("?", &node) == #":85 {"Device":null,"Conf":null,"Meas":null,"Input":null,"xAuth":["uToken"],"mLive":null}"#)
    }

    @Test func authenticationInTextMode() {
        var node = ThingSetNode(model: TestModel())
        var channel = ThingSetChannel()
        #expect(ask(#"=Conf {"sCellOvervoltageReset_V":3.25}"#, &node, &channel) == ":A1")
        // The bare string form (spec D9) and the array form.
        #expect(ask(#"!xAuth "expert""#, &node, &channel) == ":84")
        #expect(channel.roles == [.user, .expert])
        #expect(ask(#"=Conf {"sCellOvervoltageReset_V":3.25}"#, &node, &channel) == ":84")
        #expect(ask(#"!xAuth ["other"]"#, &node, &channel) == ":84")
        #expect(channel.roles == .user)
    }

    @Test(arguments: [
        (#"=Input {"wChgEnable":1}"#, ":AF"),                 // 1 is not a boolean
        (#"=Conf {"sCellOvervoltage_V":"high"}"#, ":AF"),     // a string for a float
        (#"?Meas ["rSOC_pct""#, ":A0"),                        // unterminated array
        (#"=Input {"wChgEnable":false} x"#, ":A0"),            // trailing text
        (#"=Input {"nothing":false}"#, ":A4"),
        (#"?Meas ["wChgEnable"]"#, ":A4"),                     // not a child of Meas
        ("!Conf/xPresetLFP []", ":A0"),                        // wrong parameter count
        (#"=Input {"wChgEnable":tru}"#, ":A0"),                // not JSON at all
        (#"=Input {"wChgEnable" false}"#, ":A0"),              // no colon
        (#"=Conf {"sCellOvervoltage_V":"a\"b"}"#, ":AF"),     // an escaped string
    ])
    func malformedTextGetsItsStatus(line: String, answer: String) {
        var node = ThingSetNode(model: TestModel())
        #expect(ask(line, &node) == answer, "\(line)")
    }

    @Test func floatsWithTheirDecimals() throws {
        var storage = [UInt8](repeating: 0, count: 64)
        func text(_ x: Float, _ d: UInt8) -> String {
            storage.withUnsafeMutableBufferPointer { b in
                var w = JSONWriter(b)
                try? w.float(x, decimals: d)
                return String(decoding: b[0..<w.count], as: UTF8.self)
            }
        }
        #expect(text(95.7, 1) == "95.7")
        #expect(text(3.65, 3) == "3.650")
        #expect(text(-0.004, 2) == "0.00")
        #expect(text(-12.5, 1) == "-12.5")
        #expect(text(52.31, 2) == "52.31")
        #expect(text(100, 0) == "100")
        #expect(text(.nan, 1) == "null" && text(.infinity, 2) == "null")
    }
}

@Suite struct ReportTests {
    /// The report examples of spec §6.2 and §4.4, byte for byte.
    @Test func mLiveInTextAndBinary() {
        let node = ThingSetNode(model: TestModel())
        var out = [UInt8](repeating: 0, count: 256)
        let t = out.withUnsafeMutableBufferPointer { node.report(0x31, text: true, into: $0) }
        #expect(String(decoding: out[0..<t], as: UTF8.self)
                == #"#mLive {"Meas":{"rPackVoltage_V":52.31,"rSOC_pct":95.7,"rBmsState":3}}"#)
        let b = out.withUnsafeMutableBufferPointer { node.report(0x31, text: false, into: $0) }
        #expect(Array(out[0..<b]) == hex("1f1831a31871fa42513d71187cfa42bf6666187f03"))
        // Not a subset; a buffer too small: nothing.
        #expect(out.withUnsafeMutableBufferPointer { node.report(0x07, text: true, into: $0) } == 0)
        var small = [UInt8](repeating: 0, count: 10)
        #expect(small.withUnsafeMutableBufferPointer { node.report(0x31, text: true, into: $0) } == 0)
    }
}
