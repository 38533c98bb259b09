import Foundation
import Testing

/// The shared ground-truth data (../shared/data/soc), found from this file's location.
func sharedData(_ name: String) -> String {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }       // Tests/flexbmsTests/<file> → repo root
    return url.deletingLastPathComponent().appendingPathComponent("shared/data/soc/\(name)").path
}

@Suite struct EstimationCommandTests {
    @Test(arguments: [("lfp_prada2013_ocv_c20_10s.csv", 3.266, 0.010), ("nmc_chen2020_ocv_c20_10s.csv", 3.751, 0.010)])
    func calibrateOCVRecoversTheCurveFromAC20Record(file: String, ocvAt50: Double, tolerance: Double) throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        let r = try flexbms(["calibrate", "ocv", "--data", sharedData(file), "--discharge-positive",
                             "--out", dir.path("ocv.csv")])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try dir.read("ocv.csv").split(separator: "\n")
        #expect(lines.count == 22)
        #expect(lines[0] == "soc_pct,ocv_V")
        let mid = lines[11].split(separator: ",")
        #expect(mid[0] == "50")
        // The physics model's OCV at 50 % (its ocv_true_V column, not read by the command).
        #expect(abs(Double(mid[1])! - ocvAt50) < tolerance)
    }

    @Test func calibrateOCVWritesTheTableIntoAConfigFile() throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        _ = try flexbms(["config", "show", "--chemistry", "nmc", "--cells", "4", "--capacity", "5",
                         "--out", dir.path("pack.json")])
        let r = try flexbms(["calibrate", "ocv", "--data", sharedData("nmc_chen2020_ocv_c20_10s.csv"),
                             "--discharge-positive", "--config", dir.path("pack.json")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("sOcvPoints_V in"), "\(r.stdout)")
        let object = try JSONSerialization.jsonObject(with: Data(try dir.read("pack.json").utf8)) as! [String: Any]
        let table = object["sOcvPoints_V"] as! [Double]
        #expect(table.count == 21 && table[0] > 4.1 && table[20] < 2.6)
        let check = try flexbms(["config", "check", dir.path("pack.json")])
        #expect(check.status == 0, "\(check.stderr)")
        // A file that is invalid on its own is left as it was.
        try dir.write("broken.json", "{\"sCellChemistry\": \"NMC\", \"sSeriesCellCount\": 4, \"sNominalCapacity_Ah\": 5, \"sCellOvervoltage_V\": 9}")
        let before = try dir.read("broken.json")
        let refused = try flexbms(["calibrate", "ocv", "--data", sharedData("nmc_chen2020_ocv_c20_10s.csv"),
                                   "--discharge-positive", "--config", dir.path("broken.json")])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("not changed"), "\(refused.stderr)")
        #expect(try dir.read("broken.json") == before)
    }

    @Test func calibrateModelFromTheVirtualPacksPulseTest() throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        let sim = try flexbms(["sim", "--cells", "4", "--chemistry", "nmc", "--capacity", "50", "--profile", "pulse-test",
                               "--initial-soc", "0.95", "--duration", "4h", "--sample", "1s", "--out", dir.path("pulses.csv")])
        #expect(sim.status == 0, "\(sim.stderr)")
        _ = try flexbms(["config", "show", "--chemistry", "nmc", "--cells", "4", "--capacity", "50", "--out", dir.path("pack.json")])
        let r = try flexbms(["calibrate", "model", "--data", dir.path("pulses.csv"), "--capacity", "50",
                             "--current-column", "current_A", "--voltage-column", "cell1_V",
                             "--config", dir.path("pack.json"), "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let model = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect((model["pulses"] as! [Any]).count == 3)
        // The NMC cell model of the virtual pack: R0 17.1 mΩ at 5 Ah, so about 1.7 mΩ at
        // 50 Ah (± the 5 % spread of new cells); τ1 21 s, τ2 206 s.
        let r0 = model["r0_ohm"] as! Double, tau1 = model["tau1_s"] as! Double, tau2 = model["tau2_s"] as! Double
        #expect(r0 > 0.00155 && r0 < 0.00185, "\(r0)")
        #expect(abs(tau1 / 21 - 1) < 0.1 && abs(tau2 / 206 - 1) < 0.1, "\(tau1) \(tau2)")
        let config = try JSONSerialization.jsonObject(with: Data(try dir.read("pack.json").utf8)) as! [String: Any]
        #expect(abs((config["sCellR0_mOhm"] as! Double) - r0 * 1000) < 0.001)
        #expect(try flexbms(["config", "check", dir.path("pack.json")]).status == 0)
        // The same circuit drives bench soc; a file that is not one is named.
        try dir.write("model.json", r.stdout)
        try dir.write("bad.json", "{\"r0_ohm\": -1}")
        let args = ["bench", "soc", "--data", sharedData("lfp_prada2013_offgrid_48h_10s.csv"), "--chemistry", "lfp",
                    "--capacity", "2.3", "--discharge-positive", "--json", "--model"]
        #expect(try flexbms(args + [dir.path("model.json")]).status == 0)
        let bad = try flexbms(args + [dir.path("bad.json")])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("r0_ohm must be a positive number"), "\(bad.stderr)")
    }

    @Test func benchSOCMeetsTheNMCTargets() throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        _ = try flexbms(["calibrate", "ocv", "--data", sharedData("nmc_chen2020_ocv_c20_10s.csv"),
                         "--discharge-positive", "--out", dir.path("ocv.csv")])
        let r = try flexbms(["bench", "soc", "--data", sharedData("nmc_chen2020_offgrid_48h_10s.csv"),
                             "--chemistry", "nmc", "--capacity", "5.0", "--ocv", dir.path("ocv.csv"),
                             "--discharge-positive", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let estimator = object["estimator"] as! [String: Any], baseline = object["baseline"] as! [String: Any]
        // The NMC targets: RMSE ≤ 1 %, max ≤ 3 %, 5 × below the baseline.
        let rmse = estimator["rmse_pct"] as! Double
        #expect(rmse <= 1)
        #expect((estimator["max_abs_pct"] as! Double) <= 3)
        #expect((baseline["rmse_pct"] as! Double) >= 5 * rmse)
        #expect((object["capacity_samples"] as! Int) >= 1)
    }

    @Test func benchSOCScoresEstimatorAndBaseline() throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        _ = try flexbms(["calibrate", "ocv", "--data", sharedData("lfp_prada2013_ocv_c20_10s.csv"),
                         "--discharge-positive", "--out", dir.path("ocv.csv")])
        let r = try flexbms(["bench", "soc", "--data", sharedData("lfp_prada2013_offgrid_48h_10s.csv"),
                             "--chemistry", "lfp", "--capacity", "2.3", "--ocv", dir.path("ocv.csv"),
                             "--discharge-positive", "--json", "--trace", dir.path("trace.csv")])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let estimator = object["estimator"] as! [String: Any], baseline = object["baseline"] as! [String: Any]
        for key in ["rmse_pct", "max_abs_pct", "final_abs_pct", "convergence_s"] {
            #expect(estimator[key] != nil && baseline[key] != nil, "\(key)")
        }
        // The LFP targets: RMSE ≤ 2 %, max ≤ 5 %, 5 × below the baseline.
        let rmse = estimator["rmse_pct"] as! Double
        #expect(rmse <= 2)
        #expect((estimator["max_abs_pct"] as! Double) <= 5)
        #expect((baseline["rmse_pct"] as! Double) >= 5 * rmse)
        let trace = try dir.read("trace.csv").split(separator: "\n")
        #expect(trace.count == 17_282)
    }

    @Test func badInputsAreNamed() throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        try dir.write("short.csv", "time_s,current_meas_A,voltage_meas_V\r\n0,1,3.3\r\n10,1,3.2\r\n")
        let short = try flexbms(["calibrate", "ocv", "--data", dir.path("short.csv")])
        #expect(short.status == 2)
        #expect(short.stderr.contains("no discharge branch") || short.stderr.contains("too short"), "\(short.stderr)")
        try dir.write("bad.csv", "# comment\ntime_s,current_meas_A,voltage_meas_V\n0,1,3.3\n\n10,x,3.2\n")
        let bad = try flexbms(["calibrate", "ocv", "--data", dir.path("bad.csv")])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("line 5: current_meas_A is not a number: \"x\""), "\(bad.stderr)")
        let missing = try flexbms(["bench", "soc", "--data", dir.path("short.csv"), "--chemistry", "lfp",
                                   "--capacity", "2"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("has no column temperature_C"))
        try dir.write("ocv.csv", "soc_pct,ocv_V\n0,3.0\n50,3.3\n100,3.4\n")
        let ocv = try flexbms(["bench", "soc", "--data", dir.path("short.csv"), "--chemistry", "lfp",
                               "--capacity", "2", "--ocv", dir.path("ocv.csv")])
        #expect(ocv.status == 2)
        #expect(ocv.stderr.contains("needs 21 rows"))
    }
}
