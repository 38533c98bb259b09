import BMSCore
import PAYG
import Testing
import ThingSet
@testable import Firmware

@Suite struct ConsoleTests {
    func say(_ text: String, _ console: inout Console, _ n: inout ThingSetNode<BMSObjects>) -> String {
        var line = Array(text.utf8) + [0, 0]
        var out = [UInt8](repeating: 0, count: 1024)
        let count = text.utf8.count
        let k = line.withUnsafeMutableBufferPointer { l in
            out.withUnsafeMutableBufferPointer { o in console.process(l, count: count, node: &n, into: o) }
        }
        return String(decoding: out[0..<k], as: UTF8.self)
    }

    @Test func keypadEntryAndThingSetOnOneConsole() {
        var n = node()
        var console = Console()
        #expect(say("#", &console, &n) == "PAYG: this unit has no pay-as-you-go")
        let chain = TokenChain(key: SipHashKey(k0: 0x0123_4567_89AB_CDEF, k1: 0xFEDC_BA98_7654_3210), startingCode: 123_456_789)
        n.model.payg = PAYGDevice(provisioning: PAYGProvisioning(chain: chain, timeDivider: 1))
        n.model.paygNow = 1000
        #expect(say("#", &console, &n) == "PAYG: no credit left")
        // Two days, typed with spaces as on a receipt.
        let (digits, count) = TokenText.characters(chain.token(value: 2, count: 2), restricted: false)
        var token = ""
        for k in 0..<count { token.append(Character(Unicode.Scalar(digits[k]))); if k == 2 || k == 5 { token += " " } }
        #expect(say("*" + token, &console, &n) == "PAYG: accepted; credit 2 d 0 h left")
        #expect(say("*" + token, &console, &n) == "PAYG: this token was already used; credit 2 d 0 h left")
        #expect(say("*123456789", &console, &n) == "PAYG: not a valid token for this unit")
        #expect(say("*12", &console, &n) == "PAYG: incomplete token (9 digits after *)")
        #expect(say("*12a", &console, &n) == "PAYG: entry cancelled; start again with *")
        #expect(say("#", &console, &n) == "PAYG: credit 2 d 0 h left")
        // Every other line is ThingSet (a plain line gets its CRC), reports get no answer.
        #expect(say("?PAYG/rPaygCreditLeft_s", &console, &n).hasPrefix(":85 172800 "))
        #expect(say(#"#mLive {"Meas":{}}"#, &console, &n) == "")
        var entries: [UInt8] = []
        while let e = n.model.bms.nextEvent() { if e.kind == .paygEntry, let i = e.index { entries.append(i) } }
        #expect(entries == [0, 1, 2])
    }
}
