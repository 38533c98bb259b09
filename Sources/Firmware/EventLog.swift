import BMSCore

/// The last events of the BMS, kept for ThingSet's `Rec/EventLog_32` records (a technician's
/// "which fault, which cell, since when"): a ring of `capacity` entries, the oldest dropped.
/// It lives in RAM: the firmware's flash storage will keep it across a reset.
public struct EventLog: Sendable {
    public static let capacity = 32
    var entries = InlineArray<32, BMSEvent?>(repeating: nil)
    var next = 0
    /// Events kept (up to `capacity`).
    public private(set) var count = 0
    /// Events appended since start, dropped ones included.
    public private(set) var total: UInt32 = 0

    public init() {}

    public mutating func append(_ event: BMSEvent) {
        entries[next] = event
        next = (next + 1) % EventLog.capacity
        count = min(count + 1, EventLog.capacity)
        total &+= 1
    }

    /// The event at `index`, 0 = the oldest kept.
    public subscript(index: Int) -> BMSEvent? {
        guard index >= 0 && index < count else { return nil }
        return entries[(next - count + index + EventLog.capacity) % EventLog.capacity]
    }
}
