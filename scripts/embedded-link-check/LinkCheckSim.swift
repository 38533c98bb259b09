import BMSCore
import PackSim

/// Drives a short closed-loop simulation so the linker keeps PackSim's cyclic path; see
/// check.sh.
@main struct LinkCheckSim {
    static func main() {
        var setup = SimulationSetup(chemistry: .lfp, cells: 16, capacityAh: 100)
        setup.spread = .secondLife
        let profile = StandardProfile(.milling, config: setup.bmsConfig!, seed: 7)
        guard var sim = try? Simulation(setup: setup, profile: profile) else { return }
        sim.schedule(ScheduledFault(kind: .openWire, index: 3, atMilliseconds: 60_000))
        var sink: UInt32 = 0
        for _ in 0..<600 {
            let record = sim.step()
            if record.command.switches.chargeOn { sink &+= 1 }
            while let e = sim.nextEvent() { sink &+= UInt32(e.kind.rawValue) }
        }
        if sink == 0x1234_5678 || sim.stats.maxCellVoltage > 100 { fatalError() }
    }
}
