/// The PAYG state as the firmware stores it, next to the settings: a fixed 40-byte record,
/// little-endian — magic "PG", format version, reserved byte, max count (4), used mask (2),
/// flags (1: bit 0 = PAYG enforced), invalid streak (1), active-until (8), locked-until (8),
/// device clock (8), CRC-32 (IEEE, as zlib) of the 36 bytes before it. Write it before acting
/// on an accepted token (spec §5.3 step 9): a token whose record was not written is not used.
public struct PAYGRecord: Sendable, Equatable {
    public var state: PAYGState
    /// The device clock when the record was written, s.
    public var clock: UInt64

    public init(state: PAYGState, clock: UInt64) {
        self.state = state
        self.clock = clock
    }

    public static var byteCount: Int { 40 }
    static var version: UInt8 { 1 }

    public enum DecodeError: Error, Equatable, Sendable {
        case wrongLength(Int)
        case notARecord
        case unsupportedVersion(UInt8)
        case checksumMismatch
    }

    public func encoded() -> InlineArray<40, UInt8> {
        var b = InlineArray<40, UInt8>(repeating: 0)
        var at = 0
        func put(_ v: UInt64, _ n: Int, _ b: inout InlineArray<40, UInt8>, _ at: inout Int) {
            for k in 0..<n { b[at + k] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(k))) }
            at += n
        }
        put(0x50, 1, &b, &at); put(0x47, 1, &b, &at)
        put(UInt64(PAYGRecord.version), 1, &b, &at); put(0, 1, &b, &at)
        put(UInt64(state.maxCount), 4, &b, &at)
        put(UInt64(state.usedMask), 2, &b, &at)
        put(state.enabled ? 1 : 0, 1, &b, &at)
        put(UInt64(state.invalidStreak), 1, &b, &at)
        put(state.activeUntil, 8, &b, &at)
        put(state.lockedUntil, 8, &b, &at)
        put(clock, 8, &b, &at)
        put(UInt64(PAYGRecord.crc32(b.span.extracting(0..<36))), 4, &b, &at)
        return b
    }

    public init(bytes: Span<UInt8>) throws(DecodeError) {
        guard bytes.count == PAYGRecord.byteCount else { throw .wrongLength(bytes.count) }
        guard bytes[0] == 0x50, bytes[1] == 0x47 else { throw .notARecord }
        guard bytes[2] == PAYGRecord.version else { throw .unsupportedVersion(bytes[2]) }
        func take(_ at: Int, _ n: Int, _ bytes: Span<UInt8>) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<n { v |= UInt64(bytes[at + k]) << (8 * UInt64(k)) }
            return v
        }
        guard UInt32(take(36, 4, bytes)) == PAYGRecord.crc32(bytes.extracting(0..<36)) else { throw .checksumMismatch }
        var state = PAYGState(maxCount: UInt32(take(4, 4, bytes)))
        state.usedMask = UInt16(take(8, 2, bytes))
        state.enabled = bytes[10] & 1 != 0
        state.invalidStreak = bytes[11]
        state.activeUntil = take(12, 8, bytes)
        state.lockedUntil = take(20, 8, bytes)
        self.init(state: state, clock: take(28, 8, bytes))
    }

    /// CRC-32 (IEEE 802.3, reflected), bitwise.
    static func crc32(_ bytes: Span<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for i in 0..<bytes.count {
            crc ^= UInt32(bytes[i])
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

/// The device clock PAYG credit runs on: seconds the BMS has been running, counted by the
/// firmware and stored with the PAYG record, not a date anyone can set. A date set back, or a
/// real-time clock reset by a deep discharge, cannot give credit.
///
/// The clock is stored every `saveInterval`; after a reset it resumes from the stored value
/// plus one whole interval, as if the device had run all of it — so a reset never gives
/// credit, and costs the customer at most one interval (resets are rare; the interval keeps
/// flash writes to a few a day per hour of interval).
public struct DeviceClock: Sendable {
    public private(set) var seconds: UInt64
    var millisecondsPending: UInt32 = 0
    /// The stored value the clock last wrote.
    public private(set) var savedSeconds: UInt64
    public let saveInterval: UInt64

    /// A clock resuming after a reset from the stored `saved` value (0 on a new device).
    public init(resumingFrom saved: UInt64, saveInterval: UInt64 = 3600, isNewDevice: Bool = false) {
        self.saveInterval = max(saveInterval, 1)
        seconds = isNewDevice ? saved : saved + self.saveInterval
        savedSeconds = seconds
    }

    /// Advances by `milliseconds` of running time; returns true when it is time to store
    /// the record (`saveInterval` since the last store), and counts that store as done.
    public mutating func advance(milliseconds: UInt32) -> Bool {
        let total = UInt64(millisecondsPending) + UInt64(milliseconds)
        seconds += total / 1000
        millisecondsPending = UInt32(total % 1000)
        guard seconds - savedSeconds >= saveInterval else { return false }
        savedSeconds = seconds
        return true
    }
}

/// Keypad-style entry over a serial console or a keypad (spec §7 conventions): `*` starts an
/// entry, then the token's digits; the entry is complete at 9 digits (15 on a restricted
/// keypad). `#` on its own asks for the status. Anything else cancels the entry in progress.
public struct KeypadEntry: Sendable {
    public enum Input: Sendable {
        /// Nothing to do yet.
        case pending
        /// A complete token, its characters in `digits[0..<count]`.
        case token(InlineArray<15, UInt8>, count: Int)
        /// `#`: show the status.
        case status
        /// The entry was cancelled (an unexpected key).
        case cancelled
    }

    public let restricted: Bool
    var digits = InlineArray<15, UInt8>(repeating: 0)
    var count = 0
    var active = false

    public init(restricted: Bool) { self.restricted = restricted }

    public mutating func key(_ c: UInt8) -> Input {
        switch c {
        case 0x2A:  // *
            active = true
            count = 0
            return .pending
        case 0x23:  // #
            let wasActive = active && count > 0
            active = false
            count = 0
            return wasActive ? .cancelled : .status
        case 0x30...0x39 where active:
            digits[count] = c
            count += 1
            if count == (restricted ? 15 : 9) {
                active = false
                let n = count
                count = 0
                return .token(digits, count: n)
            }
            return .pending
        case 0x20, 0x0D, 0x0A:  // spaces and line ends are ignored
            return .pending
        default:
            let wasActive = active
            active = false
            count = 0
            return wasActive ? .cancelled : .pending
        }
    }
}
