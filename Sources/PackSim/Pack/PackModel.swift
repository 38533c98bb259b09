import BMSCore

/// Where the pack's thermistors sit and what they measure.
public struct ThermistorLayout: Sendable {
    /// Groups carrying a cell thermistor (up to 4), spread along the stack.
    public var cellSensorGroups: InlineArray<4, UInt8>
    public var cellSensorCount: Int

    /// Four cell sensors (fewer for small packs) at the ends and evenly between.
    public init(groups: Int) {
        cellSensorGroups = InlineArray(repeating: 0)
        cellSensorCount = min(groups, 4)
        for i in 0..<cellSensorCount {
            let position = cellSensorCount == 1 ? 0 : i * (groups - 1) / (cellSensorCount - 1)
            cellSensorGroups[i] = UInt8(position)
        }
    }

    /// Sensor indices in the measurement: cell sensors first, then the MOSFET, then the board.
    public var mosfetSensor: Int { cellSensorCount }
    public var boardSensor: Int { cellSensorCount + 1 }
}

/// The power stage: two back-to-back MOSFET switches with body diodes on a heat sink.
///
/// Assumptions (typical of 100 A, 16-cell boards, not a specific board): 0.5 mΩ on-resistance
/// per switch, 0.7 V body-diode drop, 1.5 K/W heat sink to ambient, 150 J/K thermal mass;
/// the board (AFE die) sits at ambient plus 30 % of the heat sink's rise.
public struct PowerStage: Sendable {
    public var onResistance: Float = 0.0005
    public var diodeDrop: Float = 0.7
    public var thermalResistance: Float = 1.5
    public var heatCapacity: Float = 150
    public internal(set) var temperature: Float
    /// Switch states as the hardware has them (the BMS command, unless the AFE overrode it).
    public internal(set) var switches = SwitchCommand(chargeOn: false, dischargeOn: false)
    /// The AFE's own short-circuit comparator tripped: it holds the discharge switch off until
    /// the BMS commands it off and on again (as the bq76952 does with host-controlled FETs).
    public internal(set) var afeShortCircuitLatched = false

    init(temperature: Float) {
        self.temperature = temperature
    }
}

/// The simulated pack: cell groups in series, power stage, balancing resistors, sensors.
public struct PackModel: Sendable {
    public let parameters: CellParameters
    public private(set) var groups: InlineArray<16, CellGroup>
    public let groupCount: Int
    public var powerStage: PowerStage
    public let thermistors: ThermistorLayout
    public var sensors: SensorModel
    /// Balancing bleed resistor per group, Ω (33 Ω: about 100 mA at 3.3 V).
    public var bleedResistance: Float = 33
    /// Groups whose bleed resistor is switched on, bit n = group n.
    public var bleedMask: UInt16 = 0
    /// Power dissipated in the bleed resistors in the last step, W (it heats the board).
    public private(set) var bleedPower: Float = 0
    /// An active-balancer board, if fitted, and the setpoints its converters were given
    /// (A, + = into the cell); it clamps them to its current limit.
    public var activeBoard: ActiveBalancerBoard?
    public var activeSetpoints: InlineArray<16, Float> = InlineArray(repeating: 0)
    /// The currents the converters ran in the last step, and their losses, W (they heat the
    /// board like the bleed resistors).
    public private(set) var activeCurrents: InlineArray<16, Float> = InlineArray(repeating: 0)
    public private(set) var activeLoss: Float = 0
    /// Board temperature rise per watt of bleeding, K/W (a small BMS board with its
    /// resistors in one row: 16 × 0.33 W would lift it about 20 K).
    public var boardThermalResistance: Float = 4
    public internal(set) var boardTemperature: Float
    var random: SimRandom
    var stepSeconds: Float = 0

    /// Aggregates over the groups, refreshed by every step in the same pass that advances
    /// them (reading them from the groups again would copy the whole group array per access).
    /// Stack voltage (sum of the group terminal voltages), V.
    public private(set) var stackVoltage: Float = 0
    /// Lowest and highest true group voltage, V.
    public private(set) var cellVoltageRange: (min: Float, max: Float) = (0, 0)
    /// Highest true group temperature, °C.
    public private(set) var maxCellTemperature: Float = 0
    /// The Thevenin equivalent the chargers regulate against: the sum of the group EMFs
    /// (OCV + hysteresis + RC voltages) and of their series resistances at their present
    /// temperature, plus the two closed switches.
    public private(set) var thevenin: (emf: Float, resistance: Float) = (0, 0)

