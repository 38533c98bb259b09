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
        // Float arithmetic only: a Float's digits, no more (double would print 0.100000001).
        #expect(text(0.1, 9) == "0.100000000")
        #expect(text(3.7, 20) == "3.700000000", "decimals beyond 9 are capped, not a crash")
        #expect(text(2e12, 9) == "1999999991808", "too large for the decimals: the Float's integer part")
    }

    /// Numbers read in Float: the value a Float setting would get from the decimal text.
    @Test(arguments: [
        ("3.7", Float(3.7)), ("0.0125", Float(0.0125)), ("-1.5e2", Float(-150)), ("1e-3", Float(0.001)),
        ("2.5E+1", Float(25)), ("123456.789", Float(123456.789)), ("42", Float(42)),
        ("0.000000000001", Float(1e-12)),
    ])
    func numbersReadAsFloats(text: String, value: Float) throws {
        let bytes = Array(text.utf8)
        let read: ThingSetValue = try bytes.withUnsafeBufferPointer { b throws(ThingSetStatus) in
            var r = JSONPayloadReader(b, 0..<b.count)
            return try r.readValue(.f32(decimals: 3))
        }
        guard case .float(let x) = read else { Issue.record("\(read)"); return }
        #expect(x == value, "\(text) read as \(x)")
    }

    /// Beyond 10^10 the scaling takes several roundings: within two ulps of the nearest Float.
    @Test func extremeExponentsComeClose() throws {
        for (text, value) in [("3.4e38", Float(3.4e38)), ("1.17549435e-38", Float(1.17549435e-38)), ("6.02214076e23", Float(6.02214076e23))] {
            let bytes = Array(text.utf8)
            let read: ThingSetValue = try bytes.withUnsafeBufferPointer { b throws(ThingSetStatus) in
                var r = JSONPayloadReader(b, 0..<b.count)
                return try r.readValue(.f32(decimals: 3))
            }
            guard case .float(let x) = read else { Issue.record("\(read)"); continue }
            #expect(abs(x - value) <= 2 * value.ulp, "\(text) read as \(x)")
        }
    }

    @Test func malformedNumbersAreRefused() {
        for text in ["-", ".", "1e", "1e+", "--1", "e5"] {
            let bytes = Array(text.utf8)
            let result = bytes.withUnsafeBufferPointer { b -> ThingSetValue? in
                var r = JSONPayloadReader(b, 0..<b.count)
                return try? r.readValue(.f32(decimals: 3))
            }
            #expect(result == nil, "\(text)")
        }
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
