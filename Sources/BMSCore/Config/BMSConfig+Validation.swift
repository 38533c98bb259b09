extension BMSConfig {
    /// Checks every rule and returns every violation (empty when the configuration is good).
    ///
    /// Rules: each value in its range; cell thresholds strictly ordered
    /// (full cutoff < discharge cutoff < UV release < recharge < charge target < OV trip,
    /// OV release < OV trip, UV release < OV release, discharge cutoff < balancing minimum <
    /// charge target); for a preset chemistry, no over-voltage trip or charge target above what
    /// the chemistry tolerates; the OV pre-alarm above the charge target; both over-current
    /// limits within the board maximum; the short-circuit limit above the discharge
    /// over-current; the tail current below the charge over-current; temperature windows wider than twice the hysteresis; plausibility ranges
    /// outside the protection limits; latching windows longer than the recovery delay.
    /// A NaN anywhere fails its range check.
    public func validate() -> ConfigViolations {
        var check = Checker(config: self)
        check.pack()
        check.cellVoltages()
        check.currents()
        check.temperatures()
        check.balancingAndWarnings()
        check.plausibilityLimits()
        check.recoveryPolicies()
        check.ocvTable()
        check.cellModel()
        check.range(.paygGrace, 0, 7 * 86_400)
        check.range(.paygWarning, 0, 30 * 86_400)
        check.calibration()
        return check.violations
    }

    /// The value of a numeric field as Float (flags and chemistry read as 0).
    public func number(_ field: ConfigField) -> Float {
        switch value(of: field) {
        case .float(let x): x
        case .unsigned(let n): Float(n)
        case .bool, .chemistry: 0
        }
    }
}

private struct Checker {
    let config: BMSConfig
    var violations = ConfigViolations()

    init(config: BMSConfig) { self.config = config }

    private func v(_ field: ConfigField) -> Float { config.number(field) }

    /// `field` within `lower...upper` (written so that NaN fails).
    mutating func range(_ field: ConfigField, _ lower: Float, _ upper: Float) {
        let x = v(field)
        if !(x >= lower && x <= upper) {
            violations.append(ConfigViolation(rule: .outOfRange, field: field, value: x,
                                              lowerBound: lower, upperBound: upper))
        }
    }

    /// `low` strictly below `high`; reported on `low`.
    mutating func below(_ low: ConfigField, _ high: ConfigField) {
        let a = v(low), b = v(high)
        if !(a < b) {
            violations.append(ConfigViolation(rule: .mustBeBelow, field: low, value: a,
                                              limit: b, other: high))
        }
    }

    mutating func add(_ rule: ConfigRule, _ field: ConfigField, value: Float, limit: Float,
                      other: ConfigField? = nil) {
        violations.append(ConfigViolation(rule: rule, field: field, value: value, limit: limit,
                                          other: other))
    }

    /// A table, if set: every point a cell voltage, falling (weakly) from 100 % to 0 %, and
    /// not flat end to end.
    mutating func ocvTable() {
        guard config.hasOCVTable else { return }
        let p = config.ocvPoints
        for k in 0..<21 { range(.ocvPoint(.at(k)), 0.5, 5.0) }
        for k in 1..<21 where !(p[k] <= p[k - 1]) {
            add(.ocvTableRisesTowardEmpty, .ocvPoint(.at(k)), value: p[k], limit: p[k - 1],
                other: .ocvPoint(.at(k - 1)))
        }
        if !(p[0] > p[20]) { add(.ocvTableFlat, .ocvPoint(.soc100), value: p[0], limit: p[20], other: .ocvPoint(.soc0)) }
    }

    /// Calibration within what a working board needs: gains within ±20 % (current) and ±5 %
    /// (cells), offsets within 10 A, 0.1 V and 10 K. More than that is a broken channel or a
    /// calibration taken against the wrong reference, not an error to correct.
    mutating func calibration() {
        range(.currentGain, 0.8, 1.2)
        range(.currentOffset, -10, 10)
        for k in 0..<16 {
            range(.cellVoltageGain(.at(k)), 0.95, 1.05)
            range(.cellVoltageOffset(.at(k)), -0.1, 0.1)
        }
        for k in 0..<8 { range(.thermistorOffset(.at(k)), -10, 10) }
    }

