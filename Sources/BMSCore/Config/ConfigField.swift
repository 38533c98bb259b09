/// One named setting of `BMSConfig`: the bridge between the typed configuration and the
/// names used in configuration files and on ThingSet (`Conf` group).
///
/// Names keep the Libre Solar firmware's where an equivalent exists (reference §10), so
/// existing tools keep working; the others follow the ThingSet v0.6 rule "quantity in the
/// name". Strings exist only here, at the edge.
public enum ConfigField: Equatable, Sendable {
    case seriesCellCount, parallelCellCount, nominalCapacity, chemistry
    case cellOvervoltage, cellOvervoltageReset, cellOvervoltageDelay
    case cellChargeVoltage, cellRechargeVoltage, balanceMinimumVoltage
    case cellUndervoltageReset, cellDischargeCutoff, cellUndervoltage, cellUndervoltageDelay
    case cellImbalanceLimit, cellImbalanceReset, cellImbalanceDelay
    case chargeOvercurrent, chargeOvercurrentDelay, dischargeOvercurrent, dischargeOvercurrentDelay
    case shortCircuitLimit, shortCircuitDelay, boardMaximumCurrent, fullTailCurrent, fullDelay
    case idealDiodeCurrent
    case chargeMinimumTemperature, chargeMaximumTemperature
    case dischargeMinimumTemperature, dischargeMaximumTemperature
    case temperatureHysteresis, temperatureDelay, mosfetMaximumTemperature, boardMaximumTemperature
    case balanceTargetVoltageDifference, balanceIdleDelay, balanceIdleCurrent
    case voltageWarningMargin, currentWarningMargin, temperatureWarningMargin
    case cellSenseMinimum, cellSenseMaximum, cellSumTolerance
    case thermistorMinimum, thermistorMaximum, plausibilityDelay, measurementTimeout
    case chargeEnable, dischargeEnable
    case cellR0, cellR1, cellTau1, cellR2, cellTau2
    case paygGrace, paygWarning
    /// Measurement calibration (`p` items): `pCurrentGain`, `pCurrentOffset_A`.
    case currentGain, currentOffset
    /// `s<Fault>RecoveryDelay_s`
    case recoveryDelay(Fault)
    /// `s<Fault>LatchAfter`
    case latchAfter(Fault)
    /// `s<Fault>LatchWindow_s`
    case latchWindow(Fault)
    /// One point of `sOcvPoints_V`.
    case ocvPoint(OCVPoint)
    /// One cell channel's entry of `pCellVoltageGain` / `pCellVoltageOffset_V`.
    case cellVoltageGain(CellChannel)
    case cellVoltageOffset(CellChannel)
    /// One thermistor's entry of `pThermistorOffset_K`.
    case thermistorOffset(SensorChannel)

    /// The fields that are not per fault, in the order files list them. New fields go at the
    /// end: ThingSet numbers the ones without a reference ID by this order. Computed, not a
    /// stored global: a lazily initialised global needs `swift_once` and so atomics, which
    /// an ARMv6-M core does not have.
    static var plainFields: InlineArray<59, ConfigField> { [
        .seriesCellCount, .parallelCellCount, .nominalCapacity, .chemistry,
        .cellOvervoltage, .cellOvervoltageReset, .cellOvervoltageDelay,
        .cellChargeVoltage, .cellRechargeVoltage, .balanceMinimumVoltage,
        .cellUndervoltageReset, .cellDischargeCutoff, .cellUndervoltage, .cellUndervoltageDelay,
        .cellImbalanceLimit, .cellImbalanceReset, .cellImbalanceDelay,
        .chargeOvercurrent, .chargeOvercurrentDelay, .dischargeOvercurrent, .dischargeOvercurrentDelay,
        .shortCircuitLimit, .shortCircuitDelay, .boardMaximumCurrent, .fullTailCurrent, .fullDelay,
        .idealDiodeCurrent, .chargeMinimumTemperature, .chargeMaximumTemperature,
        .dischargeMinimumTemperature, .dischargeMaximumTemperature,
        .temperatureHysteresis, .temperatureDelay, .mosfetMaximumTemperature, .boardMaximumTemperature,
        .balanceTargetVoltageDifference, .balanceIdleDelay, .balanceIdleCurrent,
        .voltageWarningMargin, .currentWarningMargin, .temperatureWarningMargin,
        .cellSenseMinimum, .cellSenseMaximum, .cellSumTolerance,
        .thermistorMinimum, .thermistorMaximum, .plausibilityDelay, .measurementTimeout,
        .chargeEnable, .dischargeEnable,
        .cellR0, .cellR1, .cellTau1, .cellR2, .cellTau2,
        .paygGrace, .paygWarning, .currentGain, .currentOffset,
    ] }

