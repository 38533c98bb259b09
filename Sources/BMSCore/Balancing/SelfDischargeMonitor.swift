/// Tells a self-discharging cell from the bleeding the balancer does around it.
///
/// Top balancing bleeds every cell down to the lowest one at the top of charge. A cell that
/// loses charge by itself (a soft internal short, a damaged second-life cell) arrives low at
/// every top of charge, so it is the one cell that is never bled while all the others are,
/// day after day, by about the charge it lost. The monitor keeps each cell's bled charge per
/// day as a moving average over about a week (`memoryDays`) and, from `judgementDays` of
/// records on, counts the days one cell alone is spared: its rate at most a tenth of the
/// median cell's while every other cell is bled at least half the median, and the median at
/// least 0.05 % of the capacity per day (1.5 % a month: more than the spread of healthy cells'
/// self-discharge). A cell spared so for `persistenceDays` in a row is named; its
/// extra self-discharge is at least the median rate minus its own (at least: the bleeding
/// may not keep up with a fast leak).
///
/// The rule asks for one cell alone and for a week in a row because the bleeding that removes
/// an assembly imbalance looks similar for weeks: the cells that were assembled low are spared
/// while the others come down to them — but several of them, at graded rates. It names one
/// cell at a time (with two leaking cells, the one that leaks more). Days count the BMS's
/// uptime; a reset starts the records again.
public struct SelfDischargeMonitor: Sendable {
    /// Days of records before a cell is judged at all, and days it must then stay low in a row.
    public static let judgementDays: Int32 = 7
    public static let persistenceDays: UInt8 = 7
    public static let memoryDays: Float = 7
    /// A suspect is bled at most this fraction of the median cell's charge.
    public static let suspectRatio: Float = 0.1
    /// Median bleed rate below which nothing is judged, as a fraction of capacity per day.
    public static let minimumMedianPerDay: Float = 0.0005

    /// Each cell's bled charge per day, Ah, averaged over about `memoryDays`.
    public private(set) var ratesAhPerDay: InlineArray<16, Float> = InlineArray(repeating: 0)
    /// Whole days recorded.
    public private(set) var days: Int32 = 0
    /// Cells judged self-discharging (bit n = cell n) at the last day's close.
    public private(set) var suspects: UInt16 = 0
    /// The median cell's rate at the last day's close, Ah/day.
    public private(set) var medianAhPerDay: Float = 0
    var today: InlineArray<16, Float> = InlineArray(repeating: 0)
    /// Days in a row each cell has been low.
    var lowDays: InlineArray<16, UInt8> = InlineArray(repeating: 0)
    var dayStart: Timestamp?

    public init() {}

    /// Adds charge bled from `cell` in this step.
    mutating func add(_ ah: Float, cell: Int) { today[cell] += ah }

    /// Closes a day when 24 h have passed since the last close; returns the cells that became
    /// suspects at this close (0 when none, or no day closed).
    mutating func tick(at now: Timestamp, cells: Int, capacityAh: Float) -> UInt16 {
        guard let start = dayStart else {
            dayStart = now
            return 0
        }
        guard now.milliseconds(since: start) >= 86_400_000 else { return 0 }
        dayStart = start.advanced(byMilliseconds: 86_400_000)
        days += 1
        // The first day seeds the averages; then each day weighs 1/memoryDays.
        let weight: Float = days == 1 ? 1 : 1 / SelfDischargeMonitor.memoryDays
        for i in 0..<cells {
            ratesAhPerDay[i] += (today[i] - ratesAhPerDay[i]) * weight
            today[i] = 0
        }
        let before = suspects
        suspects = judge(cells: cells, capacityAh: capacityAh)
        return suspects & ~before
    }

    private mutating func judge(cells: Int, capacityAh: Float) -> UInt16 {
        guard cells >= 3 else { return 0 }
        var sorted = ratesAhPerDay
        for a in 1..<cells {
            let x = sorted[a]
            var j = a
            while j > 0 && sorted[j - 1] > x {
                sorted[j] = sorted[j - 1]
                j -= 1
            }
            sorted[j] = x
        }
        medianAhPerDay = sorted[cells / 2]
        // One cell alone spared while the second-least-bled cell is bled at least half the
        // median: a leak. Several cells spared together are the low end of an imbalance
        // still being removed (or of too little bleeding to judge).
        let judged = days >= SelfDischargeMonitor.judgementDays
            && medianAhPerDay >= SelfDischargeMonitor.minimumMedianPerDay * capacityAh
            && sorted[0] <= SelfDischargeMonitor.suspectRatio * medianAhPerDay
            && sorted[1] >= 0.5 * medianAhPerDay
        var mask: UInt16 = 0
        for i in 0..<cells {
            if judged && ratesAhPerDay[i] == sorted[0] {
                lowDays[i] = lowDays[i] < UInt8.max ? lowDays[i] + 1 : lowDays[i]
            } else {
                lowDays[i] = 0
            }
            if lowDays[i] >= SelfDischargeMonitor.persistenceDays { mask |= 1 << UInt16(i) }
        }
        return mask
    }

    /// A suspect's extra self-discharge, Ah/day: the median cell's bleed rate minus its own.
    public func excessAhPerDay(cell: Int) -> Float { max(medianAhPerDay - ratesAhPerDay[cell], 0) }
}
