/// Exercises every entry point of BMSCore so the linker keeps all of it; see check.sh.
import BMSCore

@main struct LinkCheck {
    static func main() {
        var config = BMSConfig.preset(.lfp, cells: 16, capacityAh: 100)!
        var sink: UInt32 = 0
        ConfigField.forEach { field in
            let (a, _, _) = field.nameParts
            sink &+= UInt32(a.utf8CodeUnitCount)
            _ = try? config.set(field, to: config.value(of: field))
        }
        let violations = config.validate()
        sink &+= UInt32(violations.count)
        guard var bms = try? BatteryManager(config: config) else { return }
        var t: UInt32 = 0
        while t < 10_000 {
            var m = Measurement(timestamp: Timestamp(milliseconds: t), cellVoltage: 3.3, current: -5)
            m.addTemperature(25, role: .cell)
            let c = bms.step(m, now: Timestamp(milliseconds: t))
            sink &+= UInt32(c.balanceMask)
            if c.switches.chargeOn { sink &+= 1 }
            while let e = bms.nextEvent() { sink &+= UInt32(e.kind.rawValue) }
            t += 100
        }
        bms.updateCredit(PAYGCredit(enforced: true, secondsLeft: 0), at: Timestamp(milliseconds: t))
        if bms.payg.locked { sink &+= 1 }
        bms.resetFaults(at: Timestamp(milliseconds: t))
        try? bms.apply(config, at: Timestamp(milliseconds: t))
        bms.shutdown(at: Timestamp(milliseconds: t))
        var filter = SOCFilter(curve: OCVCurve.preset(.lfp)!,
                               parameters: .defaults(.lfp, capacityAh: 100), voltage: 3.3, current: 0)
        for k in 0..<100 {
            filter.update(current: Float(k % 7) - 3, voltage: 3.3, temperature: 25, dt: 1)
        }
        filter.recalibrate(to: 1, sigma: 0.01)
        if filter.soc > 2 || filter.socSigma > 1 || !filter.covarianceIsHealthy { sink &+= 1 }
        var withTable = config
        withTable.setOCVTable(OCVCurve.preset(.lfp))
        withTable.cellModel.r0 = 0.6
        withTable.cellModel.r2 = 1.2
        try? bms.apply(withTable, at: Timestamp(milliseconds: t))
        if let e = bms.energy, e.remainingWh > 1e9 { sink &+= 1 }
        if let s = bms.secondsToEmpty, s < 0 { sink &+= 1 }
        if let w = bms.weakCells { sink &+= UInt32(w.emptiesFirst) &+ UInt32(w.emptiesFirstCauses.rawValue) }
        if let h = bms.stateOfHealth, h > 2 { sink &+= 1 }
        if let snapshot = bms.estimatorSnapshot {
            let bytes = snapshot.encoded()
            if let back = try? EstimatorSnapshot(bytes: bytes.span), back == snapshot {
                try? bms.restoreEstimator(back)
            }
        }
        // The active balancer: plan, frames out and back, a status with a fault.
        bms.activeBalancer = ActiveBalancerBoard(maximumCurrent: 2)
        var m = Measurement(timestamp: Timestamp(milliseconds: t + 1000), cellVoltage: 3.45, current: 10)
        m.cellVoltages[3] = 3.50
        _ = bms.step(m, now: Timestamp(milliseconds: t + 1000))
        let frame = bms.activeBalancerCommand.encoded()
        if let back = try? ActiveBalancerCommand(decoding: frame), back.enable { sink &+= UInt32(back.cells) }
        let status = ActiveBalancerStatus(enabled: true, cells: 16, faults: [.overTemperature]).encoded()
        if let s = try? ActiveBalancerStatus(decoding: status) { bms.takeActiveBalancerStatus(s, at: Timestamp(milliseconds: t + 1000)) }
        sink &+= UInt32(bms.balancer.selfDischarge.suspects) &+ UInt32(bms.currentZero.learned ? 1 : 0)
        let l = bms.limits
        if l.chargeCurrent > 1000 || l.chargeVoltage < 0 || l.chargeReasons.contains(.blocked) { sink &+= 1 }
        if sink == 0x1234_5678 { fatalError() }
    }
}
