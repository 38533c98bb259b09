import Foundation
import Testing

@Suite struct SimCommandTests {
    @Test func jsonSummaryHasEveryField() throws {
        let r = try flexbms(["sim", "--cells", "16", "--chemistry", "lfp", "--capacity", "280",
                             "--duration", "6h", "--seed", "3", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        for key in ["simulated_s", "wall_s", "cell_steps_per_s", "min_cell_V", "max_cell_V",
                    "max_cell_temp_C", "energy_charged_Wh", "energy_discharged_Wh", "soc_true_final", "events",
                    "soc_spread_start_pct", "soc_spread_end_pct", "balancing_energy_Wh", "weak_cells", "weak_cell_report"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["simulated_s"] as? Double == 21_600)
        let events = object["events"] as! [[String: Any]]
        #expect(events.first?["kind"] as? String == "state")
    }

    @Test func eventsNameTheFaultInSnakeCaseAndTheCellFromOne() throws {
        let r = try flexbms(["sim", "--cells", "8", "--capacity", "100", "--duration", "2h",
                             "--fault", "open-wire:3@30m", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let trips = (object["events"] as! [[String: Any]]).filter { $0["kind"] as? String == "trip" }
        #expect(trips.count == 1)
        #expect(trips.first?["fault"] as? String == "open_wire")
        #expect(trips.first?["cell"] as? Int == 3)
        let t = trips.first?["t_s"] as? Double ?? 0
        #expect(t >= 1800 && t <= 1802)
    }

    @Test func sameSeedGivesTheSameBytes() throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        for name in ["a", "b", "c"] {
            let seed = name == "c" ? "8" : "7"
            let r = try flexbms(["sim", "--cells", "8", "--capacity", "50", "--spread", "second-life",
                                 "--duration", "12h", "--seed", seed, "--out", dir.path("\(name).csv"),
                                 "--plot", dir.path("\(name).svg")])
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(try dir.read("a.csv") == dir.read("b.csv"))
        #expect(try dir.read("a.svg") == dir.read("b.svg"))
        #expect(try dir.read("a.csv") != dir.read("c.csv"))
    }

    @Test func csvHasAHeaderAndOneRowPerSample() throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        let r = try flexbms(["sim", "--cells", "4", "--capacity", "20", "--duration", "1h",
                             "--sample", "5m", "--out", dir.path("run.csv")])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try dir.read("run.csv").split(separator: "\n")
        #expect(lines.count == 1 + 12)
        #expect(lines[0].hasPrefix("time_s,pack_V,current_A"))
        #expect(lines[0].contains("cell4_V") && !lines[0].contains("cell5_V"))
        #expect(lines[1].hasPrefix("300.0,"))
    }

    @Test func plotIsAnSVGDocument() throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        let r = try flexbms(["sim", "--duration", "3h", "--plot", dir.path("run.svg")])
        #expect(r.status == 0)
        let svg = try dir.read("run.svg")
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.contains("<polyline") && svg.hasSuffix("</svg>\n"))
    }

    @Test func listFaultsNamesThemAll() throws {
        let r = try flexbms(["sim", "--list-faults"])
        #expect(r.status == 0)
        for name in ["charger-overvoltage", "cell-short:CELL", "open-wire:CELL", "thermistor-open:SENSOR",
                     "thermistor-short:SENSOR", "load-short", "overload", "afe-silent",
                     "cold-ambient", "hot-ambient", "cell-leak:CELL"] {
            #expect(r.stdout.contains(name), "\(name)")
        }
    }

    /// (arguments, the error must contain)
    static let badArguments: [([String], String)] = [
        (["--fault", "cell-short@2h"], "cell-short needs the cell number"),
        (["--fault", "cell-short:17@2h"], "cell 17, but the pack has 16 cells"),
        (["--fault", "meltdown@2h"], "unknown fault \"meltdown\""),
        (["--fault", "overload@soon"], "\"soon\" is not a time"),
        (["--fault", "overload:2@1h"], "one pack is simulated"),
        (["--fault", "overload:2:1@1h"], "too many numbers"),
        (["--fault", "thermistor-open:7@1h"], "thermistor 7, but the pack has 6"),
        (["--profile", "beach"], "--profile must be one of offgrid-day"),
        (["--spread", "old"], "--spread must be new or second-life"),
        (["--cells", "2"], "--cells must be 3 to 16"),
        (["--step", "5m"], "--step must be 10ms to 60s"),
        (["--ambient", "warm"], "is not a temperature"),
        (["--days", "1", "--duration", "2h"], "give --days or --duration, not both"),
        (["--initial-soc", "1.5"], "--initial-soc must be 0 to 1"),
        (["--profile-csv", "/nonexistent/profile.csv"], "cannot read /nonexistent/profile.csv"),
        (["--active-balancer", "0"], "--active-balancer must be 0.05 to 10 A per cell, got 0.0"),
        (["--active-balancer", "two"], "active-balancer"),
    ]

    @Test(arguments: 0..<badArguments.count)
    func badArgumentsAreRejectedWithAReason(index: Int) throws {
        let (arguments, message) = Self.badArguments[index]
        let r = try flexbms(["sim", "--duration", "1m"] + arguments)
        #expect(r.status != 0)
        #expect(r.stderr.contains(message), "\(r.stderr)")
    }

    @Test func recordedProfileDrivesTheRun() throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        // 200 W out for an hour, then 300 W in for an hour (linear ramp in the second between).
        try dir.write("p.csv", "time_s,power_W\n0,-200\n3600,-200\n3601,300\n7200,300\n")
        let r = try flexbms(["sim", "--cells", "4", "--capacity", "100", "--duration", "2h",
                             "--profile-csv", dir.path("p.csv"), "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let out = object["energy_discharged_Wh"] as! Double, into = object["energy_charged_Wh"] as! Double
        #expect(abs(out - 200) < 2)
        #expect(abs(into - 300) < 3)
        try dir.write("bad.csv", "time_s,power_W\n0,-500\n0,300\n")
        let bad = try flexbms(["sim", "--duration", "1h", "--profile-csv", dir.path("bad.csv")])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("line 3: time_s 0.0 does not increase"))
    }

    @Test func benchPrintsJSON() throws {
        let r = try flexbms(["bench", "sim", "--days", "1", "--cells", "4", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(object["steps"] as? Int == 86_400)
        #expect((object["cell_steps_per_s"] as? Double ?? 0) > 0)
        #expect(object["year_wall_s_extrapolated"] != nil)
    }
}

@Suite struct BenchCoreTests {
    @Test func benchThingSetPrintsRequestsPerSecondAndLatency() throws {
        let r = try flexbms(["bench", "thingset", "--requests", "200", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(object["requests"] as? Int == 200)
        let p50 = try #require(object["p50_us"] as? Double), p99 = try #require(object["p99_us"] as? Double)
        #expect(p50 > 0 && p99 >= p50 && (object["requests_per_s"] as? Double ?? 0) > 0)
    }

    @Test func benchCorePrintsTheCostOfAStep() throws {
        let r = try flexbms(["bench", "core", "--steps", "20000", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        #expect(object["steps"] as? Int == 20_000)
        #expect((object["ns_per_step"] as? Double ?? 0) > 0)
        let bad = try flexbms(["bench", "core", "--steps", "5"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--steps must be 1000 to 100000000"))
    }
}

@Suite struct SimConfigurationTests {
    @Test func testInstrumentsStayBelowTheProtection() throws {
        // The default 280 Ah pack behind a 100 A board: the 0.5 C charger is capped at
        // 80 A and the constant load at 80 A at the cutoff voltage, so neither trips.
        for profile in ["cccv-charge", "constant-discharge"] {
            let r = try flexbms(["sim", "--profile", profile, "--duration", "2h", "--json"])
            #expect(r.status == 0, "\(r.stderr)")
            let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
            let trips = (object["events"] as! [[String: Any]]).filter {
                $0["kind"] as? String == "trip" && ($0["fault"] as? String ?? "").hasSuffix("overcurrent")
            }
            #expect(trips.isEmpty, "\(profile): \(trips)")
        }
    }

    @Test func aConfigurationFileMustMatchThePack() throws {
        let dir = try Scratch()
        defer { dir.cleanup() }
        _ = try flexbms(["config", "show", "--chemistry", "lfp", "--cells", "8", "--capacity", "50",
                         "--parallel", "2", "--out", dir.path("pack.json")])
        let mismatch = try flexbms(["sim", "--config", dir.path("pack.json"), "--capacity", "60", "--duration", "1h"])
        #expect(mismatch.status == 1)
        #expect(mismatch.stderr.contains("the configuration is for 50 Ah, --capacity says 60 Ah"))
        #expect(!mismatch.stderr.contains("USAGE"))
        let cells = try flexbms(["sim", "--config", dir.path("pack.json"), "--cells", "16", "--duration", "1h"])
        #expect(cells.status == 1)
        #expect(cells.stderr.contains("the configuration is for 8 LFP cells"))
        let ok = try flexbms(["sim", "--config", dir.path("pack.json"), "--duration", "1h", "--json"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(ok.stdout.utf8)) as! [String: Any]
        #expect(object["cells"] as? Int == 8)
        #expect(object["capacity_Ah"] as? Double == 50)
    }

    @Test func summaryReportsTheBMSEstimate() throws {
        let r = try flexbms(["sim", "--cells", "8", "--chemistry", "nmc", "--capacity", "100",
                             "--duration", "12h", "--seed", "3", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let estimate = object["soc_est_final"] as! Double, truth = object["soc_true_final"] as! Double
        #expect(abs(estimate - truth) < 0.03)
        #expect((object["soc_est_rmse_pct"] as! Double) < 2)
    }
}
