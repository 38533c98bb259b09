import AFE
import BMSCore

/// The virtual pack wired to a chip emulator (BQ76952, bq769x0, ISL94202): what a firmware
/// image sees of a battery when it is run without hardware (in QEMU, or in host tests of the
/// device application). The firmware reaches the pack only through I2C (this type is the bus)
/// and the board's FET-off lines; the chip's FETs and bleed switches act on the pack, and the
/// pack's cells, current and temperatures are the chip's analog inputs. The chip protects by
/// itself.
public struct EmulatedBoard<Profile: PowerProfile, Chip: SimulatedChip>: I2CBus {
    public var chip: Chip
    /// The chip's input of each cell group (a pack of fewer cells than inputs leaves some
    /// inputs unwired, where the chip's wiring rules say).
    let inputOfGroup: InlineArray<16, Int8>
    public private(set) var pack: PackModel
    public var profile: Profile
    public private(set) var time: SimTime
    public let stepMilliseconds: UInt64
    public let ambient: Float
    /// A world fault: a short across the terminals.
    public var loadShort = false
    /// The pack current of the last step, A (positive = charging), and the terminal voltage.
    public private(set) var current: Float = 0
    public private(set) var terminalVoltage: Float

    /// The pack of `setup` behind `chip`, its groups on the inputs set in `inputMask` (bit n =
    /// input n + 1), lowest first.
    public init(setup: SimulationSetup, profile: Profile, chip: Chip, inputMask: UInt16) throws(SimulationError) {
        guard let parameters = CellParameters.of(setup.chemistry) else { throw .noCellModel }
        guard (1...16).contains(setup.cells), setup.parallel >= 1, setup.capacityAh > 0,
              setup.stepMilliseconds > 0 else { throw .badShape }
        pack = PackModel(parameters: parameters, groups: setup.cells, parallel: setup.parallel,
                         capacityAh: setup.capacityAh, spread: setup.spread, initialSOC: setup.initialSOC,
                         temperature: setup.ambient, random: SimRandom(seed: setup.seed).fork(10))
        pack.prepare(stepSeconds: Float(setup.stepMilliseconds) / 1000)
        self.profile = profile
        stepMilliseconds = setup.stepMilliseconds
        ambient = setup.ambient
        time = SimTime(milliseconds: 0)
        terminalVoltage = pack.stackVoltage
        self.chip = chip
        var inputs = InlineArray<16, Int8>(repeating: -1)
        var g = 0
        for k in 0..<16 where inputMask & (1 << UInt16(k)) != 0 && g < setup.cells {
            inputs[g] = Int8(k)
            g += 1
        }
        guard g == setup.cells else { throw .badShape }
        inputOfGroup = inputs
        refreshChipInputs()
    }

    /// Puts one cell group at `soc` (a pack out of balance).
    public mutating func setSOC(_ soc: Float, group: Int) {
        pack.setSOC(soc, group: group)
        refreshChipInputs()
    }

    /// Runs the pack and the chip up to `milliseconds` of simulated time, step by step.
    public mutating func advance(to milliseconds: UInt64) {
        while time.milliseconds + stepMilliseconds <= milliseconds { step() }
    }

    /// One step: the world's demand through the chip's FETs, the pack, the chip's view.
    public mutating func step() {
        time.milliseconds += stepMilliseconds
        let demand = profile.demand(at: time)
        let (emf, resistance) = pack.thevenin
        let volts = max(terminalVoltage, 1)
        // A short: what the cells' own resistance and 2 mΩ of wiring let through.
        let loadA = loadShort ? emf / (resistance + 0.002) : demand.loadW / volts
        var requested = demand.sourceCurrent(loadA: loadA, emf: emf, resistance: resistance, volts: volts) - loadA
        // The short-circuit comparator acts within microseconds: let the chip see the surge
        // before the step's current flows.
        if requested < 0 && chip.dischargeFET {
            current = requested
            refreshChipInputs()
            chip.tick(milliseconds: 0)
        }
        let charge = chip.chargeFET, discharge = chip.dischargeFET
        if requested < 0 && !discharge { requested = 0 }
        if requested > 0 && !charge { requested = 0 }
        let throughDiode = (requested > 0 && !discharge) || (requested < 0 && !charge)
        current = requested
        pack.bleedMask = bleedingGroups
        _ = pack.step(current: requested, ambient: ambient)
        pack.stepPowerStage(current: requested, diodeConducting: throughDiode, ambient: ambient)
        let closed = Float(Int(charge ? 1 : 0) + Int(discharge ? 1 : 0))
        terminalVoltage = pack.stackVoltage + requested * pack.powerStage.onResistance * closed
        if !discharge && loadShort { terminalVoltage = 0 }
        refreshChipInputs()
        chip.tick(milliseconds: UInt32(truncatingIfNeeded: stepMilliseconds))
    }

    /// The groups whose inputs the chip bleeds.
    var bleedingGroups: UInt16 {
        let inputs = chip.bleeding
        var groups: UInt16 = 0
        for g in 0..<pack.groupCount where inputs & (1 << UInt16(inputOfGroup[g])) != 0 { groups |= 1 << UInt16(g) }
        return groups
    }

    mutating func refreshChipInputs() {
        var inputs = InlineArray<16, Float>(repeating: 0)
        for g in 0..<pack.groupCount { inputs[Int(inputOfGroup[g])] = pack.groups[g].voltage }
        var thermistors = InlineArray<3, Float>(repeating: ambient)
        let layout = pack.thermistors
        for s in 0..<min(layout.cellSensorCount, 3) {
            thermistors[s] = pack.groups[Int(layout.cellSensorGroups[s])].temperature
        }
        chip.sense(inputs: inputs, current: current, packVoltage: terminalVoltage, thermistors: thermistors,
                   dieTemperature: pack.boardTemperature)
    }

    // I2C goes to the chip.
    public mutating func write(_ address: UInt8, _ data: I2CBytes) throws(I2CError) { try chip.write(address, data) }

    public mutating func writeRead(_ address: UInt8, _ data: I2CBytes, readCount: Int) throws(I2CError) -> I2CBytes {
        try chip.writeRead(address, data, readCount: readCount)
    }
}

extension EmulatedBoard where Chip == BQ76952Emulator {
    /// The pack behind a BQ76952 on a board with this shunt, wired by TI's rule (the top cell
    /// on VC16).
    public init(setup: SimulationSetup, profile: Profile, shuntResistance: Float = 0.0003) throws(SimulationError) {
        try self.init(setup: setup, profile: profile, chip: BQ76952Emulator(shuntResistance: shuntResistance),
                      inputMask: BQ76952Driver<BQ76952Emulator>.cellMask(cells: setup.cells))
    }
}
