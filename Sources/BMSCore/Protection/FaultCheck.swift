/// The verdict of one fault's condition on one measurement, before delays and recovery.
struct FaultCheck {
    /// The trip condition holds (the delay timer runs while it does).
    var trip = false
    /// The release condition holds (hysteresis passed): an active fault may recover.
    var release = true
    /// The pre-alarm condition holds.
    var warn = false
    /// The pre-alarm may clear (value back inside the warning level by a dead band).
    var warnClear = true
    /// The value that decided it (V, A, °C …) and the cell or sensor it belongs to.
    var value: Float = 0
    var index: UInt8?
    /// Trip without waiting for the delay: the AFE already applied its own.
    var immediate = false

    /// A limit that trips at or above `trip`, releases at or below `release`, and warns at or
    /// above `warning` (no warning when `warning` is not below `trip`).
    static func over(_ x: Float?, trip: Float, release: Float, warning: Float,
                     index: UInt8? = nil) -> FaultCheck {
        guard let x else { return FaultCheck() }
        let deadband = (trip - warning) / 4
        let warns = warning < trip
        return FaultCheck(trip: x >= trip, release: x <= release,
                          warn: warns && x >= warning,
                          warnClear: !warns || x < warning - deadband,
                          value: x, index: index)
    }

    /// A limit that trips at or below `trip`, releases at or above `release`, and warns at or
    /// below `warning` (no warning when `warning` is not above `trip`).
    static func under(_ x: Float?, trip: Float, release: Float, warning: Float,
                      index: UInt8? = nil) -> FaultCheck {
        guard let x else { return FaultCheck() }
        let deadband = (warning - trip) / 4
        let warns = warning > trip
        return FaultCheck(trip: x <= trip, release: x >= release,
                          warn: warns && x <= warning,
                          warnClear: !warns || x > warning + deadband,
                          value: x, index: index)
    }

    /// A condition that is either present or not (no levels, no warning).
    static func present(_ condition: Bool, value: Float = 0, index: UInt8? = nil) -> FaultCheck {
        FaultCheck(trip: condition, release: !condition, value: value, index: index)
    }
}