    /// The circuit, where given: plausible values for a series group (0 = not given), the
    /// pairs only with an R0 to scale them, and the slow pair slower than the fast one.
    mutating func cellModel() {
        let m = config.cellModel
        func given(_ field: ConfigField, _ value: Float, _ lower: Float, _ upper: Float) {
            if value != 0 { range(field, lower, upper) }
        }
        given(.cellR0, m.r0, 0.01, 1000)
        given(.cellR1, m.r1, 0.01, 1000)
        given(.cellR2, m.r2, 0.01, 1000)
        given(.cellTau1, m.tau1, 0.5, 600)
        given(.cellTau2, m.tau2, 10, 36_000)
        if m.r0 == 0 {
            if m.r1 != 0 { add(.needsCellR0, .cellR1, value: m.r1, limit: 0, other: .cellR0) }
            if m.r2 != 0 { add(.needsCellR0, .cellR2, value: m.r2, limit: 0, other: .cellR0) }
        }
        let tau1 = m.tau1 != 0 ? m.tau1 : 60, tau2 = m.tau2 != 0 ? m.tau2 : 600
        if (m.tau1 != 0 || m.tau2 != 0) && !(tau1 < tau2) {
            add(.mustBeBelow, .cellTau1, value: tau1, limit: tau2, other: .cellTau2)
        }
    }

    mutating func pack() {
        range(.seriesCellCount, 3, 16)
        range(.parallelCellCount, 1, 64)
        range(.nominalCapacity, 1, 5000)
    }

    mutating func cellVoltages() {
        let voltages: InlineArray<8, ConfigField> = [
            .cellOvervoltage, .cellOvervoltageReset, .cellChargeVoltage, .cellRechargeVoltage,
            .balanceMinimumVoltage, .cellUndervoltageReset, .cellDischargeCutoff, .cellUndervoltage,
        ]
        for i in voltages.indices { range(voltages[i], 0.5, 5.0) }
        range(.cellOvervoltageDelay, 0, 60_000)
        range(.cellUndervoltageDelay, 0, 60_000)
        below(.cellUndervoltage, .cellDischargeCutoff)
        below(.cellDischargeCutoff, .cellUndervoltageReset)
        below(.cellUndervoltageReset, .cellRechargeVoltage)
        below(.cellRechargeVoltage, .cellChargeVoltage)
        below(.cellChargeVoltage, .cellOvervoltage)
        below(.cellOvervoltageReset, .cellOvervoltage)
        below(.cellUndervoltageReset, .cellOvervoltageReset)
        below(.cellDischargeCutoff, .balanceMinimumVoltage)
        below(.balanceMinimumVoltage, .cellChargeVoltage)
        let c = config.cellVoltage
        // 0.5 mV of slack: the difference of two Floats must not decide a tie.
        let warning = c.overvoltage - config.warnings.voltage
        if !(warning - c.chargeTarget > 0.0005) {
            // The limit reported is the distance from trip to target, to 0.1 mV (no libm:
            // truncation through Int, guarded against NaN and huge values).
            let distance = c.overvoltage - c.chargeTarget
            let shown = distance.isFinite && abs(distance) < 100
                ? Float(Int(distance * 10_000)) / 10_000 : distance
            add(.warningBelowChargeTarget, .voltageWarningMargin, value: config.warnings.voltage,
                limit: shown)
        }
        chemistryCeiling()
        range(.cellImbalanceLimit, 0.01, 2.0)
        range(.cellImbalanceReset, 0, 2.0)
        range(.cellImbalanceDelay, 0, 600_000)
        below(.cellImbalanceReset, .cellImbalanceLimit)
    }

    /// A file labelled with a chemistry must not carry thresholds that chemistry cannot take:
    /// NMC voltages on an LFP pack would overcharge it. (The reverse is merely useless and
    /// passes.) 50 mV above the preset's trip is allowed for cells rated a little higher.
    mutating func chemistryCeiling() {
        guard let preset = CellVoltagePreset.of(config.pack.chemistry) else { return }
        let ceiling = preset.overvoltage + 0.05
        let c = config.cellVoltage
        if c.overvoltage > ceiling {
            add(.aboveChemistryMaximum, .cellOvervoltage, value: c.overvoltage, limit: ceiling,
                other: .chemistry)
        }
        if c.chargeTarget > preset.overvoltage {
            add(.aboveChemistryMaximum, .cellChargeVoltage, value: c.chargeTarget,
                limit: preset.overvoltage, other: .chemistry)
        }
    }

    mutating func currents() {
        let c = config.current
        range(.boardMaximumCurrent, 1, 1000)
        range(.chargeOvercurrent, 0.1, 1000)
        range(.dischargeOvercurrent, 0.1, 1000)
        range(.shortCircuitLimit, 0.1, 5000)
        range(.chargeOvercurrentDelay, 0, 10_000)
        range(.dischargeOvercurrentDelay, 0, 10_000)
        range(.shortCircuitDelay, 10, 1000)
        range(.fullTailCurrent, 0.01, 1000)
        range(.fullDelay, 1, 3600)
        range(.idealDiodeCurrent, 0.05, 50)
        if c.chargeOvercurrent > c.boardMaximum {
            add(.overcurrentAboveBoardMaximum, .chargeOvercurrent, value: c.chargeOvercurrent,
                limit: c.boardMaximum, other: .boardMaximumCurrent)
        }
        if c.dischargeOvercurrent > c.boardMaximum {
            add(.overcurrentAboveBoardMaximum, .dischargeOvercurrent,
                value: c.dischargeOvercurrent, limit: c.boardMaximum, other: .boardMaximumCurrent)
        }
        if !(c.shortCircuit > c.dischargeOvercurrent) {
            add(.shortCircuitNotAboveOvercurrent, .shortCircuitLimit, value: c.shortCircuit,
                limit: c.dischargeOvercurrent, other: .dischargeOvercurrent)
        }
        below(.fullTailCurrent, .chargeOvercurrent)
    }

