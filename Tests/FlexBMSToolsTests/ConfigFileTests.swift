import BMSCore
import Foundation
import Testing
@testable import FlexBMSTools

@Suite struct ConfigFileTests {
    func decode(_ json: String) throws(ConfigFileError) -> DecodedConfig {
        try ConfigFile.decode(Data(json.utf8))
    }

    @Test(arguments: [Chemistry.lfp, .nmc, .nca, .lto])
    func encodedPresetDecodesToTheSameValues(_ chemistry: Chemistry) throws {
        let config = BMSConfig.preset(chemistry, cells: 15, capacityAh: 280, parallelCells: 2)!
        let decoded = try decode(ConfigFile.encode(config))
        #expect(decoded.fromPreset.isEmpty)
        for field in ConfigField.all {
            #expect(decoded.config.value(of: field) == config.value(of: field), "\(field.name)")
        }
    }

    @Test func theCalibrationArraysRoundTripAndAreCheckedForLength() throws {
        var config = BMSConfig.preset(.lfp, cells: 16, capacityAh: 100)!
        config.calibration.currentGain = 1.01
        config.calibration.cellOffset[15] = -0.004
        config.calibration.temperatureOffset[7] = 1.5
        let text = ConfigFile.encode(config)
        #expect(text.contains("\"pThermistorOffset_K\": [0, 0, 0, 0, 0, 0, 0, 1.5]"))
        let back = try decode(text).config
        #expect(back.calibration.currentGain == 1.01 && back.calibration.cellOffset[15] == -0.004
                && back.calibration.temperatureOffset[7] == 1.5)
        // One element by name; a wrong length names the array, the shape and what came.
        try ConfigFile.set("pCellVoltageGain[3]", text: "1.002", in: &config)
        #expect(config.calibration.cellGain[3] == 1.002 && config.calibration.cellGain[2] == 1)
        #expect(throws: ConfigFileError.wrongType(key: "pCellVoltageGain", expected: "an array of 16 gains, cell 1 first",
                                                  got: "an array of 3")) {
            try decode(#"{"sCellChemistry":"LFP","sSeriesCellCount":16,"sNominalCapacity_Ah":100,"pCellVoltageGain":[1,1,1]}"#)
        }
        #expect(throws: ConfigFileError.wrongType(key: "pThermistorOffset_K", expected: "an array of 8 offsets in kelvin, sensor 1 first",
                                                  got: "null")) {
            try decode(#"{"sCellChemistry":"LFP","sSeriesCellCount":16,"sNominalCapacity_Ah":100,"pThermistorOffset_K":null}"#)
        }
    }

    @Test func theOCVTableIsOneArrayFromFullToEmpty() throws {
        var config = BMSConfig.preset(.lfp, cells: 8, capacityAh: 100)!
        #expect(!ConfigFile.encode(config).contains("sOcvPoints_V"))
        config.setOCVTable(OCVCurve.preset(.lfp)!)
        let text = ConfigFile.encode(config)
        #expect(text.contains("\"sOcvPoints_V\": [3.392, 3.314,"))
        let back = try ConfigFile.decode(Data(text.utf8)).config
        #expect(back.ocvCurve == OCVCurve.preset(.lfp)!)
        // One point by name, and the whole table from a command line.
        try ConfigFile.set("sOcvPoints_V[20]", text: "2.9", in: &config)
        #expect(config.ocvPoints[20] == 2.9)
        try ConfigFile.set("sOcvPoints_V", text: "null", in: &config)
        #expect(!config.hasOCVTable)
        #expect(throws: ConfigFileError.self) { try ConfigFile.set("sOcvPoints_V", text: "[3.3, 3.2]", in: &config) }
        #expect(throws: ConfigFileError.self) {
            try ConfigFile.decode(Data(#"{"sCellChemistry": "LFP", "sSeriesCellCount": 8, "sNominalCapacity_Ah": 100, "sOcvPoints_V": "flat"}"#.utf8))
        }
    }

    @Test func partialFileTakesTheRestFromThePreset() throws {
        let decoded = try decode("""
            {"sCellChemistry": "nmc", "sSeriesCellCount": 14, "sNominalCapacity_Ah": 50,
             "sCellOvervoltage_V": 4.22}
            """)
        #expect(decoded.config.pack.chemistry == .nmc)
        #expect(decoded.config.cellVoltage.overvoltage == 4.22)
        #expect(decoded.config.cellVoltage.chargeTarget == 4.20)      // from the preset
        #expect(decoded.config.current.dischargeOvercurrent == 50)    // 1 C
        // Every plain and per-fault field but the four given; the OCV table and the
        // calibration are not preset values (absent means none and identity).
        #expect(decoded.fromPreset.count == ConfigField.all.count - 21 - 42 - 4)
        #expect(decoded.config.calibration.currentGain == 1 && decoded.config.calibration.cellOffset[15] == 0)
        #expect(!decoded.config.hasOCVTable)
    }

    @Test func boardMaximumInTheFileShapesThePreset() throws {
        let decoded = try decode("""
            {"sCellChemistry": "LFP", "sSeriesCellCount": 8, "sNominalCapacity_Ah": 200,
             "sBoardMaxCurrent_A": 50}
            """)
        #expect(decoded.config.current.dischargeOvercurrent == 50)
        #expect(decoded.config.validate().isEmpty)
    }

    @Test func customChemistryNeedsEveryKey() {
        #expect(throws: ConfigFileError.self) {
            _ = try decode(#"{"sCellChemistry": "custom", "sSeriesCellCount": 8}"#)
        }
        // …and a complete custom file is fine.
        var full = BMSConfig.preset(.lfp, cells: 8, capacityAh: 100)!
        full.pack.chemistry = .custom
        full.cellVoltage.overvoltage = 3.70
        let decoded = try? decode(ConfigFile.encode(full))
        #expect(decoded?.config.pack.chemistry == .custom)
        #expect(decoded?.config.cellVoltage.overvoltage == 3.70)
    }

    /// (file, the message must contain)
    static let badFiles: [(String, String)] = [
        ("", "not valid JSON"),
        ("{", "not valid JSON"),
        ("[1, 2]", "one JSON object"),
        (#"{"sCellChemistry": "LFP", "sSeriesCellCount": 16}"#, "missing sNominalCapacity_Ah"),
        (#"{"sSeriesCellCount": 16, "sNominalCapacity_Ah": 100}"#, "missing sCellChemistry"),
        (#"{"sCellChemistry": "LiPo", "sSeriesCellCount": 16, "sNominalCapacity_Ah": 100}"#, "unknown chemistry \"LiPo\""),
        (#"{"sCellChemistry": "LFP", "sSeriesCellCount": 16, "sNominalCapacity_Ah": 100, "sCellOvervoltag_V": 3.6}"#,
         "did you mean \"sCellOvervoltage_V\""),
        (#"{"sCellChemistry": "LFP", "sSeriesCellCount": 16, "sNominalCapacity_Ah": 100, "sCellOvervoltage_V": "3.6"}"#,
         "sCellOvervoltage_V: expected a number, got the string \"3.6\""),
        (#"{"sCellChemistry": "LFP", "sSeriesCellCount": 16.5, "sNominalCapacity_Ah": 100}"#,
         "sSeriesCellCount: 16.5 is not a whole number from 0 to 255"),
        (#"{"sCellChemistry": "LFP", "sSeriesCellCount": 300, "sNominalCapacity_Ah": 100}"#,
         "sSeriesCellCount: 300 is not a whole number"),
        (#"{"sCellChemistry": "LFP", "sSeriesCellCount": 16, "sNominalCapacity_Ah": 100, "wChgEnable": 1}"#,
         "wChgEnable: expected true or false, got 1"),
        (#"{"sCellChemistry": "LFP", "sSeriesCellCount": 16, "sNominalCapacity_Ah": 100, "sCellOvervoltageDelay_ms": -5}"#,
         "sCellOvervoltageDelay_ms: -5 is not a whole number"),
        (#"{"sCellChemistry": "LFP", "sSeriesCellCount": 16, "sNominalCapacity_Ah": 1e40}"#,
         "sNominalCapacity_Ah"),
        (#"{"sCellChemistry": "LFP", "sSeriesCellCount": 16, "sNominalCapacity_Ah": 100, "sChgOvercurrent_A": null}"#,
         "sChgOvercurrent_A: expected a number, got null"),
    ]

    @Test(arguments: 0..<badFiles.count)
    func badFileIsRejectedWithAMessageNamingWhatIsWrong(index: Int) {
        let (json, message) = Self.badFiles[index]
        do {
            _ = try decode(json)
            Issue.record("accepted: \(json)")
        } catch {
            #expect(error.description.contains(message), "\(error.description)")
        }
    }

    @Test func violationsReadAsSentences() throws {
        var config = BMSConfig.preset(.lfp, cells: 16, capacityAh: 100)!
        config.cellVoltage.overvoltageReset = 3.9
        config.pack.seriesCells = 20
        config.current.chargeOvercurrent = 150
        let lines = Array(config.validate()).map(\.description)
        #expect(lines.contains("sCellOvervoltageReset_V = 3.9 must be below sCellOvervoltage_V = 3.8"))
        #expect(lines.contains("sSeriesCellCount = 20 is outside the allowed range 3…16"))
        #expect(lines.contains("sChgOvercurrent_A = 150: over-current limit exceeds what the board carries (sBoardMaxCurrent_A: 100)"))
    }

    @Test func setFromTextChecksNameAndKind() throws {
        var config = BMSConfig.preset(.lfp, cells: 16, capacityAh: 100)!
        try ConfigFile.set("sCellOvervoltage_V", text: "3.65", in: &config)
        try ConfigFile.set("sCellChemistry", text: "nca", in: &config)
        try ConfigFile.set("wDisEnable", text: "false", in: &config)
        #expect(config.cellVoltage.overvoltage == 3.65)
        #expect(config.pack.chemistry == .nca)
        #expect(config.inputs.dischargeEnable == false)
        #expect(throws: ConfigFileError.self) { try ConfigFile.set("sCellOvervoltage_V", text: "high", in: &config) }
        #expect(throws: ConfigFileError.self) { try ConfigFile.set("sNoSuchThing", text: "1", in: &config) }
        #expect(config.cellVoltage.overvoltage == 3.65)
    }

    @Test func writeIsAtomicAndReadable() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flexbms-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("pack.json").path
        let config = BMSConfig.preset(.lto, cells: 10, capacityAh: 40)!
        try ConfigFile.write(config, to: path)
        let back = try ConfigFile.read(path: path)
        #expect(back.config.cellVoltage.overvoltage == 2.85)
        #expect(throws: ConfigFileError.self) { _ = try ConfigFile.read(path: dir.appendingPathComponent("none.json").path) }
        #expect(throws: ConfigFileError.self) { try ConfigFile.write(config, to: dir.appendingPathComponent("no/such/dir.json").path) }
    }
}

@Suite struct NumericTableTests {
    @Test func textColumnsAreFineUntilAskedFor() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flexbms-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.csv").path
        try Data("# a note\ntime_s,power_W,comment\n0,-100,night\n\n60,200,sun up\n".utf8)
            .write(to: URL(fileURLWithPath: path))
        let table = try NumericTable(path: path)
        #expect(try table.values("time_s") == [0, 60])
        #expect(table.lineNumbers == [3, 5])
        do {
            _ = try table.values("comment")
            Issue.record("a text column was accepted as numbers")
        } catch {
            #expect(error.description.contains("line 3: comment is not a number: \"night\""), "\(error)")
        }
    }
}
