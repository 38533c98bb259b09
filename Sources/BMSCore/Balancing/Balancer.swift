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

/// An active-balancer board on the pack (LTC3300/EMB1428-class converters moving charge
/// between each cell and the stack; protocol in `ActiveBalancerFrame`): what it can do. With a
/// board the balancer plans transfers for it instead of bleeding through the AFE.
public struct ActiveBalancerBoard: Sendable {
    /// The most one converter carries, A.
    public var maximumCurrent: Float
    /// Converters that may run at once.
    public var maximumCells: Int
    /// One-way efficiency between a cell and the stack (0…1).
    public var efficiency: Float

    public init(maximumCurrent: Float = 2, maximumCells: Int = 16, efficiency: Float = 0.9) {
        self.maximumCurrent = maximumCurrent
        self.maximumCells = maximumCells
        self.efficiency = efficiency
    }

    /// The current each cell gets from a transfer plan besides the pack current, A (+ = into
    /// the cell): its own setpoint, less its share of what the stack gives to the charged
    /// cells and takes from the discharged ones.
    public func cellCurrents(_ setpoints: InlineArray<16, Float>, voltages: InlineArray<16, Float>,
                             cells: Int) -> InlineArray<16, Float> {
        var stackPower: Float = 0, stack: Float = 0
        for i in 0..<cells {
            let v = max(voltages[i], 0)
            stack += v
            let p = setpoints[i] * v
            stackPower += p > 0 ? p / efficiency : p * efficiency
        }
        var out = InlineArray<16, Float>(repeating: 0)
        let draw = stack > 0 ? stackPower / stack : 0
        for i in 0..<cells { out[i] = setpoints[i] - draw }
        return out
    }

    /// Power lost in the converters for a plan, W (it heats the board).
    public func loss(_ setpoints: InlineArray<16, Float>, voltages: InlineArray<16, Float>, cells: Int) -> Float {
        var loss: Float = 0
        for i in 0..<cells {
            let p = abs(setpoints[i] * max(voltages[i], 0))
            loss += setpoints[i] > 0 ? p * (1 / efficiency - 1) : p * (1 - efficiency)
        }
        return loss
    }
}