    mutating func temperatures() {
        let t = config.temperature
        let windows: InlineArray<4, ConfigField> = [
            .chargeMinimumTemperature, .chargeMaximumTemperature,
            .dischargeMinimumTemperature, .dischargeMaximumTemperature,
        ]
        for i in windows.indices { range(windows[i], -40, 120) }
        range(.mosfetMaximumTemperature, 40, 150)
        range(.boardMaximumTemperature, 40, 150)
        range(.temperatureHysteresis, 1, 20)
        range(.temperatureDelay, 0, 60_000)
        if !(t.chargeMaximum - t.chargeMinimum > 2 * t.hysteresis) {
            add(.temperatureWindowTooNarrow, .chargeMaximumTemperature, value: t.chargeMaximum,
                limit: t.chargeMinimum + 2 * t.hysteresis, other: .chargeMinimumTemperature)
        }
        if !(t.dischargeMaximum - t.dischargeMinimum > 2 * t.hysteresis) {
            add(.temperatureWindowTooNarrow, .dischargeMaximumTemperature,
                value: t.dischargeMaximum, limit: t.dischargeMinimum + 2 * t.hysteresis,
                other: .dischargeMinimumTemperature)
        }
    }

    mutating func balancingAndWarnings() {
        range(.balanceTargetVoltageDifference, 0.001, 0.5)
        range(.balanceIdleDelay, 0, 65_535)  // u16 on ThingSet (0x6A)
        range(.balanceIdleCurrent, 0, 10)
        range(.voltageWarningMargin, 0, 0.5)
        range(.currentWarningMargin, 0, 50)
        range(.temperatureWarningMargin, 0, 20)
    }

    mutating func plausibilityLimits() {
        let p = config.plausibility, c = config.cellVoltage, t = config.temperature
        range(.cellSenseMinimum, 0, 5)
        range(.cellSenseMaximum, 0.5, 6)
        range(.cellSumTolerance, 0.001, 0.5)
        range(.thermistorMinimum, -100, 0)
        range(.thermistorMaximum, 50, 250)
        range(.plausibilityDelay, 0, 60_000)
        range(.measurementTimeout, 100, 60_000)
        if !(p.cellSenseMinimum < c.undervoltage) {
            add(.senseRangeInsideLimits, .cellSenseMinimum, value: p.cellSenseMinimum,
                limit: c.undervoltage, other: .cellUndervoltage)
        }
        if !(p.cellSenseMaximum > c.overvoltage) {
            add(.senseRangeInsideLimits, .cellSenseMaximum, value: p.cellSenseMaximum,
                limit: c.overvoltage, other: .cellOvervoltage)
        }
        let coldest = min(t.chargeMinimum, t.dischargeMinimum)
        if !(p.thermistorMinimum < coldest) {
            add(.senseRangeInsideLimits, .thermistorMinimum, value: p.thermistorMinimum,
                limit: coldest,
                other: t.chargeMinimum < t.dischargeMinimum ? .chargeMinimumTemperature
                    : .dischargeMinimumTemperature)
        }
        let hottest = max(max(t.chargeMaximum, t.dischargeMaximum), max(t.mosfetMaximum, t.boardMaximum))
        if !(p.thermistorMaximum > hottest) {
            add(.senseRangeInsideLimits, .thermistorMaximum, value: p.thermistorMaximum,
                limit: hottest)
        }
    }

    mutating func recoveryPolicies() {
        var raw: UInt8 = 0
        while let fault = Fault(rawValue: raw) {
            raw += 1
            guard fault.hasRecoveryPolicy else { continue }
            range(.recoveryDelay(fault), 0, 86_400)
            range(.latchAfter(fault), 0, 16)
            range(.latchWindow(fault), 0, 604_800)
            let p = config.recovery[fault]
            if p.latchAfter >= 2 && !(p.windowSeconds > p.delaySeconds) {
                add(.latchWindowMissing, .latchWindow(fault), value: Float(p.windowSeconds),
                    limit: Float(p.delaySeconds), other: .recoveryDelay(fault))
            }
        }
    }
}
