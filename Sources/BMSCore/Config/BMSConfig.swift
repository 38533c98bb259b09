/// Everything a field engineer sets on a FlexBMS, as one value.
///
/// Units: volts per cell, amperes (magnitudes: a discharge limit of 100 A means −100 A of
/// measured current), degrees Celsius, and the time unit in each delay's name. Build one from
/// a preset with `BMSConfig.preset(_:cells:capacityAh:)`, change what you need, and check it
/// with `validate()`; `BatteryManager.apply(_:)` refuses a configuration that has violations.
public struct BMSConfig: Sendable {
    public var pack: PackConfig
    public var cellVoltage: CellVoltageLimits
    public var current: CurrentLimits
    public var temperature: TemperatureLimits
    public var balancing: BalancingConfig
    public var warnings: WarningMargins
    public var plausibility: PlausibilityLimits
    public var recovery: RecoveryTable
    public var inputs: EnableInputs
    /// The cells' own OCV table, V, from SOC 100 % down to 0 % in 5 % steps (`sOcvPoints_V`,
    /// in the reference firmware's order), as `flexbms calibrate ocv` measures it. All zero
    /// means none: the estimators use the chemistry's preset curve and learn no capacity,
    /// since a rest read through a curve that is not the cells' own teaches a wrong one.
    public var ocvPoints: InlineArray<21, Float> = InlineArray(repeating: 0)
    /// The cells' equivalent circuit as `flexbms calibrate model` measures it; zeros: the
    /// estimator's defaults, with R0 learned from current steps.
    public var cellModel = CellModelConfig()
    /// Pay-as-you-go timing (the credit itself comes from the PAYG module at run time).
    public var payg = PAYGConfig()
    /// The board's measurement errors, corrected before protection sees a sample.
    public var calibration = MeasurementCalibration()

    /// Whether an OCV table is set (any point non-zero).
    public var hasOCVTable: Bool {
        for k in 0..<21 where ocvPoints[k] != 0 { return true }
        return false
    }

    /// The OCV table as the estimator's curve (SOC rising), or `nil` when none is set.
    public var ocvCurve: OCVCurve? {
        guard hasOCVTable else { return nil }
        var volts = InlineArray<21, Float>(repeating: 0)
        for k in 0..<21 { volts[k] = ocvPoints[20 - k] }
        return OCVCurve(volts: volts)
    }

    /// Sets the OCV table from a curve (SOC rising), or clears it with `nil`.
    public mutating func setOCVTable(_ curve: OCVCurve?) {
        for k in 0..<21 { ocvPoints[k] = curve.map { $0.volts[20 - k] } ?? 0 }
    }

    public init(pack: PackConfig, cellVoltage: CellVoltageLimits, current: CurrentLimits,
                temperature: TemperatureLimits, balancing: BalancingConfig,
                warnings: WarningMargins, plausibility: PlausibilityLimits,
                recovery: RecoveryTable, inputs: EnableInputs) {
        self.pack = pack
        self.cellVoltage = cellVoltage
        self.current = current
        self.temperature = temperature
        self.balancing = balancing
        self.warnings = warnings
        self.plausibility = plausibility
        self.recovery = recovery
        self.inputs = inputs
    }
}

/// A series group's equivalent circuit at 25 °C: R0 and two RC pairs. Each value 0 means
/// "not given": R0 is then learned from current steps, R1 taken equal to R0 with τ1 60 s,
/// and the slow pair left to absorb what the model misses (τ2 600 s).
public struct CellModelConfig: Sendable {
    /// Ohmic resistance, mΩ (`sCellR0_mOhm`).
    public var r0: Float = 0
    /// Fast pair: resistance, mΩ, and time constant, s (`sCellR1_mOhm`, `sCellTau1_s`).
    public var r1: Float = 0
    public var tau1: Float = 0
    /// Slow pair: resistance, mΩ, and time constant, s (`sCellR2_mOhm`, `sCellTau2_s`).
    public var r2: Float = 0
    public var tau2: Float = 0

    public init() {}