    /// Calls `body` with every field: the plain ones, then the three recovery fields of each
    /// fault that has a recovery policy.
    public static func forEach(_ body: (ConfigField) -> Void) {
        for i in plainFields.indices { body(plainFields[i]) }
        var raw: UInt8 = 0
        while let fault = Fault(rawValue: raw) {
            if fault.hasRecoveryPolicy {
                body(.recoveryDelay(fault))
                body(.latchAfter(fault))
                body(.latchWindow(fault))
            }
            raw += 1
        }
        for k in 0..<21 { body(.ocvPoint(.at(k))) }
        for k in 0..<16 { body(.cellVoltageGain(.at(k))) }
        for k in 0..<16 { body(.cellVoltageOffset(.at(k))) }
        for k in 0..<8 { body(.thermistorOffset(.at(k))) }
    }

    /// The settings that are single values (no element of an array setting): the plain
    /// fields, then the three recovery fields of each fault with a recovery policy, in the
    /// order of `forEach`. Indexed access for protocol tables (ThingSet), without storage.
    public static var singleValueCount: Int {
        var n = plainFields.count
        var raw: UInt8 = 0
        while let fault = Fault(rawValue: raw) {
            if fault.hasRecoveryPolicy { n += 3 }
            raw += 1
        }
        return n
    }

    /// The single-value setting at `index` (0 ≤ index < `singleValueCount`).
    public static func singleValue(at index: Int) -> ConfigField? {
        let plain = plainFields
        if index < plain.count { return plain[index] }
        var k = index - plain.count
        var raw: UInt8 = 0
        while let fault = Fault(rawValue: raw) {
            if fault.hasRecoveryPolicy {
                if k < 3 { return k == 0 ? .recoveryDelay(fault) : k == 1 ? .latchAfter(fault) : .latchWindow(fault) }
                k -= 3
            }
            raw += 1
        }
        return nil
    }

    /// The stored kind of the field's value.
    public var kind: ConfigValueKind {
        switch self {
        case .seriesCellCount, .parallelCellCount, .latchAfter: .uint8
        case .chemistry: .chemistry
        case .chargeEnable, .dischargeEnable: .bool
        case .cellOvervoltageDelay, .cellUndervoltageDelay, .cellImbalanceDelay,
             .chargeOvercurrentDelay, .dischargeOvercurrentDelay, .shortCircuitDelay, .fullDelay,
             .temperatureDelay, .balanceIdleDelay, .plausibilityDelay, .measurementTimeout,
             .recoveryDelay, .latchWindow, .paygGrace, .paygWarning:
            .uint32
        default: .float
        }
    }

    /// The field's name in three parts to be written one after the other (no allocation):
    /// e.g. `("s", "ShortCircuit", "RecoveryDelay_s")`, or `("sCellOvervoltage_V", "", "")`.
    public var nameParts: (StaticString, StaticString, StaticString) {
        switch self {
        case .recoveryDelay(let f): ("s", f.name, "RecoveryDelay_s")
        case .latchAfter(let f): ("s", f.name, "LatchAfter")
        case .latchWindow(let f): ("s", f.name, "LatchWindow_s")
        case .ocvPoint: ("sOcvPoints_V", "", "")
        case .cellVoltageGain: ("pCellVoltageGain", "", "")
        case .cellVoltageOffset: ("pCellVoltageOffset_V", "", "")
        case .thermistorOffset: ("pThermistorOffset_K", "", "")
        default: (plainName, "", "")
        }
    }