    /// A pack of `groups` groups of `parallel` cells of `parameters`, with a spread drawn
    /// from `random` (same seed, same pack).
    public init(parameters: CellParameters, groups: Int, parallel: Int, capacityAh: Float,
                spread: SpreadPreset, initialSOC: Float, temperature: Float, random: SimRandom) {
        precondition(groups >= 1 && groups <= 16 && parallel >= 1)
        self.parameters = parameters
        self.groupCount = groups
        var build = random.fork(1)
        let weakGroup = spread == .secondLife ? Int(build.next() % UInt64(groups)) : -1
        let cellCapacity = capacityAh / Float(parallel)
        let placeholder = CellGroup(parameters: parameters, capacityAh: capacityAh,
                                    resistanceFactor: 1, selfDischargeFactor: 1,
                                    soc: initialSOC, temperature: temperature)
        var built = InlineArray<16, CellGroup>(repeating: placeholder)
        for g in 0..<groups {
            var capacity: Float = 0, conductance: Float = 0, selfDischarge: Float = 0
            for c in 0..<parallel {
                let cell = spread.draw(&build, weak: g == weakGroup && c == 0)
                capacity += cell.capacity * cellCapacity
                conductance += 1 / cell.resistance
                selfDischarge += cell.selfDischarge * cell.capacity
            }
            // Resistance factor of the group relative to `parallel` nominal cells in parallel.
            let resistanceFactor = Float(parallel) / conductance
            let soc = initialSOC + build.uniform(-spread.soc, spread.soc)
            built[g] = CellGroup(parameters: parameters, capacityAh: capacity,
                                 resistanceFactor: resistanceFactor,
                                 selfDischargeFactor: selfDischarge / (capacity / cellCapacity),
                                 soc: soc, temperature: temperature)
        }
        self.groups = built
        self.powerStage = PowerStage(temperature: temperature)
        self.boardTemperature = temperature
        self.thermistors = ThermistorLayout(groups: groups)
        var sensorRandom = random.fork(2)
        self.sensors = SensorModel(capacityAh: capacityAh, random: &sensorRandom)
        self.random = random.fork(3)
        refreshAggregates()
    }

    /// Prepares the per-step constants for steps of `seconds`.
    public mutating func prepare(stepSeconds seconds: Float) {
        stepSeconds = seconds
        for g in 0..<groupCount { groups[g].prepare(stepSeconds: seconds) }
    }

    /// The pack's state of charge as a user reads it: 1 when the first group is full, 0 when
    /// the first group is empty (remaining charge over remaining plus chargeable).
    /// Highest minus lowest true group SOC, 0…1.
    public var socSpread: Float {
        var lo: Float = 1, hi: Float = 0
        for g in 0..<groupCount {
            lo = min(lo, groups[g].soc)
            hi = max(hi, groups[g].soc)
        }
        return hi - lo
    }

    public var packSOC: Float {
        var remaining = Float.infinity, chargeable = Float.infinity
        for g in 0..<groupCount {
            let group = groups[g]
            remaining = min(remaining, group.soc * group.capacityAh)
            chargeable = min(chargeable, (1 - group.soc) * group.capacityAh)
        }
        let r = max(remaining, 0), c = max(chargeable, 0)
        return r + c > 0 ? r / (r + c) : 0
    }

    /// Sets every group's true SOC (tests).
    public mutating func setSOC(_ soc: Float) {
        let p = parameters
        for g in 0..<groupCount { groups[g].setSOC(soc, p) }
        refreshAggregates()
    }

    /// Sets one group's true SOC (a cell out of balance, for tests and scenarios).
    public mutating func setSOC(_ soc: Float, group: Int) {
        groups[group].setSOC(soc, parameters)
        refreshAggregates()
    }

    /// Recomputes the aggregates from the groups (outside the step loop).
    mutating func refreshAggregates() {
        var totals = GroupTotals()
        for g in 0..<groupCount { totals.add(groups[g]) }
        store(totals)
    }

