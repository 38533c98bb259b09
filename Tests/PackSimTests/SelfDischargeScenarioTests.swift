import BMSCore
import Testing
@testable import PackSim

@Suite struct SelfDischargeScenarioTests {
    /// A new 16S LFP pack in which cell 9 leaks 1 % of its capacity a day from the start: the
    /// balancer spares it while bleeding every other cell, and the BMS names it — that cell
    /// and no other — within 14 days.
    @Test func aLeakingCellIsNamedWithinFourteenDays() throws {
        var setup = SimulationSetup(chemistry: .lfp, cells: 16, capacityAh: 100)
        setup.seed = 3
        setup.initialSOC = 0.9
        var sim = try Simulation(setup: setup, profile: StandardProfile(.offgridDay, config: setup.bmsConfig!, seed: 3))
        let scheduled = sim.schedule(ScheduledFault(kind: .cellLeak, index: 8, atMilliseconds: 0))
        #expect(scheduled)
        var named: [(UInt64, BMSEvent)] = []
        for _ in 0..<(14 * 86_400) {
            sim.step()
            while let e = sim.nextEvent() { if e.kind == .selfDischarge { named.append((sim.time.milliseconds, e)) } }
        }
        #expect(named.count == 1)
        #expect(named.first?.1.index == 8)
        // Its excess, as the others' bleeding shows it: at least half the true 1 Ah/day (the
        // bleeding of about 0.1 A near the top cannot keep up with the whole leak).
        #expect((named.first?.1.value ?? 0) > 0.5)
        #expect(sim.bms.balancer.selfDischarge.suspects == 1 << 8)
    }
}
