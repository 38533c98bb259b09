extension BMSConfig {
    /// The value of `field`.
    public func value(of field: ConfigField) -> ConfigValue {
        switch field {
        case .seriesCellCount: .unsigned(UInt32(pack.seriesCells))
        case .parallelCellCount: .unsigned(UInt32(pack.parallelCells))
        case .nominalCapacity: .float(pack.capacityAh)
        case .chemistry: .chemistry(pack.chemistry)
        case .cellOvervoltage: .float(cellVoltage.overvoltage)
        case .cellOvervoltageReset: .float(cellVoltage.overvoltageReset)
        case .cellOvervoltageDelay: .unsigned(cellVoltage.overvoltageDelayMs)
        case .cellChargeVoltage: .float(cellVoltage.chargeTarget)
        case .cellRechargeVoltage: .float(cellVoltage.recharge)
        case .balanceMinimumVoltage: .float(cellVoltage.balanceMinimum)
        case .cellUndervoltageReset: .float(cellVoltage.undervoltageReset)
        case .cellDischargeCutoff: .float(cellVoltage.dischargeCutoff)
        case .cellUndervoltage: .float(cellVoltage.undervoltage)
        case .cellUndervoltageDelay: .unsigned(cellVoltage.undervoltageDelayMs)
        case .cellImbalanceLimit: .float(cellVoltage.imbalanceLimit)
        case .cellImbalanceReset: .float(cellVoltage.imbalanceReset)
        case .cellImbalanceDelay: .unsigned(cellVoltage.imbalanceDelayMs)
        case .chargeOvercurrent: .float(current.chargeOvercurrent)
        case .chargeOvercurrentDelay: .unsigned(current.chargeOvercurrentDelayMs)
        case .dischargeOvercurrent: .float(current.dischargeOvercurrent)
        case .dischargeOvercurrentDelay: .unsigned(current.dischargeOvercurrentDelayMs)
        case .shortCircuitLimit: .float(current.shortCircuit)
        case .shortCircuitDelay: .unsigned(current.shortCircuitDelayUs)
        case .boardMaximumCurrent: .float(current.boardMaximum)
        case .fullTailCurrent: .float(current.fullTailCurrent)
        case .fullDelay: .unsigned(current.fullDelaySeconds)
        case .idealDiodeCurrent: .float(current.idealDiodeCurrent)
        case .chargeMinimumTemperature: .float(temperature.chargeMinimum)
        case .chargeMaximumTemperature: .float(temperature.chargeMaximum)
        case .dischargeMinimumTemperature: .float(temperature.dischargeMinimum)
        case .dischargeMaximumTemperature: .float(temperature.dischargeMaximum)
        case .temperatureHysteresis: .float(temperature.hysteresis)
        case .temperatureDelay: .unsigned(temperature.delayMs)
        case .mosfetMaximumTemperature: .float(temperature.mosfetMaximum)
        case .boardMaximumTemperature: .float(temperature.boardMaximum)
        case .balanceTargetVoltageDifference: .float(balancing.targetVoltageDifference)
        case .balanceIdleDelay: .unsigned(balancing.idleDelaySeconds)
        case .balanceIdleCurrent: .float(balancing.idleCurrent)
        case .voltageWarningMargin: .float(warnings.voltage)
        case .currentWarningMargin: .float(warnings.currentPercent)
        case .temperatureWarningMargin: .float(warnings.temperature)
        case .cellSenseMinimum: .float(plausibility.cellSenseMinimum)
        case .cellSenseMaximum: .float(plausibility.cellSenseMaximum)
        case .cellSumTolerance: .float(plausibility.cellSumTolerancePerCell)
        case .thermistorMinimum: .float(plausibility.thermistorMinimum)
        case .thermistorMaximum: .float(plausibility.thermistorMaximum)
        case .plausibilityDelay: .unsigned(plausibility.delayMs)
        case .measurementTimeout: .unsigned(plausibility.measurementTimeoutMs)
        case .chargeEnable: .bool(inputs.chargeEnable)
        case .dischargeEnable: .bool(inputs.dischargeEnable)
        case .cellR0: .float(cellModel.r0)
        case .cellR1: .float(cellModel.r1)
        case .cellTau1: .float(cellModel.tau1)
        case .cellR2: .float(cellModel.r2)
        case .cellTau2: .float(cellModel.tau2)
        case .paygGrace: .unsigned(payg.graceSeconds)
        case .paygWarning: .unsigned(payg.warningSeconds)
        case .recoveryDelay(let f): .unsigned(recovery[f].delaySeconds)
        case .latchAfter(let f): .unsigned(UInt32(recovery[f].latchAfter))
        case .latchWindow(let f): .unsigned(recovery[f].windowSeconds)
        case .ocvPoint(let k): .float(ocvPoints[k.index])
        case .currentGain: .float(calibration.currentGain)
        case .currentOffset: .float(calibration.currentOffset)
        case .cellVoltageGain(let k): .float(calibration.cellGain[k.index])
        case .cellVoltageOffset(let k): .float(calibration.cellOffset[k.index])
        case .thermistorOffset(let k): .float(calibration.temperatureOffset[k.index])
        }
    }

    /// Sets `field` to `value`. Only the kind is checked here (a number for a number field,
    /// an integer that fits for an integer field); whether the value makes sense with the
    /// rest is `validate()`'s job, so a file can be loaded whole and then judged whole.
    public mutating func set(_ field: ConfigField, to value: ConfigValue) throws(ConfigError) {
        if case .ocvPoint(let k) = field {
            guard case .float(let x) = value else { throw .wrongType(field) }
            ocvPoints[k.index] = x
            return
        }

        switch field.kind {
        case .float:
            guard case .float(let x) = value else { throw .wrongType(field) }
            setFloat(field, x)
        case .uint8:
            guard case .unsigned(let n) = value else { throw .wrongType(field) }
            guard n <= UInt32(UInt8.max) else { throw .notRepresentable(field, Float(n)) }
            setUnsigned(field, n)
        case .uint32:
            guard case .unsigned(let n) = value else { throw .wrongType(field) }
            setUnsigned(field, n)
        case .bool:
            guard case .bool(let b) = value else { throw .wrongType(field) }
            if field == .chargeEnable { inputs.chargeEnable = b } else { inputs.dischargeEnable = b }
        case .chemistry:
            guard case .chemistry(let c) = value else { throw .wrongType(field) }
            pack.chemistry = c
        }
    }

    private mutating func setFloat(_ field: ConfigField, _ x: Float) {
        switch field {
        case .nominalCapacity: pack.capacityAh = x
        case .cellR0: cellModel.r0 = x
        case .cellR1: cellModel.r1 = x
        case .cellTau1: cellModel.tau1 = x
        case .cellR2: cellModel.r2 = x
        case .cellTau2: cellModel.tau2 = x
        case .currentGain: calibration.currentGain = x
        case .currentOffset: calibration.currentOffset = x
        // The calibration arrays are set here rather than in a block of their own before the
        // switch in `set`: such a block made `set` 11 kB on ARMv6-M.
        case .cellVoltageGain(let k): calibration.cellGain[k.index] = x
        case .cellVoltageOffset(let k): calibration.cellOffset[k.index] = x
        case .thermistorOffset(let k): calibration.temperatureOffset[k.index] = x
        case .cellOvervoltage: cellVoltage.overvoltage = x
        case .cellOvervoltageReset: cellVoltage.overvoltageReset = x
        case .cellChargeVoltage: cellVoltage.chargeTarget = x
        case .cellRechargeVoltage: cellVoltage.recharge = x
        case .balanceMinimumVoltage: cellVoltage.balanceMinimum = x
        case .cellUndervoltageReset: cellVoltage.undervoltageReset = x
        case .cellDischargeCutoff: cellVoltage.dischargeCutoff = x
        case .cellUndervoltage: cellVoltage.undervoltage = x
        case .cellImbalanceLimit: cellVoltage.imbalanceLimit = x
        case .cellImbalanceReset: cellVoltage.imbalanceReset = x
        case .chargeOvercurrent: current.chargeOvercurrent = x
        case .dischargeOvercurrent: current.dischargeOvercurrent = x
        case .shortCircuitLimit: current.shortCircuit = x
        case .boardMaximumCurrent: current.boardMaximum = x
        case .fullTailCurrent: current.fullTailCurrent = x
        case .idealDiodeCurrent: current.idealDiodeCurrent = x
        case .chargeMinimumTemperature: temperature.chargeMinimum = x
        case .chargeMaximumTemperature: temperature.chargeMaximum = x
        case .dischargeMinimumTemperature: temperature.dischargeMinimum = x
        case .dischargeMaximumTemperature: temperature.dischargeMaximum = x
        case .temperatureHysteresis: temperature.hysteresis = x
        case .mosfetMaximumTemperature: temperature.mosfetMaximum = x
        case .boardMaximumTemperature: temperature.boardMaximum = x
        case .balanceTargetVoltageDifference: balancing.targetVoltageDifference = x
        case .balanceIdleCurrent: balancing.idleCurrent = x
        case .voltageWarningMargin: warnings.voltage = x
        case .currentWarningMargin: warnings.currentPercent = x
        case .temperatureWarningMargin: warnings.temperature = x
        case .cellSenseMinimum: plausibility.cellSenseMinimum = x
        case .cellSenseMaximum: plausibility.cellSenseMaximum = x
        case .cellSumTolerance: plausibility.cellSumTolerancePerCell = x
        case .thermistorMinimum: plausibility.thermistorMinimum = x
        case .thermistorMaximum: plausibility.thermistorMaximum = x
        default: break  // not a float field: excluded by `kind`
        }
    }

    private mutating func setUnsigned(_ field: ConfigField, _ n: UInt32) {
        switch field {
        case .seriesCellCount: pack.seriesCells = UInt8(n)
        case .parallelCellCount: pack.parallelCells = UInt8(n)
        case .cellOvervoltageDelay: cellVoltage.overvoltageDelayMs = n
        case .cellUndervoltageDelay: cellVoltage.undervoltageDelayMs = n
        case .cellImbalanceDelay: cellVoltage.imbalanceDelayMs = n
        case .chargeOvercurrentDelay: current.chargeOvercurrentDelayMs = n
        case .dischargeOvercurrentDelay: current.dischargeOvercurrentDelayMs = n
        case .shortCircuitDelay: current.shortCircuitDelayUs = n
        case .fullDelay: current.fullDelaySeconds = n
        case .temperatureDelay: temperature.delayMs = n
        case .balanceIdleDelay: balancing.idleDelaySeconds = n
        case .plausibilityDelay: plausibility.delayMs = n
        case .measurementTimeout: plausibility.measurementTimeoutMs = n
        case .recoveryDelay(let f): recovery[f].delaySeconds = n
        case .latchAfter(let f): recovery[f].latchAfter = UInt8(n)
        case .latchWindow(let f): recovery[f].windowSeconds = n
        case .paygGrace: payg.graceSeconds = n
        case .paygWarning: payg.warningSeconds = n
        default: break  // not an unsigned field: excluded by `kind`
        }
    }
}
