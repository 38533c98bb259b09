import Testing
@testable import BMSCore

@Suite struct SwitchControlTests {
    @Test func offToNormalWhenBothAllowed() {
        var s = SwitchControl()
        let changed = s.update(allowed: .both, current: 0, idealDiode: 0.5)
        #expect(changed)
        #expect(s.state == .normal)
        #expect(s.command == SwitchCommand(chargeOn: true, dischargeOn: true))
    }

    @Test func normalToChargeOnlyWhenDischargeIsBlocked() {
        var s = SwitchControl()
        _ = s.update(allowed: .both, current: 0, idealDiode: 0.5)
        let changed = s.update(allowed: .charge, current: -3, idealDiode: 0.5)
        #expect(changed)
        #expect(s.state == .chargeOnly)
        #expect(s.command == SwitchCommand(chargeOn: true, dischargeOn: false))
    }

    @Test func normalToDischargeOnlyWhenChargeIsBlocked() {
        var s = SwitchControl()
        _ = s.update(allowed: .both, current: 0, idealDiode: 0.5)
        _ = s.update(allowed: .discharge, current: 4, idealDiode: 0.5)
        #expect(s.state == .dischargeOnly)
        #expect(s.command == SwitchCommand(chargeOn: false, dischargeOn: true))
    }

    @Test func offWhenBothBlockedWhateverTheCurrent() {
        for current: Float in [-50, 0, 50] {
            var s = SwitchControl()
            _ = s.update(allowed: .both, current: 0, idealDiode: 0.5)
            _ = s.update(allowed: .none, current: current, idealDiode: 0.5)
            #expect(s.state == .off)
            #expect(s.command == .allOff)
        }
    }

    @Test func idealDiodeOnTheDischargeSwitchWhileCharging() {
        var s = SwitchControl()
        _ = s.update(allowed: .charge, current: 0, idealDiode: 0.5)
        _ = s.update(allowed: .charge, current: 0.49, idealDiode: 0.5)           // below 0.5 A
        #expect(!s.command.dischargeOn)
        _ = s.update(allowed: .charge, current: 0.5, idealDiode: 0.5)
        #expect(s.command.dischargeOn)
        _ = s.update(allowed: .charge, current: 0.126, idealDiode: 0.5)          // hysteresis: stays on
        #expect(s.command.dischargeOn)
        _ = s.update(allowed: .charge, current: 0.125, idealDiode: 0.5)          // not above 0.125 A: off
        #expect(!s.command.dischargeOn)
        _ = s.update(allowed: .charge, current: 0.3, idealDiode: 0.5)            // below the on level: stays off
        #expect(!s.command.dischargeOn)
        _ = s.update(allowed: .charge, current: -20, idealDiode: 0.5)
        #expect(!s.command.dischargeOn)
        #expect(s.command.chargeOn)
    }

    @Test func idealDiodeOnTheChargeSwitchWhileDischarging() {
        var s = SwitchControl()
        _ = s.update(allowed: .discharge, current: 0, idealDiode: 0.5)
        _ = s.update(allowed: .discharge, current: -0.49, idealDiode: 0.5)
        #expect(!s.command.chargeOn)
        _ = s.update(allowed: .discharge, current: -0.5, idealDiode: 0.5)
        #expect(s.command.chargeOn)
        _ = s.update(allowed: .discharge, current: -0.126, idealDiode: 0.5)
        #expect(s.command.chargeOn)
        _ = s.update(allowed: .discharge, current: -0.125, idealDiode: 0.5)
        #expect(!s.command.chargeOn)
        _ = s.update(allowed: .discharge, current: 30, idealDiode: 0.5)
        #expect(!s.command.chargeOn)
        #expect(s.command.dischargeOn)
    }

    @Test func idealDiodeStartsOffOnEnteringTheState() {
        var s = SwitchControl()
        _ = s.update(allowed: .both, current: 0.3, idealDiode: 0.5)              // normal: both on
        _ = s.update(allowed: .charge, current: 0.3, idealDiode: 0.5)            // 0.3 A < on level
        #expect(!s.command.dischargeOn)
    }

    @Test func shutdownIsFinal() {
        var s = SwitchControl()
        _ = s.update(allowed: .both, current: 0, idealDiode: 0.5)
        let first = s.shutdown()
        #expect(first)
        let changed = s.update(allowed: .both, current: 0, idealDiode: 0.5)
        #expect(!changed)
        #expect(s.state == .shutdown)
        #expect(s.command == .allOff)
        let again = s.shutdown()
        #expect(!again)
    }

    @Test func stateNumbersMatchTheReference() {
        #expect(BMSState.off.rawValue == 0)
        #expect(BMSState.chargeOnly.rawValue == 1)
        #expect(BMSState.dischargeOnly.rawValue == 2)
        #expect(BMSState.normal.rawValue == 3)
        #expect(BMSState.shutdown.rawValue == 4)
    }
}

@Suite struct FaultTableTests {
    @Test func errorFlagBitsMatchTheReference() {
        let expected: [(Fault, UInt8)] = [
            (.cellUndervoltage, 0), (.cellOvervoltage, 1), (.shortCircuit, 2),
            (.dischargeOvercurrent, 3), (.chargeOvercurrent, 4), (.openWire, 5),
            (.dischargeUndertemperature, 6), (.dischargeOvertemperature, 7),
            (.chargeUndertemperature, 8), (.chargeOvertemperature, 9), (.boardOvertemperature, 10),
            (.cellImbalance, 11), (.dischargeSwitchFailure, 12), (.chargeSwitchFailure, 13),
            (.mosfetOvertemperature, 14),
        ]
        for (fault, bit) in expected { #expect(fault.rawValue == bit, "\(fault)") }
    }

    @Test func blockedDirections() {
        #expect(Fault.cellOvervoltage.blocks == .charge)
        #expect(Fault.dischargeCutoff.blocks == .discharge)
        #expect(Fault.cellUndervoltage.blocks == .both)       // full cutoff
        #expect(Fault.mosfetOvertemperature.blocks == .both)  // reference bug 9 fixed
        #expect(Fault.afeSilent.blocks == .both)
        #expect(Fault.dischargeSwitchFailure.blocks == .none)
        var set = FaultSet()
        set.insert(.cellOvervoltage)
        set.insert(.dischargeOvercurrent)
        #expect(set.blockedDirections == .both)
        #expect(set.flags == (1 << 1) | (1 << 3))
    }
}