    func isSame(as other: CellModelConfig) -> Bool {
        r0 == other.r0 && r1 == other.r1 && tau1 == other.tau1 && r2 == other.r2 && tau2 == other.tau2
    }
}

/// What the pack is made of.
public struct PackConfig: Sendable {
    /// Cell groups in series, 3–16.
    public var seriesCells: UInt8
    /// Cells in parallel in each group, 1–64 (information for capacity and resistance).
    public var parallelCells: UInt8
    /// Nominal capacity of the pack in Ah (of one series string of groups), 1–5000.
    public var capacityAh: Float
    /// Chemistry the thresholds were chosen for.
    public var chemistry: Chemistry
}

/// Cell-voltage thresholds in volts per cell, from the top:
/// overvoltage > chargeTarget > recharge > undervoltageReset > dischargeCutoff > undervoltage.
public struct CellVoltageLimits: Sendable {
    /// Over-voltage trip: charging stops (`sCellOvervoltage_V`).
    public var overvoltage: Float
    /// Over-voltage release: the highest cell must fall to this before charging resumes.
    public var overvoltageReset: Float
    /// Time the highest cell must stay at or above `overvoltage` before the trip, ms.
    public var overvoltageDelayMs: UInt32
    /// Charge target: a cell at or above it with the current at or below the tail current for
    /// `CurrentLimits.fullDelaySeconds` marks the pack full (charging stops, not a fault).
    public var chargeTarget: Float
    /// A pack marked full takes charge again once its highest cell falls below this.
    public var recharge: Float
    /// Balancing never bleeds a cell below this voltage.
    public var balanceMinimum: Float
    /// Under-voltage release: the lowest cell must rise to this before discharge resumes
    /// after the discharge cutoff or the full cutoff.
    public var undervoltageReset: Float
    /// Discharge cutoff (first level): discharge stops, charging stays possible.
    public var dischargeCutoff: Float
    /// Full cutoff (second level, `sCellUndervoltage_V`): both directions stop.
    public var undervoltage: Float
    /// Time the lowest cell must stay at or below a cutoff before it acts, ms (both levels).
    public var undervoltageDelayMs: UInt32
    /// Highest minus lowest cell at or above this for `imbalanceDelayMs` trips cell imbalance.
    public var imbalanceLimit: Float
    /// Cell imbalance releases when the spread falls to this.
    public var imbalanceReset: Float
    public var imbalanceDelayMs: UInt32
}

/// Current limits; all values are magnitudes in amperes.
public struct CurrentLimits: Sendable {
    /// Charge over-current trip (`sChgOvercurrent_A`).
    public var chargeOvercurrent: Float
    public var chargeOvercurrentDelayMs: UInt32
    /// Discharge over-current trip (`sDisOvercurrent_A`).
    public var dischargeOvercurrent: Float
    public var dischargeOvercurrentDelayMs: UInt32
    /// Discharge short-circuit trip (`sShortCircuitLimit_A`), above the discharge over-current.
    public var shortCircuit: Float
    /// Short-circuit delay for the AFE's hardware comparator, µs. The software check trips on
    /// the first sample at or above the limit.
    public var shortCircuitDelayUs: UInt32
    /// The most the board (FETs, shunt, traces) carries continuously; no over-current limit
    /// may exceed it.
    public var boardMaximum: Float
    /// Tail current for full detection: charging current at or below this at the charge target.
    public var fullTailCurrent: Float
    /// Time the full condition must hold, s.
    public var fullDelaySeconds: UInt32
    /// Ideal-diode threshold: in a one-direction state the other switch closes while at least
    /// this current flows in the allowed direction, and opens below a quarter of it. It must
    /// stay clear of the current sensor's offset, or an offset reads as flow and the switch
    /// lets current through in the forbidden direction.
    public var idealDiodeCurrent: Float
}

