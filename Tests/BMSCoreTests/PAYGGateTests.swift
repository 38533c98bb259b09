import Testing
@testable import BMSCore

@Suite struct PAYGGateTests {
    func credit(_ seconds: UInt64, expired: UInt64 = 0) -> PAYGCredit {
        PAYGCredit(enforced: true, secondsLeft: seconds, secondsExpired: expired)
    }

    /// Warning 24 h before, expiry, one hour of grace to the step, then discharge off — and
    /// charging stays on throughout.
    @Test func warningGraceAndLockToTheStep() {
        var rig = Rig()
        rig.bms.updateCredit(credit(2 * 86_400), at: Timestamp(milliseconds: 0))
        rig.run(until: 2000, period: 1000) { sample(at: $0) }
        #expect(rig.events.filter { $0.kind == .paygWarning }.isEmpty)
        rig.bms.updateCredit(credit(86_400), at: Timestamp(milliseconds: 3000))
        rig.step(at: 3000) { sample(at: $0) }
        #expect(rig.events.filter { $0.kind == .paygWarning }.count == 1)
        // Expired at 10 s: the grace (3600 s, counted by the PAYG module's clock) ends at 3610 s.
        rig.bms.updateCredit(credit(0, expired: 0), at: Timestamp(milliseconds: 10_000))
        rig.bms.updateCredit(credit(0, expired: 3599), at: Timestamp(milliseconds: 3_609_000))
        rig.step(at: 3_609_000) { sample(at: $0) }
        #expect(!rig.bms.payg.locked && rig.bms.allowedDirections.contains(.discharge))
        rig.bms.updateCredit(credit(0, expired: 3600), at: Timestamp(milliseconds: 3_610_000))
        let command = rig.step(at: 3_610_000) { sample(at: $0) }
        #expect(rig.bms.payg.locked)
        #expect(!command.switches.dischargeOn)
        #expect(rig.bms.allowedDirections == .charge)
        #expect(rig.bms.limits.dischargeCurrent == 0 && rig.bms.limits.chargeCurrent > 0)
        #expect(rig.events.filter { $0.kind == .paygLocked }.count == 1)
        // New credit: discharge back at the next step.
        rig.bms.updateCredit(credit(7 * 86_400), at: Timestamp(milliseconds: 3_620_000))
        let back = rig.step(at: 3_620_000) { sample(at: $0) }
        #expect(back.switches.dischargeOn && !rig.bms.payg.locked)
        #expect(rig.events.last(where: { $0.kind == .paygUnlocked }) != nil)
    }

    @Test func protectionIsNeverOverriddenAndPaidOffUnitsNeverLock() {
        var rig = Rig()
        rig.bms.updateCredit(credit(0), at: Timestamp(milliseconds: 0))
        rig.bms.updateCredit(credit(0, expired: 3600), at: Timestamp(milliseconds: 3_600_000))
        rig.step(at: 3_600_000) { sample(at: $0) }
        #expect(rig.bms.payg.locked)
        // Over-voltage while locked: charging stops too; credit does not bring it back.
        rig.now = 3_600_100
        rig.run(until: 3_610_000, period: 100) { t in var m = sample(at: t); m.setCell(3, to: 3.80); return m }
        #expect(rig.isActive(.cellOvervoltage))
        rig.bms.updateCredit(credit(86_400 * 30), at: Timestamp(milliseconds: 3_610_100))
        let command = rig.step(at: 3_610_100) { t in var m = sample(at: t); m.setCell(3, to: 3.80); return m }
        #expect(!command.switches.chargeOn && command.switches.dischargeOn)
        // A paid-off unit (disable token) never locks, whatever the seconds say.
        var free = Rig()
        free.bms.updateCredit(.notEnforced, at: Timestamp(milliseconds: 0))
        free.bms.updateCredit(.notEnforced, at: Timestamp(milliseconds: 90_000_000))
        free.run(until: 2000, period: 1000) { sample(at: $0) }
        #expect(!free.bms.payg.locked && free.bms.allowedDirections == .both)
        #expect(free.events.filter { $0.kind == .paygWarning || $0.kind == .paygLocked }.isEmpty)
    }

    /// A reset of the core (a new BatteryManager) with the credit long gone locks at once: the
    /// grace period is not granted again.
    @Test func aResetDoesNotStartANewGracePeriod() {
        var rebooted = Rig()
        rebooted.bms.updateCredit(credit(0, expired: 5 * 3600), at: Timestamp(milliseconds: 0))
        let command = rebooted.step(at: 0) { sample(at: $0) }
        #expect(rebooted.bms.payg.locked && !command.switches.dischargeOn)
    }

    @Test func theTimesAreSettings() {
        var config = lfp16()
        config.payg.graceSeconds = 0
        config.payg.warningSeconds = 31 * 86_400
        let rules = config.validate().map { ($0.rule, $0.field) }
        #expect(rules.count == 1 && rules.first! == (.outOfRange, .paygWarning))
        config.payg.warningSeconds = 3600
        var rig = Rig(config)
        rig.bms.updateCredit(credit(0), at: Timestamp(milliseconds: 5000))
        rig.step(at: 5000) { sample(at: $0) }
        #expect(rig.bms.payg.locked)          // no grace: off at once
    }
}
