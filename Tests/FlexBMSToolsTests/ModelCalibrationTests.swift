import BMSCore
import Foundation
import PackSim
import Testing
@testable import FlexBMSTools

@Suite struct ModelCalibrationTests {
    /// Writes `rows` as a CSV in a fresh temporary directory and returns its path.
    func csv(_ header: String, _ rows: [String]) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("flexbms-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("pulses.csv").path
        try ([header] + rows).joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The virtual pack's pulse test on a second-life NMC pack (resistances ±40 % cell to
    /// cell): what the BMS's sensors read of cell 3 gives back that group's own R0, R1, τ1,
    /// R2, τ2.
    @Test func aPulseTestOnTheVirtualPackGivesBackItsCircuit() throws {
        var setup = SimulationSetup(chemistry: .nmc, cells: 4, capacityAh: 50)
        setup.spread = .secondLife
        setup.seed = 21
        setup.initialSOC = 0.95
        let profile = StandardProfile(.pulseTest, config: setup.bmsConfig!, seed: 21)
        var sim = try Simulation(setup: setup, profile: profile)
        var rows: [String] = []
        for _ in 0..<(7 * 3600) {
            let r = sim.step()
            let m = r.measurement
            rows.append("\(Double(r.time.milliseconds) / 1000),\(m.current),\(m.cellVoltages[3]),25")
        }
        let path = try csv("time_s,current_meas_A,voltage_meas_V,temperature_C", rows)
        let result = try ModelCalibration.identify(NumericTable(path: path), capacityAh: 50,
                                                   currentColumn: "current_meas_A", voltageColumn: "voltage_meas_V",
                                                   currentPositiveDischarge: false)
        let g = sim.pack.groups[3]
        #expect(result.pulses.count == 6)           // the first has no rest before it
        func near(_ x: Double, _ truth: Float, _ tolerance: Double) -> Bool { abs(x / Double(truth) - 1) <= tolerance }
        #expect(near(result.r0, g.r0, 0.05), "R0 \(result.r0) vs \(g.r0)")
        #expect(near(result.r1, g.r1, 0.10), "R1 \(result.r1) vs \(g.r1)")
        #expect(near(result.tau1, g.tau1, 0.10), "τ1 \(result.tau1) vs \(g.tau1)")
        #expect(near(result.r2, g.r2, 0.10), "R2 \(result.r2) vs \(g.r2)")
        #expect(near(result.tau2, g.tau2, 0.10), "τ2 \(result.tau2) vs \(g.tau2)")
        #expect(result.pulses.allSatisfy { $0.temperature == 25 && $0.current < 0 })
    }

    @Test func aRecordWithoutPulsesSaysWhatAPulseIs() throws {
        // A slow discharge: no step, no rest.
        let rows = (0..<2000).map { "\($0),-5,\(4.0 - Double($0) * 1e-5)" }
        let path = try csv("time_s,current_meas_A,voltage_meas_V", rows)
        #expect {
            _ = try ModelCalibration.identify(NumericTable(path: path), capacityAh: 50, currentColumn: "current_meas_A",
                                              voltageColumn: "voltage_meas_V", currentPositiveDischarge: false)
        } throws: { error in
            "\(error)".contains("no pulse found") && "\(error)".contains("10.00 A")
        }
    }

    @Test func theFitRecoversTwoKnownExponentials() {
        let t = (0..<1800).map(Double.init)
        let y = t.map { 3.7 - 0.004 * Foundation.exp(-$0 / 15) - 0.009 * Foundation.exp(-$0 / 400) }
        let fit = ModelCalibration.fitTwoExponentials(t, y)!
        #expect(abs(fit.tau1 / 15 - 1) < 0.03 && abs(fit.tau2 / 400 - 1) < 0.03)
        #expect(abs(fit.a1 + 0.004) < 2e-4 && abs(fit.a2 + 0.009) < 3e-4)
    }
}
