/// When each frame of the set goes out: one complete set every second, its frames spread
/// evenly 20–100 ms apart, the first set at once. The same identifier is therefore never
/// sent faster than once a second (SMA's inhibit time is 200 ms), and an inverter that
/// forgets the battery's values when restarted gets them again within a second.
///
/// Times are milliseconds on a wrapping 32-bit clock.
public struct LVCANSchedule: Sendable {
    public let profile: InverterProfile
    /// Milliseconds between two frames of a set.
    public let spacingMs: UInt32
    public static var periodMs: UInt32 { 1000 }
    var cycleStart: UInt32 = 0
    var index = 0
    var started = false
    /// The limits frame (0x351) is wanted ahead of its slot: the limits fell.
    var expedited = false
    var limitsSentAt: UInt32?

    public init(profile: InverterProfile) {
        self.profile = profile
        spacingMs = min(max(Self.periodMs / UInt32(profile.frameCount), 20), 100)
    }

    /// The next frame due at or before `now`, with the time it was due; nil when none is.
    /// Call it until it returns nil. A caller more than a period late (a stalled task)
    /// restarts the set at `now` rather than sending a burst.
    public mutating func next(now: UInt32) -> (id: UInt16, due: UInt32)? {
        if !started {
            started = true
            cycleStart = now
            index = 0
        }
        var due = cycleStart &+ UInt32(index) &* spacingMs
        let late = Int32(bitPattern: now &- due)
        // Lower limits go out at once (not faster than 200 ms after the last 0x351).
        if expedited, limitsSentAt.map({ now &- $0 >= 200 }) ?? true {
            expedited = false
            limitsSentAt = now
            return (0x351, now)
        }
        guard late >= 0 else { return nil }
        if UInt32(late) >= Self.periodMs {
            cycleStart = now
            index = 0
            due = now
        }
        var id = profile.frameID(at: index)
        advance()
        // The slot of a 0x351 sent early: skipped when it would repeat it within 200 ms.
        if id == 0x351, let sent = limitsSentAt, due &- sent < 200, Int32(bitPattern: due &- sent) >= 0 {
            id = profile.frameID(at: index)
            due = cycleStart &+ UInt32(index) &* spacingMs
            guard Int32(bitPattern: now &- due) >= 0 else { return nil }
            advance()
        }
        if id == 0x351 { limitsSentAt = due }
        return (id, due)
    }

    mutating func advance() {
        index += 1
        if index == profile.frameCount {
            index = 0
            cycleStart &+= Self.periodMs
        }
    }

    /// Asks for the limits frame at the next call: the battery's limits fell, and the
    /// inverter must not wait up to a second to learn it.
    public mutating func expediteLimits() { expedited = true }
}

/// Whether the inverter is there: any 0x305 counts (Pylon-mode inverters send it empty about
/// once a second, SMA and Victron with values). The battery keeps sending whatever this says
/// (SMA and Victron start without sending 0x305 first); it only reports the silence.
public struct InverterKeepAlive: Sendable {
    public var timeoutMs: UInt32
    public private(set) var lastHeard: UInt32?
    /// The silence has been reported and not yet ended.
    public private(set) var silent = false
    /// The values of the last SMA-style 0x305, if it carried any.
    public private(set) var inverterView: InverterView?

    public init(timeoutMs: UInt32 = 30_000) { self.timeoutMs = timeoutMs }

    /// What changed, for the event log.
    public enum Change: Sendable, Equatable {
        /// First heard, or heard again after a reported silence.
        case heard
        /// Nothing for `timeoutMs`.
        case silent
    }

    /// Takes a frame from the bus; returns `.heard` when it ends a silence or is the first.
    public mutating func receive(_ frame: InverterFrame, at now: UInt32) -> Change? {
        guard frame.id == 0x305 else { return nil }
        if let view = InverterView(frame) { inverterView = view }
        let first = lastHeard == nil
        lastHeard = now
        if first || silent {
            silent = false
            return .heard
        }
        return nil
    }

    /// Reports the start of a silence once.
    public mutating func poll(now: UInt32) -> Change? {
        guard !silent, let last = lastHeard, now &- last >= timeoutMs else { return nil }
        silent = true
        return .silent
    }
}

/// What an SMA Sunny Island reports in its 0x305: its own measurement of the battery, a
/// plausibility check of the BMS's. Current here is in the BMS's sign (+ = charging); SMA
/// sends it the other way round.
public struct InverterView: Sendable, Equatable {
    public var voltage: Float
    public var current: Float
    public var temperature: Float
    public var stateOfCharge: Float

    /// nil for the all-zero keep-alive of Pylon-mode inverters.
    public init?(_ f: InverterFrame) {
        guard f.id == 0x305, f.count >= 8 else { return nil }
        var any = false
        for i in 0..<8 where f[i] != 0 { any = true }
        guard any else { return nil }
        voltage = Float(Int(f.u16(at: 0))) * 0.1
        current = -Float(Int(f.s16(at: 2))) * 0.1
        temperature = Float(Int(f.s16(at: 4))) * 0.1
        stateOfCharge = Float(Int(f.s16(at: 6))) * 0.001
    }
}