/// Balancing decisions: which cells bleed now, or with an active board, which cells it
/// charges and discharges.
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
///
/// With an active board (`ActiveBalancerBoard`) the same conditions decide when; then a cell
/// more than the target difference above the mean of the cells is discharged into the stack
/// and one more than that below it is charged from the stack, at the board's current, until
/// each is within half the difference of the mean, the furthest first, as many as the board
/// runs at once (and fewer when hot, as above). A cell is never discharged below
/// `sBalMinVoltage_V` nor charged at or above the charge target.
public struct Balancer: Sendable {
    /// Cells bleeding now, bit n = cell n.
    public private(set) var mask: UInt16 = 0
    /// With an active board: the setpoint of each cell's converter, A (+ = charge the cell).
    public private(set) var transfers: InlineArray<16, Float> = InlineArray(repeating: 0)
    /// Charge moved into each cell by the active board so far, Ah (− = out of it).
    public private(set) var transferredAh: InlineArray<16, Float> = InlineArray(repeating: 0)
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
        transfers = InlineArray(repeating: 0)
        restSince = nil
        lastUpdate = nil
    }

    /// Decides the mask for this step; returns the cells newly judged self-discharging (a day
    /// closed and they joined the suspects), 0 otherwise.
    mutating func update(_ m: Measurement, _ s: MeasurementSummary, config c: BMSConfig,
                         faults: FaultSet, limits: BalancingLimits, bleedResistance: Float,
                         curve: OCVCurve, board: ActiveBalancerBoard? = nil) -> UInt16 {
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
            for i in 0..<cells where transfers[i] != 0 { transferredAh[i] += transfers[i] * dt }
        }
        lastUpdate = now
        let allowed = window(m, s, c, cells: cells, faults: faults,
                             maximumCells: board?.maximumCells ?? limits.maximumCells, curve: curve)
        if let board {
            mask = 0
            transfers = allowed > 0 ? planTransfers(m, s, c, cells: cells, allowed: allowed, board: board)
                                    : InlineArray(repeating: 0)
        } else {
            transfers = InlineArray(repeating: 0)
            mask = allowed > 0 ? planBleeding(m, s, c, cells: cells, allowed: allowed, limits: limits) : 0
        }
        return selfDischarge.tick(at: now, cells: cells, capacityAh: c.pack.capacityAh)
    }

    /// How many cells may be balanced now: 0 outside the conditions of the type's comment,
    /// otherwise `maximumCells` derated by temperature.
    private mutating func window(_ m: Measurement, _ s: MeasurementSummary, _ c: BMSConfig, cells: Int,
                                 faults: FaultSet, maximumCells: Int, curve: OCVCurve) -> Int {
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
        var allowed = min(maximumCells, cells)
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
        return allowed
    }

    /// The cells to bleed: more than the target above the lowest, highest first.
    private func planBleeding(_ m: Measurement, _ s: MeasurementSummary, _ c: BMSConfig, cells: Int,
                              allowed: Int, limits: BalancingLimits) -> UInt16 {
        let b = c.balancing
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
        Balancer.sortDescending(&candidates, count: count, by: excess)
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

    /// The transfers: cells more than the target from the mean, the furthest first.
    private func planTransfers(_ m: Measurement, _ s: MeasurementSummary, _ c: BMSConfig, cells: Int,
                               allowed: Int, board: ActiveBalancerBoard) -> InlineArray<16, Float> {
        let target = c.balancing.targetVoltageDifference
        let mean = s.cellSum / Float(cells)
        var distance = InlineArray<16, Float>(repeating: 0)
        var candidates = InlineArray<16, Int8>(repeating: -1)
        var count = 0
        for i in 0..<cells {
            let v = m.cellVoltages[i]
            let d = v - mean
            // Keep going until within half the target, in the direction already running.
            let running = transfers[i] > 0 ? d < 0 : transfers[i] < 0 ? d > 0 : false
            let threshold = running ? target / 2 : target
            if d > threshold && v >= c.cellVoltage.balanceMinimum
                || -d > threshold && v < c.cellVoltage.chargeTarget {
                distance[i] = abs(d)
                candidates[count] = Int8(i)
                count += 1
            }
        }
        Balancer.sortDescending(&candidates, count: count, by: distance)
        var plan = InlineArray<16, Float>(repeating: 0)
        for k in 0..<min(count, allowed) {
            let i = Int(candidates[k])
            // In proportion to the distance beyond the stop level, full current from three times
            // the target: a converter at full current for a few millivolts chases the cells'
            // own polarisation back and forth (measured: several times the losses).
            let share = min(max((distance[i] - target / 2) / (2.5 * target), 0.1), 1)
            plan[i] = (m.cellVoltages[i] > mean ? -1 : 1) * share * board.maximumCurrent
        }
        return plan
    }

    /// Orders the first `count` cell indices by `key`, largest first (insertion sort of at
    /// most 16).
    private static func sortDescending(_ candidates: inout InlineArray<16, Int8>, count: Int,
                                       by key: InlineArray<16, Float>) {
        guard count > 1 else { return }
        for a in 1..<count {
            let x = candidates[a]
            var j = a
            while j > 0 && key[Int(candidates[j - 1])] < key[Int(x)] {
                candidates[j] = candidates[j - 1]
                j -= 1
            }
            candidates[j] = x
        }
    }

    /// The current each cell carries besides the pack current because of balancing, A (+ =
    /// into the cell): a bleed resistor's V / R out of it, or the active board's transfer.
    func cellCurrents(_ m: Measurement, cells: Int, bleedResistance: Float,
                      board: ActiveBalancerBoard?) -> InlineArray<16, Float> {
        if let board { return board.cellCurrents(transfers, voltages: m.cellVoltages, cells: cells) }
        var out = InlineArray<16, Float>(repeating: 0)
        for i in 0..<cells where mask & (1 << UInt16(i)) != 0 {
            out[i] = -max(m.cellVoltages[i], 0) / bleedResistance
        }
        return out
    }
}