    /// Sums and extremes over the groups, gathered in the loop that visits them anyway.
    struct GroupTotals {
        var stack: Float = 0, emf: Float = 0, resistance: Float = 0
        var lo = Float.infinity, hi = -Float.infinity, hot = -Float.infinity

        mutating func add(_ group: CellGroup) {
            stack += group.voltage
            lo = min(lo, group.voltage)
            hi = max(hi, group.voltage)
            hot = max(hot, group.temperature)
            emf += group.emf
            resistance += group.r0 * group.arrhenius
        }
    }

    mutating func store(_ totals: GroupTotals) {
        stackVoltage = totals.stack
        cellVoltageRange = (totals.lo, totals.hi)
        maxCellTemperature = totals.hot
        thevenin = (totals.emf, totals.resistance + 2 * powerStage.onResistance)
    }

    /// Sets one group's internal short-circuit current (fault injection).
    public mutating func setLeak(group: Int, amps: Float) {
        groups[group].leakCurrent = amps
    }

    /// Advances the pack by one step with `current` (A, + = charging) at the terminals and
    /// returns the heat released in the cells, W.
    mutating func step(current: Float, ambient: Float) -> Float {
        var heat: Float = 0
        // Neighbour temperatures from before the step, so the result does not depend on the
        // order in which groups are updated.
        var previous = InlineArray<16, Float>(repeating: 0)
        for g in 0..<groupCount { previous[g] = groups[g].temperature }
        var totals = GroupTotals()
        // One copy of the parameters for the loop: passing `self.parameters` while
        // `self.groups[g]` is being mutated would copy it at every call.
        let p = parameters
        let mask = bleedMask, bleedOhms = bleedResistance
        var bleedWatts: Float = 0
        // The active board's converters: each cell's setpoint within the board's limit, and
        // the stack's share of what they move (from the voltages before the step).
        var transfer = InlineArray<16, Float>(repeating: 0)
        activeLoss = 0
        if let board = activeBoard {
            var voltages = InlineArray<16, Float>(repeating: 0)
            for g in 0..<groupCount {
                voltages[g] = groups[g].voltage
                activeCurrents[g] = min(max(activeSetpoints[g], -board.maximumCurrent), board.maximumCurrent)
            }
            transfer = board.cellCurrents(activeCurrents, voltages: voltages, cells: groupCount)
            activeLoss = board.loss(activeCurrents, voltages: voltages, cells: groupCount)
        }
        for g in 0..<groupCount {
            let bleeding = mask & (1 << UInt16(g)) != 0
            let bleed = bleeding ? max(groups[g].voltage, 0) / bleedOhms : 0
            bleedWatts += bleed * max(groups[g].voltage, 0)
            var neighbours: Float = 0, count: Float = 0
            if g > 0 { neighbours += previous[g - 1]; count += 1 }
            if g + 1 < groupCount { neighbours += previous[g + 1]; count += 1 }
            heat += groups[g].step(current: current, bleed: bleed, transfer: transfer[g], ambient: ambient,
                                   neighbours: neighbours, neighbourCount: count,
                                   parameters: p)
            totals.add(groups[g])
        }
        store(totals)
        bleedPower = bleedWatts
        return heat
    }

    /// Heats the power stage with `current` through it for one step; `diodeConducting` when
    /// the current flows through an open switch's body diode.
    mutating func stepPowerStage(current: Float, diodeConducting: Bool, ambient: Float) {
        let closed = Float(Int(powerStage.switches.chargeOn ? 1 : 0) + Int(powerStage.switches.dischargeOn ? 1 : 0))
        var power = current * current * powerStage.onResistance * closed
        if diodeConducting { power += abs(current) * powerStage.diodeDrop }
        let s = powerStage
        let flow = power - (s.temperature - ambient) / s.thermalResistance
        powerStage.temperature += flow * stepSeconds / s.heatCapacity
        // The board: warmed by the power stage, and by the bleed resistors with a few minutes'
        // lag (τ 300 s).
        let target = ambient + 0.3 * (powerStage.temperature - ambient) + (bleedPower + activeLoss) * boardThermalResistance
        boardTemperature += (target - boardTemperature) * min(stepSeconds / 300, 1)
    }
}
