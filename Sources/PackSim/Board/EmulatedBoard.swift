import AFE
import BMSCore

/// The virtual pack wired to a BQ76952 emulator: what a firmware image sees of a battery
/// when it is run without hardware (in QEMU, or in host tests of the device application).
/// The firmware reaches the pack only through I2C (this type is the bus) and the board's
/// FET-off lines; the chip's FETs and bleed switches act on the pack, and the pack's cells,
/// current and temperatures are the chip's analog inputs. The chip protects by itself.
public struct EmulatedBoard<Profile: PowerProfile>: I2CBus {
    public var chip: BQ76952Emulator
    public private(set) var pack: PackModel
    public var profile: Profile
    public private(set) var time: SimTime
    public let stepMilliseconds: UInt64
    public let ambient: Float
    /// World faults: the charger regulates 20 % high (cells are pushed past their limit);
    /// a short across the terminals.
    public var chargerOvervoltage = false
    public var loadShort = false
    /// The pack current of the last step, A (positive = charging), and the terminal voltage.
    public private(set) var current: Float = 0
    public private(set) var terminalVoltage: Float

    public init(setup: SimulationSetup, profile: Profile, shuntResistance: Float = 0.0003) throws(SimulationError) {
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
        chip = BQ76952Emulator(shuntResistance: shuntResistance)
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
        var demand = profile.demand(at: time)
        let (emf, resistance) = pack.thevenin
        let volts = max(terminalVoltage, 1)
        if chargerOvervoltage { demand.sourceVoltageLimit *= 1.2 }
        // A short: what the cells' own resistance and 2 mΩ of wiring let through.
        let loadA = loadShort ? emf / (resistance + 0.002) : demand.loadW / volts
        var sourceA: Float = 0
        if demand.sourceW > 0 {
            let holdingA = (demand.sourceVoltageLimit - emf) / resistance + loadA
            sourceA = max(0, min(demand.sourceW / volts, min(demand.sourceCurrentLimit + loadA, holdingA)))
        }
        var requested = sourceA - loadA
        // The short-circuit comparator acts within microseconds: let the chip see the surge
        // before the step's current flows.
        if requested < 0 && chip.dischargeFET {
            chip.analog.current = requested
            chip.tick(milliseconds: 0)
        }
        let charge = chip.chargeFET, discharge = chip.dischargeFET
        if requested < 0 && !discharge { requested = 0 }
        if requested > 0 && !charge { requested = 0 }
        let throughDiode = (requested > 0 && !discharge) || (requested < 0 && !charge)
        current = requested
        pack.bleedMask = chip.balancing
        _ = pack.step(current: requested, ambient: ambient)
        pack.stepPowerStage(current: requested, diodeConducting: throughDiode, ambient: ambient)
        let closed = Float(Int(charge ? 1 : 0) + Int(discharge ? 1 : 0))
        terminalVoltage = pack.stackVoltage + requested * pack.powerStage.onResistance * closed
        if !discharge && loadShort { terminalVoltage = 0 }
        refreshChipInputs()
        chip.tick(milliseconds: UInt32(truncatingIfNeeded: stepMilliseconds))
    }

    mutating func refreshChipInputs() {
        for g in 0..<pack.groupCount { chip.analog.cellVoltages[g] = pack.groups[g].voltage }
        chip.analog.current = current
        chip.analog.packVoltage = terminalVoltage
        let layout = pack.thermistors
        for s in 0..<min(layout.cellSensorCount, 2) {
            chip.analog.thermistors[s] = pack.groups[Int(layout.cellSensorGroups[s])].temperature
        }
        chip.analog.internalTemperature = pack.boardTemperature
    }

    // I2C goes to the chip.
    public mutating func write(_ address: UInt8, _ data: I2CBytes) throws(I2CError) { try chip.write(address, data) }

    public mutating func writeRead(_ address: UInt8, _ data: I2CBytes, readCount: Int) throws(I2CError) -> I2CBytes {
        try chip.writeRead(address, data, readCount: readCount)
    }
}
