/// What the pay-as-you-go module says about the credit, handed to the battery core every
/// second by the firmware (which owns the token decoder; the core knows nothing of tokens).
public struct PAYGCredit: Equatable, Sendable {
    /// PAYG is in force (false after a disable token: the unit is paid off).
    public var enforced: Bool
    /// Seconds of credit left (0: expired).
    public var secondsLeft: UInt64
    /// Seconds since the credit ran out, on the PAYG module's own clock (0 while there is
    /// credit). The grace period is counted from this, not from when the core first saw the
    /// credit expired: a reset of the core must not start a new grace period.
    public var secondsExpired: UInt64

    public init(enforced: Bool, secondsLeft: UInt64, secondsExpired: UInt64 = 0) {
        self.enforced = enforced
        self.secondsLeft = secondsLeft
        self.secondsExpired = secondsLeft > 0 ? 0 : secondsExpired
    }

    /// No PAYG on this unit.
    public static var notEnforced: PAYGCredit { PAYGCredit(enforced: false, secondsLeft: 0) }
}

/// Turns the credit into a permission to discharge: a warning some time before the credit
/// runs out, then a grace period after it, then discharge off. Charging is never refused for
/// want of credit (a locked battery must not be damaged by lying empty), and the gate can only
/// take a direction away, never give back one that protection has blocked.
public struct PAYGGate: Sendable {
    public private(set) var credit = PAYGCredit.notEnforced
    /// Discharge is off for want of credit.
    public private(set) var locked = false
    /// The warning before expiry has been raised for this credit.
    public private(set) var warned = false

    public init() {}

    /// Takes a new credit reading; returns the event it causes, if any.
    mutating func update(_ newCredit: PAYGCredit, config: PAYGConfig) -> BMSEventKind? {
        credit = newCredit
        guard newCredit.enforced else {
            warned = false
            if locked { locked = false; return .paygUnlocked }
            return nil
        }
        if newCredit.secondsLeft > 0 {
            if locked {
                locked = false
                warned = newCredit.secondsLeft <= UInt64(config.warningSeconds)
                return .paygUnlocked
            }
            if newCredit.secondsLeft > UInt64(config.warningSeconds) {
                warned = false
            } else if !warned {
                warned = true
                return .paygWarning
            }
            return nil
        }
        if !locked && newCredit.secondsExpired >= UInt64(config.graceSeconds) {
            locked = true
            return .paygLocked
        }
        if !warned {
            warned = true
            return .paygWarning
        }
        return nil
    }
}

/// Pay-as-you-go settings.
public struct PAYGConfig: Sendable {
    /// How long discharge stays on after the credit has run out, s (`sPaygGrace_s`): time to
    /// buy a token before the lights go out.
    public var graceSeconds: UInt32 = 3600
    /// How long before the credit runs out the warning is raised, s (`sPaygWarning_s`).
    public var warningSeconds: UInt32 = 86_400

    public init() {}
}

/// How a token entry ended, for the event log (every attempt is logged, spec: the operator
/// must see guessing as well as paying).
public enum PAYGEntryOutcome: UInt8, Sendable {
    case accepted = 0, alreadyUsed = 1, invalid = 2, lockedOut = 3
}
