import BMSCore
import Testing
@testable import PackSim

@Suite struct CalibrationScenarioTests {
    /// The virtual pack's shunt has a fixed offset (up to ±0.2 A on 100 Ah) under 0.2 A of
    /// noise. With both switches held open the BMS learns that offset as its zero.
    @Test(arguments: [UInt64(2), 5, 9])
    func theZeroIsLearnedWithBothSwitchesOpen(seed: UInt64) throws {
        var setup = SimulationSetup(chemistry: .lfp, cells: 16, capacityAh: 100)
        setup.seed = seed
        var config = setup.bmsConfig!
        config.inputs.chargeEnable = false
        config.inputs.dischargeEnable = false
        setup.config = config
        var sim = try Simulation(setup: setup, profile: StandardProfile(.offgridDay, config: config, seed: seed))
        var zeroed: [BMSEvent] = []
        for _ in 0..<120 {
            _ = sim.step()
            while let e = sim.nextEvent() { if e.kind == .currentZeroed { zeroed.append(e) } }
        }
        let offset = sim.pack.sensors.currentOffset
        // 115 samples after the 5 s settling: σ of the mean 0.019 A; 4 σ allowed.
        #expect(zeroed.count == 1)
        #expect(sim.bms.currentZero.learned)
        #expect(abs(sim.bms.currentZero.correction - offset) < 0.075, "learned \(sim.bms.currentZero.correction), sensor \(offset)")
    }
}
