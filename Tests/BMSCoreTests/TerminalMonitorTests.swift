import Testing
@testable import BMSCore

@Suite struct TerminalMonitorTests {
    /// 16 LFP cells at 2.40 V: the full cutoff (under-voltage 2.50 V) has opened both switches.
    func empty(at ms: UInt32, terminal: Float, current: Float = 0) -> Measurement {
        var m = sample(at: ms, cell: 2.40, current: current)
        m.packVoltage = terminal
        return m
    }

    @Test func aChargerRevivesThePackAfterTheFullCutoff() {
        var rig = Rig()
        rig.run(until: 3000, period: 100) { empty(at: $0, terminal: 16 * 2.40) }
        #expect(rig.isActive(.cellUndervoltage))
        #expect(rig.bms.command.switches == SwitchCommand(chargeOn: false, dischargeOn: false))
        // A hybrid inverter holds the terminals at 54 V from 3.1 s: charger present one second
        // later, and the charge switch closes; discharge stays off.
        rig.now = 3100
        rig.run(until: 4000, period: 100) { empty(at: $0, terminal: 54) }
        #expect(!rig.bms.terminal.chargerPresent && !rig.bms.command.switches.chargeOn)
        rig.run(until: 4200, period: 100) { empty(at: $0, terminal: 54) }
        #expect(rig.bms.terminal.chargerPresent)
        #expect(rig.events.contains { $0.kind == .chargerPresent })
        #expect(rig.bms.command.switches == SwitchCommand(chargeOn: true, dischargeOn: false))
        // It charges; then it stops delivering: ten seconds later the switch opens again.
        rig.run(until: 10_000, period: 100) { empty(at: $0, terminal: 16 * 2.41, current: 20) }
        #expect(rig.bms.command.switches.chargeOn)
        rig.run(until: 20_100, period: 100) { empty(at: $0, terminal: 16 * 2.41) }
        #expect(!rig.bms.terminal.chargerPresent && !rig.bms.command.switches.chargeOn)
    }

    @Test func aShortAtTheTerminalsKeepsDischargeOff() {
        var rig = Rig()
        // Short-circuit trip by the AFE flag; its recovery delay (preset) passes while the
        // terminals still read 0 V: discharge stays off, with a load_present event.
        rig.run(until: 200, period: 100) { t in var m = sample(at: t, current: -300); m.afeFlags.insert(.shortCircuit); m.packVoltage = 0; return m }
        #expect(rig.isActive(.shortCircuit))
        rig.run(until: 120_000, period: 1000) { t in var m = sample(at: t); m.packVoltage = 0.5; return m }
        #expect(!rig.isActive(.shortCircuit))
        #expect(rig.bms.terminal.shortPresent)
        #expect(!rig.bms.command.switches.dischargeOn)
        #expect(rig.events.contains { $0.kind == .loadPresent })
        // The short is cleared: the terminals float back to the stack, discharge closes.
        rig.run(until: 125_000, period: 1000) { t in var m = sample(at: t); m.packVoltage = 16 * 3.3; return m }
        #expect(!rig.bms.terminal.shortPresent && rig.bms.command.switches.dischargeOn)
    }

    @Test func withoutATerminalReadingNothingChanges() {
        var rig = Rig()
        rig.run(until: 3000, period: 100) { sample(at: $0, cell: 2.40) }     // packVoltage nil
        #expect(rig.isActive(.cellUndervoltage))
        rig.run(until: 10_000, period: 100) { sample(at: $0, cell: 2.40) }
        #expect(!rig.bms.terminal.chargerPresent && !rig.bms.command.switches.chargeOn)
    }
}

@Suite struct TerminalMonitorDiodeTests {
    /// A full pack (charge switch open) with its charger at the terminals: one charger_present,
    /// not one each time the ideal diode closes the charge switch for a load and opens it again.
    @Test func aChargerAtAFullPackIsReportedOnce() {
        var monitor = TerminalMonitor()
        var events = 0
        var t: UInt32 = 0
        for cycle in 0..<6 {
            // 20 s with the charge switch open and the charger holding the terminals, then 20 s
            // with it closed by the diode (a load, no charge current).
            for _ in 0..<20 {
                var m = Measurement(timestamp: Timestamp(milliseconds: t), cellVoltage: 3.37)
                m.stackVoltage = 16 * 3.37
                m.packVoltage = 55.2
                if monitor.update(m, commanded: SwitchCommand(chargeOn: false, dischargeOn: true), idleCurrent: 0.1,
                                  reviving: false) != nil { events += 1 }
                t += 1000
            }
            for _ in 0..<20 {
                var m = Measurement(timestamp: Timestamp(milliseconds: t), cellVoltage: 3.37, current: -5)
                m.stackVoltage = 16 * 3.37
                m.packVoltage = 16 * 3.37
                if monitor.update(m, commanded: SwitchCommand(chargeOn: true, dischargeOn: true), idleCurrent: 0.1,
                                  reviving: false) != nil { events += 1 }
                t += 1000
            }
            _ = cycle
        }
        #expect(events == 1)
        #expect(monitor.chargerPresent)
    }
}
