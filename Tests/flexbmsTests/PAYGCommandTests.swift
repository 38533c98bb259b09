import Foundation
import Testing

@Suite struct PAYGCommandTests {
    let identity = ["--key", "a1b2c3d4e5f60718293a4b5c6d7e8f90", "--starting-code", "470158112"]

    func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    @Test func issueThenEnterThenReplay() throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        let issued = try flexbms(["payg", "token"] + identity + ["--count", "1", "--days", "7", "--json"])
        #expect(issued.status == 0, "\(issued.stderr)")
        let token = try json(issued.stdout)
        #expect(token["count"] as? Int == 2 && token["kind"] as? String == "add_time")
        let state = dir.path("customer.json")
        let first = try flexbms(["payg", "device"] + identity + ["--state", state, "--now", "3600", "enter", token["token"] as! String])
        #expect(first.status == 0, "\(first.stderr)")
        let accepted = try json(first.stdout)
        #expect(accepted["result"] as? String == "accepted")
        #expect(accepted["credit_seconds_left"] as? Int == 7 * 86_400)
        // The file remembers: the same token again is used, and the clock stays at 3600 s.
        let again = try json(try flexbms(["payg", "device"] + identity + ["--state", state, "enter", token["token"] as! String]).stdout)
        #expect(again["result"] as? String == "already_used")
        #expect(again["clock_s"] as? Int == 3600)
        // A day later: six days left.
        let status = try json(try flexbms(["payg", "device"] + identity + ["--state", state, "--now", "\(3600 + 86_400)", "status"]).stdout)
        #expect(status["credit_days_left"] as? Double == 6)
    }

    @Test func badInputIsNamedAndTheStateIsKept() throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        let shortKey = try flexbms(["payg", "token", "--key", "abc", "--starting-code", "5", "--count", "1", "--days", "1"])
        #expect(shortKey.status != 0 && shortKey.stderr.contains("32 hex digits"), "\(shortKey.stderr)")
        let tooMany = try flexbms(["payg", "token"] + identity + ["--count", "1", "--days", "1000"])
        #expect(tooMany.status != 0 && tooMany.stderr.contains("at most 995 units"), "\(tooMany.stderr)")
        let two = try flexbms(["payg", "token"] + identity + ["--count", "1", "--set", "--sync"])
        #expect(two.status != 0 && two.stderr.contains("at most one of"), "\(two.stderr)")
        // A damaged state file is refused and left as it is.
        try dir.write("broken.json", "{\"max_count\": -3}")
        let broken = try flexbms(["payg", "device"] + identity + ["--state", dir.path("broken.json"), "status"])
        #expect(broken.status == 2 && broken.stderr.contains("is not a PAYG state file"), "\(broken.stderr)")
        #expect(try dir.read("broken.json") == "{\"max_count\": -3}")
        // The device clock never runs back.
        let state = dir.path("s.json")
        _ = try flexbms(["payg", "device"] + identity + ["--state", state, "--now", "500", "status"])
        let back = try flexbms(["payg", "device"] + identity + ["--state", state, "--now", "100", "status"])
        #expect(back.status == 2 && back.stderr.contains("never runs back"), "\(back.stderr)")
        // A mistyped token is invalid; the third in a row locks entry for two minutes.
        for k in 1...3 {
            let r = try json(try flexbms(["payg", "device"] + identity + ["--state", state, "enter", "12345678\(k)"]).stdout)
            #expect(r["result"] as? String == "invalid")
        }
        let locked = try json(try flexbms(["payg", "device"] + identity + ["--state", state, "enter", "123456789"]).stdout)
        #expect(locked["result"] as? String == "locked_out" && locked["locked_for_s"] as? Int == 120)
    }
}

@Suite struct SimPAYGTests {
    let key = "a1b2c3d4e5f60718293a4b5c6d7e8f90"

    @Test func theVirtualDeviceLocksAndATokenUnlocksIt() throws {
        let issued = try flexbms(["payg", "token", "--key", key, "--starting-code", "470158112", "--count", "1", "--days", "1", "--json"])
        let token = (try JSONSerialization.jsonObject(with: Data(issued.stdout.utf8)) as! [String: Any])["token"] as! String
        let second = try flexbms(["payg", "token", "--key", key, "--starting-code", "470158112", "--count", "2", "--days", "2", "--json"])
        let token2 = (try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as! [String: Any])["token"] as! String
        let r = try flexbms(["sim", "--cells", "4", "--capacity", "50", "--days", "2", "--seed", "4", "--json",
                             "--payg-key", key, "--payg-starting-code", "470158112",
                             "--payg-token", "\(token)@0", "--payg-token", "\(token2)@36h", "--payg-token", "\(token2)@37h"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let events = (object["events"] as! [[String: Any]]).filter { ($0["kind"] as! String).hasPrefix("payg_") }
        let summary = events.map { "\($0["kind"]!)@\(Int(($0["t_s"] as! Double) / 3600))" + (($0["outcome"] as? String).map { ":\($0)" } ?? "") }
        #expect(summary == ["payg_entry@0:accepted", "payg_warning@0", "payg_locked@25", "payg_entry@36:accepted",
                            "payg_unlocked@36", "payg_entry@37:already_used"], "\(summary)")
    }

    @Test func badPAYGOptionsAreNamed() throws {
        let half = try flexbms(["sim", "--days", "0.1", "--payg-key", key])
        #expect(half.status != 0 && half.stderr.contains("both --payg-key and --payg-starting-code"), "\(half.stderr)")
        let bad = try flexbms(["sim", "--days", "0.1", "--payg-key", key, "--payg-starting-code", "5", "--payg-token", "123456789"])
        #expect(bad.status != 0 && bad.stderr.contains("TOKEN@TIME"), "\(bad.stderr)")
    }
}
