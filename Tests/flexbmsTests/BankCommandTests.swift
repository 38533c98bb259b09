import Foundation
import Testing

@Suite struct BankCommandTests {
    @Test func aBankRunSummarisesEveryPack() throws {
        let r = try flexbms(["sim", "--packs", "2", "--cells", "16", "--capacity", "100", "--duration", "10m",
                             "--pack-capacity", "100,50", "--pack-spread", "new,second-life", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(object["packs_count"] as? Int == 2)
        let packs = object["packs"] as! [[String: Any]]
        #expect(packs.map { $0["capacity_Ah"] as? Double } == [100, 50])
        #expect(packs.map { $0["spread"] as? String } == ["new", "second-life"])
        #expect((object["leaders"] as! [[String: Any]]).first?["pack"] as? Int == 1)
        let events = object["events"] as! [[String: Any]]
        #expect(events.allSatisfy { $0["pack"] is Int })
        #expect(events.contains { $0["kind"] as? String == "pack_joined" && $0["about_pack"] as? Int == 2 })
    }

    @Test func badBankOptionsAreNamed() throws {
        func fails(_ args: [String], _ message: String) throws {
            let r = try flexbms(["sim", "--duration", "10m"] + args)
            #expect(r.status != 0 && r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        try fails(["--packs", "9"], "--packs must be 1 to 8, got 9")
        try fails(["--packs", "3", "--pack-capacity", "100,100"], "--pack-capacity needs 3 comma-separated values (one per pack), got 2")
        try fails(["--packs", "3", "--pack-spread", "new,old,new"], "--pack-spread: \"old\" is not valid")
        try fails(["--packs", "3", "--fault", "cell-short:4:7@1h"], "pack 4, but 3 packs are simulated")
        try fails(["--fault", "can-silent:1@1h"], "can-silent needs --packs 2 or more")
        try fails(["--packs", "2", "--out", "x.csv"], "--out and --plot are for single-pack runs")
        try fails(["--packs", "2", "--bank-policy", "loose"], "--bank-policy must be strict or lenient, got loose")
        try fails(["--pack-soc", "0.5,0.6"], "--pack-capacity, --pack-spread and --pack-soc need --packs 2 or more")
        try fails(["--packs", "2", "--join-difference", "0"], "--join-difference must be 0.05 to 10 V, got 0.0")
    }
}
