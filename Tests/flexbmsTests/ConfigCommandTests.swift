import Foundation
import Testing

@Suite struct ConfigCommandTests {
    @Test(arguments: ["lfp", "nmc", "nca", "lto"], [4, 8, 15, 16])
    func checkAcceptsEveryPreset(chemistry: String, cells: Int) throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        let show = try flexbms(["config", "show", "--chemistry", chemistry, "--cells", "\(cells)",
                                "--capacity", "280", "--out", dir.path("pack.json")])
        #expect(show.status == 0, "\(show.stderr)")
        let check = try flexbms(["config", "check", dir.path("pack.json")])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdout.contains("valid (\(chemistry.uppercased()), \(cells) cells, 280 Ah"))
    }

    @Test func showPrintsTheReferenceNamesAndValues() throws {
        let result = try flexbms(["config", "show", "--chemistry", "lfp", "--cells", "16"])
        #expect(result.status == 0)
        #expect(result.stdout.contains(#""sCellOvervoltage_V": 3.8,"#))
        #expect(result.stdout.contains(#""sCellChemistry": "LFP","#))
        #expect(result.stdout.contains(#""sShortCircuitLimit_A": 200,"#))
        #expect(result.stdout.hasPrefix("{\n") && result.stdout.hasSuffix("}\n"))
    }

    @Test func checkRejectsOutOfOrderThresholdsListingEachViolation() throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        try dir.write("bad.json", """
            {"sCellChemistry": "LFP", "sSeriesCellCount": 16, "sNominalCapacity_Ah": 100,
             "sCellOvervoltage_V": 3.50, "sCellOvervoltageReset_V": 3.60,
             "sCellUndervoltage_V": 2.90, "sChgMinTemp_degC": 50}
            """)
        let result = try flexbms(["config", "check", dir.path("bad.json")])
        #expect(result.status == 1)
        let expected = [
            "sCellUndervoltage_V = 2.9 must be below sCellDischargeCutoff_V = 2.8",
            "sCellChargeVoltage_V = 3.55 must be below sCellOvervoltage_V = 3.5",
            "sCellOvervoltageReset_V = 3.6 must be below sCellOvervoltage_V = 3.5",
            "sChgMaxTemp_degC = 45: temperature window must be wider than twice the hysteresis",
        ]
        for line in expected { #expect(result.stderr.contains(line), "missing: \(line)\n\(result.stderr)") }
        #expect(result.stderr.contains("bad.json: invalid"))
    }

    @Test func checkReportsUnreadableFilesWithExitTwo() throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        try dir.write("typo.json", #"{"sCellChemistry": "LFP", "sSeriesCells": 16}"#)
        let result = try flexbms(["config", "check", dir.path("typo.json"), dir.path("missing.json")])
        #expect(result.status == 2)
        #expect(result.stderr.contains("unknown setting \"sSeriesCells\""))
        #expect(result.stderr.contains("missing.json: cannot read"))
    }

    @Test func setChangesAValidFileAndRefusesAnInvalidResultLeavingTheFileAlone() throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        let file = dir.path("pack.json")
        _ = try flexbms(["config", "show", "--chemistry", "lfp", "--cells", "16", "--out", file])
        let ok = try flexbms(["config", "set", file, "sCellChargeVoltage_V=3.50", "sBalIdleDelay_s=600"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let afterOK = try dir.read("pack.json")
        #expect(afterOK.contains(#""sCellChargeVoltage_V": 3.5,"#))
        #expect(afterOK.contains(#""sBalIdleDelay_s": 600,"#))

        let bad = try flexbms(["config", "set", file, "sCellOvervoltageReset_V=3.9"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("sCellOvervoltageReset_V = 3.9 must be below sCellOvervoltage_V = 3.8"))
        #expect(try dir.read("pack.json") == afterOK)

        let typo = try flexbms(["config", "set", file, "sCellOvervoltage=3.7"])
        #expect(typo.status == 2)
        #expect(typo.stderr.contains("did you mean \"sCellOvervoltage_V\""))
        #expect(try dir.read("pack.json") == afterOK)
    }

    @Test func showRejectsBadArgumentsBeforeRunning() throws {
        let cells = try flexbms(["config", "show", "--chemistry", "lfp", "--cells", "17"])
        #expect(cells.status != 0)
        #expect(cells.stderr.contains("--cells must be 3 to 16, got 17"))
        let chemistry = try flexbms(["config", "show", "--chemistry", "lipo", "--cells", "4"])
        #expect(chemistry.status != 0)
        #expect(chemistry.stderr.contains("lfp") && chemistry.stderr.contains("lto"))
        let capacity = try flexbms(["config", "show", "--chemistry", "lfp", "--cells", "4", "--capacity", "nan"])
        #expect(capacity.status != 0)
    }
}
