/// A rule a configuration can break. Each case's `reason` is the sentence shown to the user.
public enum ConfigRule: UInt8, Sendable {
    case outOfRange
    case mustBeBelow
    case overcurrentAboveBoardMaximum
    case shortCircuitNotAboveOvercurrent
    case warningBelowChargeTarget
    case temperatureWindowTooNarrow
    case latchWindowMissing
    case senseRangeInsideLimits
    case aboveChemistryMaximum
    case ocvTableRisesTowardEmpty
    case ocvTableFlat
    case needsCellR0

    /// A short, readable statement of the rule.
    public var reason: StaticString {
        switch self {
        case .outOfRange: "value is outside the allowed range"
        case .mustBeBelow: "must be below"
        case .overcurrentAboveBoardMaximum: "over-current limit exceeds what the board carries"
        case .shortCircuitNotAboveOvercurrent: "short-circuit limit must be above the discharge over-current limit"
        case .warningBelowChargeTarget: "over-voltage pre-alarm (trip minus warning margin) must lie above the charge target, or every full charge raises a warning"
        case .temperatureWindowTooNarrow: "temperature window must be wider than twice the hysteresis, or the release points cross"
        case .latchWindowMissing: "latching after more than one trip needs a window longer than the recovery delay"
        case .senseRangeInsideLimits: "plausibility range must lie outside the protection limits, or a real cell reads as a sensor fault"
        case .ocvTableRisesTowardEmpty: "each OCV point must be at or below the one before it (the table runs from 100 % down to 0 % SOC)"
        case .needsCellR0: "is given relative to R0: set sCellR0_mOhm too (both from flexbms calibrate model)"
        case .ocvTableFlat: "the OCV table must fall from 100 % to 0 % SOC, or it names no SOC at all"
        case .aboveChemistryMaximum: "more than the chosen chemistry tolerates; set sCellChemistry to custom if these cells are rated for it"
        }
    }
}

/// One broken rule: which field, its value, and the limit or the other field it conflicts with.
public struct ConfigViolation: Sendable {
    public var rule: ConfigRule
    public var field: ConfigField
    public var value: Float
    /// The bound that was crossed (for `.outOfRange`: see `lowerBound`/`upperBound`).
    public var limit: Float
    /// The field the value conflicts with, when the rule is about two settings.
    public var other: ConfigField?
    public var lowerBound: Float
    public var upperBound: Float

    public init(rule: ConfigRule, field: ConfigField, value: Float, limit: Float = 0,
                other: ConfigField? = nil, lowerBound: Float = 0, upperBound: Float = 0) {
        self.rule = rule
        self.field = field
        self.value = value
        self.limit = limit
        self.other = other
        self.lowerBound = lowerBound
        self.upperBound = upperBound
    }
}

/// Every violation found by one `validate()`; room for 48, more are counted in `dropped`.
public typealias ConfigViolations = FixedList<48, ConfigViolation>

/// Errors of configuration handling in BMSCore.
public enum ConfigError: Error, Sendable {
    /// The configuration breaks the listed rules; nothing was applied.
    case invalid(ConfigViolations)
    /// A field was given a value of the wrong kind (e.g. a number for a flag).
    case wrongType(ConfigField)
    /// A value does not fit the field's storage (e.g. 300 for an 8-bit count, or a fraction
    /// for an integer field).
    case notRepresentable(ConfigField, Float)
}
