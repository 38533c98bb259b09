/// What the AFE lets the balancer do: how many cells may bleed at once, and whether two
/// neighbours may (the bq769x0 family must never bleed two adjacent cells). The AFE driver
/// reports these; the balancer plans within them rather than fighting the chip.
public struct BalancingLimits: Sendable, Equatable {
    public var maximumCells: Int
    public var adjacentAllowed: Bool

    public init(maximumCells: Int = 16, adjacentAllowed: Bool = true) {
        self.maximumCells = maximumCells
        self.adjacentAllowed = adjacentAllowed
    }
}

/// Passive balancing decisions: which cells bleed now.
///
/// Top balancing by voltage, the way off-grid packs are used (charged daily towards full): at
/// the top of charge (the highest cell at or above the recharge level) or at rest, a cell more
/// than `sBalTargetVoltageDiff_V` above the lowest bleeds until it is within half of that, the
/// highest first. At the top every chemistry's curve is steep — LFP's knee included — so the
/// voltages compare the cells' charge fairly there, while on the LFP plateau they would not.
/// (Balancing by each cell's estimated SOC on the plateau was built and measured: with the
/// capacities of second-life cells unknown, its targets were off by several percent and it
/// balanced a 16S pack more slowly — 3.6 % left after 14 days against 1.5 % by voltage.)
///
/// It runs while charging, at rest (after `sBalIdleDelay_s`), and under a light load (at most
/// C/5 of discharge: an off-grid evening rarely rests, and a tenth of an ampere more changes
/// nothing for the load), never below `sBalMinVoltage_V`, never with a fault active other than
/// the discharge cutoff. It bleeds at most the AFE's number of cells (skipping neighbours
/// where the AFE forbids them), and fewer as the board or a cell nears its temperature limit:
/// half within twice the warning margin, none within the margin.
public struct Balancer: Sendable {
    /// Cells bleeding now, bit n = cell n.
    public private(set) var mask: UInt16 = 0
    /// When the pack came to rest (|I| ≤ `sBalIdleCurrent_A`), if it is at rest.
    var restSince: Timestamp?
    /// Charge bled from each cell so far, Ah (from the cell voltage and the bleed resistance
    /// the firmware reports; an estimate for the weak-cell judgement, not a measurement).
    public private(set) var bledAh: InlineArray<16, Float> = InlineArray(repeating: 0)
    /// The daily pattern of that bleeding, which shows a self-discharging cell.
    public private(set) var selfDischarge = SelfDischargeMonitor()
    var lastUpdate: Timestamp?

    public init() {}

    /// No fresh measurement: nothing bleeds.
    mutating func stop() {
        mask = 0
        restSince = nil
        lastUpdate = nil
    }

    /// Decides the mask for this step; returns the cells newly judged self-discharging (a day
    /// closed and they joined the suspects), 0 otherwise.
    mutating func update(_ m: Measurement, _ s: MeasurementSummary, config c: BMSConfig,
                         faults: FaultSet, limits: BalancingLimits, bleedResistance: Float,
                         curve: OCVCurve) -> UInt16 {
        let cells = Int(c.pack.seriesCells)
        let now = m.timestamp
        // Account the last step's bleeding first.
        if let last = lastUpdate {
            let dt = Float(Int(min(now.milliseconds(since: last), 60_000))) / 3_600_000
            for i in 0..<cells where mask & (1 << UInt16(i)) != 0 {
                let ah = max(m.cellVoltages[i], 0) / bleedResistance * dt
                bledAh[i] += ah
                selfDischarge.add(ah, cell: i)
            }
        }
        lastUpdate = now
        mask = plan(m, s, c, cells: cells, faults: faults, limits: limits, curve: curve)
        return selfDischarge.tick(at: now, cells: cells, capacityAh: c.pack.capacityAh)
    }

    private mutating func plan(_ m: Measurement, _ s: MeasurementSummary, _ c: BMSConfig, cells: Int,
                               faults: FaultSet, limits: BalancingLimits, curve: OCVCurve) -> UInt16 {
        let b = c.balancing
        guard b.targetVoltageDifference > 0, s.hasPlausibleCell, s.implausibleCell == nil else { return 0 }
        // Any fault about voltages, temperatures or the measurement itself: stop.
        var others = faults
        others.remove(.dischargeCutoff)
        guard others.isEmpty else { return 0 }
        let current = m.current
        let charging = current > b.idleCurrent
        if abs(current) <= b.idleCurrent {
            if restSince == nil { restSince = m.timestamp }
        } else {
            restSince = nil
        }
        let resting = restSince.map { m.timestamp.milliseconds(since: $0) >= b.idleDelaySeconds &* 1000 } ?? false
        // Under a light load too (see above); heavy discharge waits.
        let lightLoad = current >= -0.2 * c.pack.capacityAh
        guard charging || resting || lightLoad else { return 0 }

        // Thermal derating: half the cells within twice the margin, none within the margin.
        var allowed = min(limits.maximumCells, cells)
        let margin = max(c.warnings.temperature, 1)
        func derate(_ t: Float?, _ limit: Float) {
            guard let t else { return }
            if t >= limit - margin { allowed = 0 } else if t >= limit - 2 * margin { allowed = min(allowed, max(allowed / 2, 1)) }
        }
        derate(s.maxBoardTemperature, c.temperature.boardMaximum)
        derate(s.maxCellTemperature, charging ? c.temperature.chargeMaximum : c.temperature.dischargeMaximum)
        guard allowed > 0 else { return 0 }

        // Voltages compare cells at the top of charge, and at rest only where the curve is
        // steep at the lowest cell (at least 0.5 V per unit SOC: 10 mV is then 2 % or less) —
        // not on a flat stretch such as LFP's plateau, where 10 mV is hysteresis and noise.
        let comparableAtRest = resting && curve.slope(atSOC: curve.soc(atVoltage: s.minCell)) >= 0.5
        guard s.maxCell >= c.cellVoltage.recharge || comparableAtRest else { return 0 }
        var excess = InlineArray<16, Float>(repeating: 0)
        var candidates = InlineArray<16, Int8>(repeating: -1)
        var count = 0
        for i in 0..<cells {
            let v = m.cellVoltages[i]
            guard v >= c.cellVoltage.balanceMinimum else { continue }
            let wasBleeding = mask & (1 << UInt16(i)) != 0
            excess[i] = v - s.minCell
            if excess[i] > (wasBleeding ? b.targetVoltageDifference / 2 : b.targetVoltageDifference) {
                candidates[count] = Int8(i)
                count += 1
            }
        }
        // Highest first (insertion sort of at most 16).
        if count > 1 {
            for a in 1..<count {
                let x = candidates[a]
                var j = a
                while j > 0 && excess[Int(candidates[j - 1])] < excess[Int(x)] {
                    candidates[j] = candidates[j - 1]
                    j -= 1
                }
                candidates[j] = x
            }
        }
        var chosen: UInt16 = 0, taken = 0
        for k in 0..<count where taken < allowed {
            let i = Int(candidates[k])
            if !limits.adjacentAllowed {
                let neighbours = (i > 0 ? UInt16(1) << UInt16(i - 1) : 0) | (i + 1 < 16 ? UInt16(1) << UInt16(i + 1) : 0)
                if chosen & neighbours != 0 { continue }
            }
            chosen |= 1 << UInt16(i)
            taken += 1
        }
        return chosen
    }
}