extension Fault {
    /// This fault's condition on measurement `m` (summarised in `s`) under `config`, with
    /// the switch command that was in force. `afeSilent` is decided by the caller from the
    /// clock. (Separate borrowed parameters, not one context struct: building that struct
    /// copied the measurement and the configuration at every step.)
    func check(_ m: Measurement, _ s: MeasurementSummary, _ config: BMSConfig,
               commanded: SwitchCommand) -> FaultCheck {
        let v = config.cellVoltage, t = config.temperature, i = config.current
        let vMargin = config.warnings.voltage, tMargin = config.warnings.temperature
        let iFactor = 1 - config.warnings.currentPercent / 100
        let discharge = -m.current
        let minCell: Float? = s.hasPlausibleCell ? s.minCell : nil
        let maxCell: Float? = s.hasPlausibleCell ? s.maxCell : nil
        switch self {
        case .cellUndervoltage:
            return .under(minCell, trip: v.undervoltage, release: v.undervoltageReset,
                          warning: v.undervoltage + vMargin, index: s.minCellIndex)
        case .dischargeCutoff:
            return .under(minCell, trip: v.dischargeCutoff, release: v.undervoltageReset,
                          warning: v.dischargeCutoff + vMargin, index: s.minCellIndex)
        case .cellOvervoltage:
            return .over(maxCell, trip: v.overvoltage, release: v.overvoltageReset,
                         warning: v.overvoltage - vMargin, index: s.maxCellIndex)
        case .cellImbalance:
            // Judged only while every cell is between the discharge cutoff and the charge
            // target: near the ends the OCV curve is steep (LFP's knees above all), so a few
            // percent of SOC difference shows as hundreds of mV. That is the business of the
            // cutoffs and of balancing, not a cell failure; outside the window the fault
            // neither trips nor releases.
            guard s.hasPlausibleCell, s.minCell >= v.dischargeCutoff, s.maxCell <= v.chargeTarget else {
                var hold = FaultCheck()
                hold.release = false
                hold.warnClear = false
                return hold
            }
            return .over(s.maxCell - s.minCell, trip: v.imbalanceLimit, release: v.imbalanceReset,
                         warning: v.imbalanceLimit - vMargin, index: s.minCellIndex)
        case .shortCircuit:
            var check = FaultCheck.present(
                m.afeFlags.contains(.shortCircuit) || discharge >= i.shortCircuit,
                value: m.current)
            check.release = !m.afeFlags.contains(.shortCircuit) && discharge < i.dischargeOvercurrent
            return check
        case .dischargeOvercurrent:
            var check = FaultCheck.over(discharge, trip: i.dischargeOvercurrent,
                                        release: i.dischargeOvercurrent,
                                        warning: i.dischargeOvercurrent * iFactor)
            check.value = m.current
            if m.afeFlags.contains(.dischargeOvercurrent) {
                check.trip = true; check.release = false; check.immediate = true
            }
            return check
        case .chargeOvercurrent:
            var check = FaultCheck.over(m.current, trip: i.chargeOvercurrent,
                                        release: i.chargeOvercurrent,
                                        warning: i.chargeOvercurrent * iFactor)
            if m.afeFlags.contains(.chargeOvercurrent) {
                check.trip = true; check.release = false; check.immediate = true
            }
            return check
        case .openWire:
            if m.afeFlags.contains(.openWire) { return .present(true) }
            if let cell = s.implausibleCell {
                return .present(true, value: m.cellVoltages[Int(cell)], index: cell)
            }
            if let stack = m.stackVoltage {
                let tolerance = config.plausibility.cellSumTolerancePerCell
                    * Float(Int(config.pack.seriesCells))
                let difference = s.cellSum - stack
                return .present(!(difference <= tolerance && difference >= -tolerance),
                                value: difference)
            }
            return .present(false)
        case .dischargeUndertemperature:
            return .under(s.minCellTemperature, trip: t.dischargeMinimum,
                          release: t.dischargeMinimum + t.hysteresis,
                          warning: t.dischargeMinimum + tMargin, index: s.minCellTemperatureIndex)
        case .dischargeOvertemperature:
            return .over(s.maxCellTemperature, trip: t.dischargeMaximum,
                         release: t.dischargeMaximum - t.hysteresis,
                         warning: t.dischargeMaximum - tMargin, index: s.maxCellTemperatureIndex)
        case .chargeUndertemperature:
            return .under(s.minCellTemperature, trip: t.chargeMinimum,
                          release: t.chargeMinimum + t.hysteresis,
                          warning: t.chargeMinimum + tMargin, index: s.minCellTemperatureIndex)
        case .chargeOvertemperature:
            return .over(s.maxCellTemperature, trip: t.chargeMaximum,
                         release: t.chargeMaximum - t.hysteresis,
                         warning: t.chargeMaximum - tMargin, index: s.maxCellTemperatureIndex)
        case .boardOvertemperature:
            return .over(s.maxBoardTemperature, trip: t.boardMaximum,
                         release: t.boardMaximum - t.hysteresis,
                         warning: t.boardMaximum - tMargin, index: s.maxBoardTemperatureIndex)
        case .mosfetOvertemperature:
            return .over(s.maxMosfetTemperature, trip: t.mosfetMaximum,
                         release: t.mosfetMaximum - t.hysteresis,
                         warning: t.mosfetMaximum - tMargin, index: s.maxMosfetTemperatureIndex)
        case .temperatureSensor:
            if let sensor = s.implausibleSensor {
                return .present(true, value: s.implausibleSensorValue, index: sensor)
            }
            // Without a single plausible cell sensor the temperature windows cannot be
            // enforced at all: that is a sensor fault too, not a silent pass.
            return .present(s.minCellTemperature == nil)
        case .dischargeSwitchFailure:
            guard let readback = m.dischargeSwitchReadback else { return .present(false) }
            return .present(readback != commanded.dischargeOn, value: readback ? 1 : 0)
        case .chargeSwitchFailure:
            guard let readback = m.chargeSwitchReadback else { return .present(false) }
            return .present(readback != commanded.chargeOn, value: readback ? 1 : 0)
        case .afeSilent:
            return .present(false)
        }
    }

    /// Time the trip condition must hold before the fault trips, ms (0 = on the first sample).
    public func tripDelayMs(_ config: BMSConfig) -> UInt32 {
        switch self {
        case .cellUndervoltage, .dischargeCutoff: config.cellVoltage.undervoltageDelayMs
        case .cellOvervoltage: config.cellVoltage.overvoltageDelayMs
        case .cellImbalance: config.cellVoltage.imbalanceDelayMs
        case .shortCircuit, .afeSilent: 0
        case .dischargeOvercurrent: config.current.dischargeOvercurrentDelayMs
        case .chargeOvercurrent: config.current.chargeOvercurrentDelayMs
        case .dischargeUndertemperature, .dischargeOvertemperature, .chargeUndertemperature,
             .chargeOvertemperature, .boardOvertemperature, .mosfetOvertemperature:
            config.temperature.delayMs
        case .openWire, .temperatureSensor, .dischargeSwitchFailure, .chargeSwitchFailure:
            config.plausibility.delayMs
        }
    }
}
