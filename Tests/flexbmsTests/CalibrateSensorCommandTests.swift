import Foundation
import Testing

@Suite struct CalibrateSensorCommandTests {
    func device(_ dir: Scratch) throws {
        try dir.write("dev.json", #"{"sCellChemistry":"LFP","sSeriesCellCount":16,"sNominalCapacity_Ah":100}"#)
    }

    @Test func currentCellsAndTemperaturesAreWrittenIntoTheDeviceFile() throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        try device(dir)
        // A shunt reading 1 % low with 0.2 A of offset: shown = 0.99·I + 0.2.
        try dir.write("current.csv", "bms_A,reference_A\n0.2,0\n20,20\n-19.6,-20\n")
        var r = try flexbms(["calibrate", "current", "--config", dir.path("dev.json"), "--readings", dir.path("current.csv")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("current: gain 1.00000 → 1.01010, offset 0.0000 → 0.2000 A (gain and offset"))
        var file = try dir.read("dev.json")
        #expect(file.contains("\"pCurrentGain\": 1.0101"))
        #expect(file.contains("\"pCurrentOffset_A\": 0.2"))

        try dir.write("cells.csv", "cell,bms_V,reference_V\n2,3.312,3.300\n5,2.810,2.800\n5,3.420,3.400\n")
        r = try flexbms(["calibrate", "cells", "--config", dir.path("dev.json"), "--readings", dir.path("cells.csv")])
        #expect(r.status == 0, "\(r.stderr)")
        file = try dir.read("dev.json")
        let gains = try #require(file.split(separator: "\n").first { $0.contains("pCellVoltageGain") })
        let offsets = try #require(file.split(separator: "\n").first { $0.contains("pCellVoltageOffset_V") })
        // Cell 5: 0.61 V shown for 0.60 V true → gain 0.98361, offset 2.810 − 2.800/0.98361.
        #expect(gains.contains("[1, 1, 1, 1, 0.9836"))
        #expect(offsets.contains("[0, 0.012, 0, 0, -0.036"))

        try dir.write("temps.csv", "sensor,bms_degC,reference_degC\n3,26.1,25.0\n3,25.9,25.0\n")
        r = try flexbms(["calibrate", "temperatures", "--config", dir.path("dev.json"), "--readings", dir.path("temps.csv")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try dir.read("dev.json").contains("\"pThermistorOffset_K\": [0, 0, 1, 0, 0, 0, 0, 0]"))
        let check = try flexbms(["config", "check", dir.path("dev.json")])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
    }

    @Test func badReadingsLeaveTheFileAsItWas() throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        try device(dir)
        let before = try dir.read("dev.json")
        // A cell the pack does not have.
        try dir.write("cells.csv", "cell,bms_V,reference_V\n17,3.3,3.3\n")
        var r = try flexbms(["calibrate", "cells", "--config", dir.path("dev.json"), "--readings", dir.path("cells.csv")])
        #expect(r.status == 2 && r.stderr.contains("line 2: cell 17 does not exist (1…16)"))
        // A gain no working board has (a 2/3 reading): the whole result is refused.
        try dir.write("current.csv", "bms_A,reference_A\n30,20\n")
        r = try flexbms(["calibrate", "current", "--config", dir.path("dev.json"), "--readings", dir.path("current.csv")])
        #expect(r.status == 1 && r.stderr.contains("pCurrentGain = 0.666") && r.stderr.contains("0.8…1.2"))
        // Two points too close together.
        try dir.write("close.csv", "bms_A,reference_A\n0.2,0\n1.2,1\n")
        r = try flexbms(["calibrate", "current", "--config", dir.path("dev.json"), "--readings", dir.path("close.csv")])
        #expect(r.status == 2 && r.stderr.contains("the references span 1 A, at least 10 A is needed"))
        // A missing column.
        try dir.write("nocol.csv", "bms,reference_A\n0.2,0\n")
        r = try flexbms(["calibrate", "current", "--config", dir.path("dev.json"), "--readings", dir.path("nocol.csv")])
        #expect(r.status == 2 && r.stderr.contains("has no column bms_A"))
        #expect(try dir.read("dev.json") == before)
    }
}