/// Temperature windows in °C. A limit trips at or beyond its value and releases
/// `hysteresis` inside it.
public struct TemperatureLimits: Sendable {
    public var chargeMinimum: Float
    public var chargeMaximum: Float
    public var dischargeMinimum: Float
    public var dischargeMaximum: Float
    /// Release distance for every temperature limit, K.
    public var hysteresis: Float
    /// Time a temperature must stay beyond a limit before it trips, ms.
    public var delayMs: UInt32
    /// MOSFET over-temperature: both directions stop.
    public var mosfetMaximum: Float
    /// Board / AFE die over-temperature: both directions stop.
    public var boardMaximum: Float
}

/// Balancing parameters (the decisions come with the balancing issue; kept here so the
/// configuration is complete and validated as a whole).
public struct BalancingConfig: Sendable {
    /// Spread (V) above which a cell is bled toward the lowest.
    public var targetVoltageDifference: Float
    /// Rest time before balancing at rest, s.
    public var idleDelaySeconds: UInt32
    /// |current| at or below which the pack counts as at rest, A.
    public var idleCurrent: Float
}

/// Distances of the pre-alarm (warning) levels from their trips.
public struct WarningMargins: Sendable {
    /// For cell over-voltage, both cutoffs and the imbalance limit, V.
    public var voltage: Float
    /// For over-current limits, percent of the limit (warning at limit × (1 − pct/100)).
    public var currentPercent: Float
    /// For every temperature limit, K.
    public var temperature: Float
}

/// What a sane measurement looks like. Readings outside these are sensor faults, not cells.
public struct PlausibilityLimits: Sendable {
    /// A cell reading below this is an open sense wire, not a cell.
    public var cellSenseMinimum: Float
    /// A cell reading above this is an open sense wire or a broken ADC channel.
    public var cellSenseMaximum: Float
    /// Allowed difference between the sum of the cells and the stack voltage, per cell, V.
    public var cellSumTolerancePerCell: Float
    /// A thermistor reading at or below this is open.
    public var thermistorMinimum: Float
    /// A thermistor reading at or above this is shorted.
    public var thermistorMaximum: Float
    /// Time an implausible reading must persist before it trips, ms.
    public var delayMs: UInt32
    /// Age of the last measurement beyond which the AFE counts as silent, ms.
    public var measurementTimeoutMs: UInt32
}

/// How a fault comes back after it tripped.
///
/// It releases when its release condition holds (e.g. the cell fell below the release
/// voltage) and `delaySeconds` have passed since the trip. With `latchAfter` = N > 0, the
/// N-th trip within `windowSeconds` latches instead: the fault then stays until it is
/// cleared by the manual reset (`BatteryManager.resetFaults(at:)`). N = 1 latches on the first trip;
/// N = 0 never latches.
public struct RecoveryPolicy: Equatable, Sendable {
    public var delaySeconds: UInt32
    public var latchAfter: UInt8
    public var windowSeconds: UInt32

    public init(delaySeconds: UInt32, latchAfter: UInt8 = 0, windowSeconds: UInt32 = 0) {
        self.delaySeconds = delaySeconds
        self.latchAfter = latchAfter
        self.windowSeconds = windowSeconds
    }

    /// Releases as soon as the release condition holds; never latches.
    public static var immediate: RecoveryPolicy { RecoveryPolicy(delaySeconds: 0) }
}

/// One recovery policy per fault, indexed by `Fault`.
public struct RecoveryTable: Sendable {
    var policies: InlineArray<18, RecoveryPolicy>

    public init(repeating policy: RecoveryPolicy) {
        policies = InlineArray(repeating: policy)
    }

    public subscript(fault: Fault) -> RecoveryPolicy {
        get { policies[Int(fault.rawValue)] }
        set { policies[Int(fault.rawValue)] = newValue }
    }
}

/// The charge and discharge enable inputs (`wChgEnable`, `wDisEnable`): an operator or an
/// external controller may forbid a direction. Values in a configuration are the start values.
public struct EnableInputs: Equatable, Sendable {
    public var chargeEnable: Bool
    public var dischargeEnable: Bool

    public init(chargeEnable: Bool = true, dischargeEnable: Bool = true) {
        self.chargeEnable = chargeEnable
        self.dischargeEnable = dischargeEnable
    }
}
