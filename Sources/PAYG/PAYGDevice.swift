/// What a token does (spec §2, §5.3 step 7: the value decides before the count's parity).
public enum TokenKind: UInt8, Sendable {
    case addTime, setTime, disablePAYG, counterSync
    /// Values 996 and 997: the count is used, nothing changes.
    case reserved

    /// The special values.
    public static var disableValue: UInt32 { 998 }
    public static var syncValue: UInt32 { 999 }

    /// Count parity of the kind: add time on even counts, everything else on odd ones.
    public var usesEvenCount: Bool { self == .addTime }
}

/// What a device is given once, at the factory.
public struct PAYGProvisioning: Sendable {
    public var chain: TokenChain
    /// One value unit is 1/divider day (1 … 255).
    public var timeDivider: UInt8
    /// Tokens are typed with keys 1–4 (15 digits).
    public var restrictedDigits: Bool
    /// The count the device starts at (the first add-time token then has count 2).
    public var initialCount: UInt32

    public init(chain: TokenChain, timeDivider: UInt8 = 1, restrictedDigits: Bool = false, initialCount: UInt32 = 1) {
        self.chain = chain
        self.timeDivider = max(timeDivider, 1)
        self.restrictedDigits = restrictedDigits
        self.initialCount = initialCount
    }
}

/// What a device keeps across resets. Times are seconds of the device's own clock: a
/// monotonic count of seconds the BMS has been running (stored with the state), not a
/// settable wall clock, so that no one gains credit by setting a date back.
public struct PAYGState: Sendable, Equatable {
    /// The highest count accepted, and which of the 16 counts below it were used (bit i is
    /// count `maxCount − 1 − i`).
    public var maxCount: UInt32
    public var usedMask: UInt16 = 0
    /// PAYG on (false after a disable token: the unit stays on for good, until a set-time).
    public var enabled = true
    /// Credit lasts until this device time, s.
    public var activeUntil: UInt64 = 0
    /// Invalid entries in a row, and the device time until which entry is refused.
    public var invalidStreak: UInt8 = 0
    public var lockedUntil: UInt64 = 0

    public init(maxCount: UInt32) {
        self.maxCount = maxCount
    }
}

/// The answer to one entered token.
public enum TokenResult: Equatable, Sendable {
    /// Accepted: what it did, its value (units of 1/divider day, or 998/999) and its count.
    case accepted(TokenKind, value: UInt32, count: UInt32)
    /// A genuine token that was already used (or is older than a set-time, disable or sync).
    case alreadyUsed
    /// Not a token of this device (or mistyped).
    case invalid
    /// Too many invalid entries: try again after this many seconds.
    case lockedOut(secondsLeft: UInt64)
}

/// The device side of OpenPAYGO Token (spec §5–§7): decodes entered tokens, keeps every token
/// single-use, grants credit time, and locks out guessing. One value, no heap, no clock of its
/// own: the caller passes the device time.
public struct PAYGDevice: Sendable {
    public let provisioning: PAYGProvisioning
    public private(set) var state: PAYGState

    /// Forward windows above `maxCount` (sync tokens look further) and the window below it
    /// for older unused add-time tokens (the code values the spec adopts, §5.2).
    public static var forwardWindow: UInt32 { 64 }
    public static var syncForwardWindow: UInt32 { 100 }
    public static var olderWindow: UInt32 { 16 }

    public init(provisioning: PAYGProvisioning, state: PAYGState? = nil) {
        self.provisioning = provisioning
        self.state = state ?? PAYGState(maxCount: provisioning.initialCount)
    }

    /// Whether the unit may discharge at device time `now`.
    public func isActive(now: UInt64) -> Bool { !state.enabled || state.activeUntil > now }

    /// Credit left at `now`, s (0 when expired; meaningless while PAYG is disabled).
    public func secondsLeft(now: UInt64) -> UInt64 { state.activeUntil > now ? state.activeUntil - now : 0 }

    /// Seconds since the credit ran out at `now` (0 while there is credit).
    public func secondsExpired(now: UInt64) -> UInt64 { now >= state.activeUntil ? now - state.activeUntil : 0 }

