import PropertyBased
import Synchronization
import Testing
@testable import BMSCore

/// One random step of a random life: a cell value, a current, a temperature, a time step,
/// and now and then the manual latch clearing.
struct RandomStep: Sendable, CustomStringConvertible {
    var cell: Int
    var volts: Float
    var current: Float
    var temperature: Float
    var advanceMs: UInt32
    var afeSilent: Bool
    var clearLatches: Bool
    var description: String {
        "cell\(cell)=\(volts)V I=\(current)A T=\(temperature)°C +\(advanceMs)ms silent=\(afeSilent) clear=\(clearLatches)"
    }
}

let randomStep = zip(
    Gen.int(in: 0...15), Gen.float(in: 0.2...4.6), Gen.float(in: -320...160),
    Gen.float(in: -60...160), Gen.int(in: 0...4000), Gen.int(in: 0...19), Gen.int(in: 0...49)
).map { cell, volts, current, temperature, advance, silent, clear in
    RandomStep(cell: cell, volts: volts, current: current, temperature: temperature,
               advanceMs: UInt32(advance), afeSilent: silent == 0, clearLatches: clear == 0)
}

/// Runs `steps`, calling `check` after each with the manager, the sample the step used (a
/// silent step repeats the last one) and the latched faults before the step.
func live(_ steps: [RandomStep], config: BMSConfig = lfp16(),
          _ check: (BatteryManager, Measurement, _ latchedBefore: FaultSet) -> Void) {
    var bms = try! BatteryManager(config: config)
    var now: UInt32 = 0
    var lastSample = sample(at: 0)
    for step in steps {
        now += step.advanceMs
        if !step.afeSilent {
            var m = sample(at: now, cell: 3.3, current: step.current)
            m.setCell(step.cell, to: step.volts)
            m.temperatures[0] = step.temperature
            lastSample = m
        }
        let latchedBefore = bms.protection.latched
        if step.clearLatches { bms.resetFaults(at: Timestamp(milliseconds: now)) }
        _ = bms.step(lastSample, now: Timestamp(milliseconds: now))
        while bms.nextEvent() != nil {}
        check(bms, lastSample, step.clearLatches ? FaultSet() : latchedBefore)
    }
}

@Suite struct PropertyTests {
    /// No switch is on while a fault blocking its direction is active, except as the ideal
    /// diode: then current flows the other way (at least the off threshold), so the switch
    /// carries no current in the forbidden direction.
    @Test func noSwitchConductsInABlockedDirection() async {
        let idealDiodeSeen = Mutex(0)
        await propertyCheck(count: 300, input: randomStep.array(of: 1...120)) { steps in
            live(steps) { bms, sample, _ in
                let blocked = bms.protection.active.blockedDirections
                let command = bms.command.switches
                let current = bms.protection.active.contains(.afeSilent) ? 0 : sample.current
                if (blocked.contains(.charge) && command.chargeOn)
                    || (blocked.contains(.discharge) && command.dischargeOn) {
                    idealDiodeSeen.withLock { $0 += 1 }
                }
                if blocked.contains(.charge) && command.chargeOn {
                    #expect(current < -bms.config.current.idealDiodeCurrent * SwitchControl.idealDiodeOffRatio, "\(bms.protection.active.flags)")
                }
                if blocked.contains(.discharge) && command.dischargeOn {
                    #expect(current > bms.config.current.idealDiodeCurrent * SwitchControl.idealDiodeOffRatio, "\(bms.protection.active.flags)")
                }
                if blocked == .both { #expect(command == .allOff) }
            }
        }
        // The exception above must really have been exercised, or the test proves little.
        #expect(idealDiodeSeen.withLock { $0 } > 0)
    }

    /// A latched fault stays latched and active until the manual clearing.
    @Test func latchedFaultNeverClearsWithoutTheManualAction() async {
        var config = lfp16()
        // Make latching likely: every recoverable fault latches at its 2nd trip in an hour.
        for raw in 0..<UInt8(Fault.count) {
            let fault = Fault(rawValue: raw)!
            config.recovery[fault] = RecoveryPolicy(delaySeconds: 1, latchAfter: 2, windowSeconds: 3600)
        }
        let c = config
        let latchesSeen = Mutex(0)
        await propertyCheck(count: 300, input: randomStep.array(of: 1...150)) { steps in
            live(steps, config: c) { bms, _, latchedBefore in
                for raw in 0..<UInt8(Fault.count) {
                    let fault = Fault(rawValue: raw)!
                    if latchedBefore.contains(fault) {
                        latchesSeen.withLock { $0 += 1 }
                        #expect(bms.protection.latched.contains(fault), "\(fault) unlatched by itself")
                        #expect(bms.protection.active.contains(fault), "\(fault) released while latched")
                    }
                }
            }
        }
        #expect(latchesSeen.withLock { $0 } > 0)
    }

    /// Whatever the cell thresholds, a configuration that passes validation has them in order.
    /// Thresholds are the LFP preset moved by up to ±0.4 V each, so that both accepted and
    /// rejected configurations occur (checked at the end).
    @Test func validationNeverAcceptsOutOfOrderThresholds() async {
        let shift = Gen.float(in: -0.4...0.4)
        let accepted = Mutex(0), rejected = Mutex(0)
        await propertyCheck(count: 3000, input: zip(shift, shift, shift, shift, shift, shift),
                            zip(shift, shift, Gen.float(in: 0...0.6))) { a, b in
            var config = lfp16()
            config.cellVoltage.overvoltage += a.0
            config.cellVoltage.overvoltageReset += a.1
            config.cellVoltage.chargeTarget += a.2
            config.cellVoltage.recharge += a.3
            config.cellVoltage.undervoltageReset += a.4
            config.cellVoltage.dischargeCutoff += a.5
            config.cellVoltage.undervoltage += b.0
            config.cellVoltage.balanceMinimum += b.1
            config.warnings.voltage = b.2
            guard config.validate().isEmpty else {
                rejected.withLock { $0 += 1 }
                return
            }
            accepted.withLock { $0 += 1 }
            let v = config.cellVoltage
            #expect(v.undervoltage < v.dischargeCutoff)
            #expect(v.dischargeCutoff < v.undervoltageReset)
            #expect(v.undervoltageReset < v.recharge)
            #expect(v.recharge < v.chargeTarget)
            #expect(v.chargeTarget < v.overvoltage)
            #expect(v.overvoltageReset < v.overvoltage)
            #expect(v.undervoltageReset < v.overvoltageReset)
            #expect(v.dischargeCutoff < v.balanceMinimum && v.balanceMinimum < v.chargeTarget)
            #expect(v.overvoltage - config.warnings.voltage > v.chargeTarget)
        }
        #expect(accepted.withLock { $0 } > 0)
        #expect(rejected.withLock { $0 } > 0)
    }
}