    private var plainName: StaticString {
        switch self {
        case .seriesCellCount: "sSeriesCellCount"
        case .parallelCellCount: "sParallelCellCount"
        case .nominalCapacity: "sNominalCapacity_Ah"
        case .chemistry: "sCellChemistry"
        case .cellOvervoltage: "sCellOvervoltage_V"
        case .cellOvervoltageReset: "sCellOvervoltageReset_V"
        case .cellOvervoltageDelay: "sCellOvervoltageDelay_ms"
        case .cellChargeVoltage: "sCellChargeVoltage_V"
        case .cellRechargeVoltage: "sCellRechargeVoltage_V"
        case .balanceMinimumVoltage: "sBalMinVoltage_V"
        case .cellUndervoltageReset: "sCellUndervoltageReset_V"
        case .cellDischargeCutoff: "sCellDischargeCutoff_V"
        case .cellUndervoltage: "sCellUndervoltage_V"
        case .cellUndervoltageDelay: "sCellUndervoltageDelay_ms"
        case .cellImbalanceLimit: "sCellImbalanceLimit_V"
        case .cellImbalanceReset: "sCellImbalanceReset_V"
        case .cellImbalanceDelay: "sCellImbalanceDelay_ms"
        case .chargeOvercurrent: "sChgOvercurrent_A"
        case .chargeOvercurrentDelay: "sChgOvercurrentDelay_ms"
        case .dischargeOvercurrent: "sDisOvercurrent_A"
        case .dischargeOvercurrentDelay: "sDisOvercurrentDelay_ms"
        case .shortCircuitLimit: "sShortCircuitLimit_A"
        case .shortCircuitDelay: "sShortCircuitDelay_us"
        case .boardMaximumCurrent: "sBoardMaxCurrent_A"
        case .fullTailCurrent: "sFullTailCurrent_A"
        case .fullDelay: "sFullDelay_s"
        case .idealDiodeCurrent: "sIdealDiodeCurrent_A"
        case .chargeMinimumTemperature: "sChgMinTemp_degC"
        case .chargeMaximumTemperature: "sChgMaxTemp_degC"
        case .dischargeMinimumTemperature: "sDisMinTemp_degC"
        case .dischargeMaximumTemperature: "sDisMaxTemp_degC"
        case .temperatureHysteresis: "sTempLimitHysteresis_degC"
        case .temperatureDelay: "sTempLimitDelay_ms"
        case .mosfetMaximumTemperature: "sMosfetMaxTemp_degC"
        case .boardMaximumTemperature: "sBoardMaxTemp_degC"
        case .balanceTargetVoltageDifference: "sBalTargetVoltageDiff_V"
        case .balanceIdleDelay: "sBalIdleDelay_s"
        case .balanceIdleCurrent: "sBalIdleCurrent_A"
        case .voltageWarningMargin: "sVoltageWarnMargin_V"
        case .currentWarningMargin: "sCurrentWarnMargin_pct"
        case .temperatureWarningMargin: "sTempWarnMargin_degC"
        case .cellSenseMinimum: "sCellSenseMin_V"
        case .cellSenseMaximum: "sCellSenseMax_V"
        case .cellSumTolerance: "sCellSumTolerance_V"
        case .thermistorMinimum: "sThermistorMin_degC"
        case .thermistorMaximum: "sThermistorMax_degC"
        case .plausibilityDelay: "sPlausibilityDelay_ms"
        case .measurementTimeout: "sMeasTimeout_ms"
        case .chargeEnable: "wChgEnable"
        case .dischargeEnable: "wDisEnable"
        case .cellR0: "sCellR0_mOhm"
        case .cellR1: "sCellR1_mOhm"
        case .cellTau1: "sCellTau1_s"
        case .cellR2: "sCellR2_mOhm"
        case .cellTau2: "sCellTau2_s"
        case .paygGrace: "sPaygGrace_s"
        case .paygWarning: "sPaygWarning_s"
        case .currentGain: "pCurrentGain"
        case .currentOffset: "pCurrentOffset_A"
        case .recoveryDelay, .latchAfter, .latchWindow, .ocvPoint, .cellVoltageGain, .cellVoltageOffset,
             .thermistorOffset: ""
        }
    }
}

/// How a field's value is stored.
public enum ConfigValueKind: Sendable {
    case float, uint8, uint32, bool, chemistry
}

/// A field's value at the edge (file, protocol). Unsigned fields carry `.unsigned`.
public enum ConfigValue: Equatable, Sendable {
    case float(Float)
    case unsigned(UInt32)
    case bool(Bool)
    case chemistry(Chemistry)
}

/// A point of the OCV table, in the reference firmware's order (index 0 is SOC 100 %, 20 is
/// 0 %). An enum like `Fault` rather than a bare number, so that `ConfigField` keeps one
/// compact layout (a second kind of payload made its switches three times larger on ARMv6-M).
public enum OCVPoint: UInt8, Sendable {
    case soc100, soc95, soc90, soc85, soc80, soc75, soc70, soc65, soc60, soc55, soc50, soc45, soc40, soc35, soc30, soc25, soc20, soc15, soc10, soc5, soc0

    /// The point at `index` (0…20).
    public static func at(_ index: Int) -> OCVPoint { OCVPoint(rawValue: UInt8(index))! }

    /// Its index in the table, 0…20.
    public var index: Int { Int(rawValue) }
}

/// A cell channel of the AFE, cell 1 (index 0) to cell 16: the index of a per-cell setting.
/// An enum for the same reason as `OCVPoint`.
public enum CellChannel: UInt8, Sendable {
    case cell1, cell2, cell3, cell4, cell5, cell6, cell7, cell8
    case cell9, cell10, cell11, cell12, cell13, cell14, cell15, cell16

    /// The channel at `index` (0…15).
    public static func at(_ index: Int) -> CellChannel { CellChannel(rawValue: UInt8(index))! }

    public var index: Int { Int(rawValue) }
}

/// A thermistor input in the order the AFE reports it, 1 (index 0) to 8.
public enum SensorChannel: UInt8, Sendable {
    case sensor1, sensor2, sensor3, sensor4, sensor5, sensor6, sensor7, sensor8

    /// The input at `index` (0…7).
    public static func at(_ index: Int) -> SensorChannel { SensorChannel(rawValue: UInt8(index))! }

    public var index: Int { Int(rawValue) }
}