    /// Enters a token typed as `text` at device time `now`.
    public mutating func enter(_ text: Span<UInt8>, now: UInt64) -> TokenResult {
        if now < state.lockedUntil { return .lockedOut(secondsLeft: state.lockedUntil - now) }
        let token: UInt32
        do {
            token = try TokenText.parse(text, restricted: provisioning.restrictedDigits)
        } catch {
            return invalidEntry(now: now)
        }
        return enter(token: token, now: now)
    }

    /// Enters a token already read as a number (the lockout applies the same way).
    public mutating func enter(token: UInt32, now: UInt64) -> TokenResult {
        if now < state.lockedUntil { return .lockedOut(secondsLeft: state.lockedUntil - now) }
        guard token <= TokenChain.maximumToken else { return invalidEntry(now: now) }
        let chain = provisioning.chain
        let value = chain.value(of: token)
        let base = token % 1000
        let top = state.maxCount + (value == TokenKind.syncValue ? PAYGDevice.syncForwardWindow : PAYGDevice.forwardWindow)
        var x = TokenChain.withBase(chain.startingCode, base)
        var sawOldMatch = false
        var count: UInt32 = 0
        while count <= top {
            if TokenChain.withBase(x, base) == token {
                if acceptable(count: count, value: value) {
                    return accept(value: value, count: count, now: now)
                }
                // Count 0 is the starting code itself, never a token: typing it is invalid.
                if count > 0 { sawOldMatch = true }
            }
            x = chain.next(x)
            count += 1
        }
        return sawOldMatch ? .alreadyUsed : invalidEntry(now: now)
    }

    /// Spec §5.3 step 5.
    private func acceptable(count c: UInt32, value: UInt32) -> Bool {
        guard c > 0 else { return false }
        let m = state.maxCount
        if value == TokenKind.syncValue { return c + PAYGDevice.forwardWindow > m }
        if c > m { return true }
        guard c + PAYGDevice.olderWindow > m, c % 2 == 0, c != m,
              value != TokenKind.disableValue else { return false }
        return state.usedMask & (1 << UInt16(m - 1 - c)) == 0
    }

    private mutating func accept(value: UInt32, count c: UInt32, now: UInt64) -> TokenResult {
        let kind: TokenKind = switch value {
        case TokenKind.syncValue: .counterSync
        case TokenKind.disableValue: .disablePAYG
        case 996, 997: .reserved
        default: c % 2 == 1 ? .setTime : .addTime
        }
        // Bookkeeping first (spec §5.3 step 8): a set, disable or sync kills every older token.
        if kind != .addTime {
            state.usedMask = 0xFFFF
        } else if c > state.maxCount {
            let shift = c - state.maxCount
            state.usedMask = shift >= 16 ? 0 : (state.usedMask << UInt16(shift)) | (1 << UInt16(shift - 1))
        } else {
            state.usedMask |= 1 << UInt16(state.maxCount - 1 - c)
        }
        state.maxCount = max(state.maxCount, c)
        state.invalidStreak = 0
        state.lockedUntil = 0
        let seconds = UInt64(value) * 86_400 / UInt64(provisioning.timeDivider)
        switch kind {
        case .addTime:
            if state.activeUntil < now { state.activeUntil = now }
            state.activeUntil += seconds
        case .setTime:
            state.activeUntil = now + seconds
            state.enabled = true
        case .disablePAYG:
            state.enabled = false
        case .counterSync, .reserved:
            break
        }
        return .accepted(kind, value: value, count: c)
    }

    /// An invalid entry: the third in a row and later lock entry for 2^(min(k, 11) − 2)
    /// minutes (2, 4, … 512; spec §7).
    private mutating func invalidEntry(now: UInt64) -> TokenResult {
        if state.invalidStreak < 255 { state.invalidStreak += 1 }
        let k = UInt64(min(state.invalidStreak, 11))
        if k >= 3 { state.lockedUntil = now + 60 << (k - 2) }
        return .invalid
    }
}

/// The operator's side: which count the next token of a kind takes (spec §3).
public enum TokenCount {
    /// The next count strictly above `last` with the kind's parity.
    public static func next(after last: UInt32, for kind: TokenKind) -> UInt32 {
        let even = kind.usesEvenCount
        return (last + 1) % 2 == (even ? 0 : 1) ? last + 1 : last + 2
    }
}
