/// A chip emulator as a simulated board drives it: what the chip's pins see, its clock, and
/// what it drives. Each emulator beside a driver conforms, so the same simulated pack can sit
/// behind any of them (`PackSim.EmulatedBoard`).
public protocol SimulatedChip: I2CBus {
    /// Sets what the pins see: each cell input's voltage (index = input, 0 V where no cell is
    /// wired), the pack current (A, + = charging), the pack terminals, up to three thermistors
    /// and the die, °C.
    mutating func sense(inputs: InlineArray<16, Float>, current: Float, packVoltage: Float,
                        thermistors: InlineArray<3, Float>, dieTemperature: Float)
    /// Advances the chip's own work (protections, balancing, conversions).
    mutating func tick(milliseconds: UInt32)
    var chargeFET: Bool { get }
    var dischargeFET: Bool { get }
    /// Inputs being bled (bit n = input n + 1).
    var bleeding: UInt16 { get }
    /// The chip's alert output (ALERT, or the ISL94202's SD).
    var alert: Bool { get }
    /// The bus is broken: nothing is acknowledged.
    var silent: Bool { get set }
    /// The board's lines that force the FETs off without I2C, where the chip has such pins.
    mutating func forceOff(charge: Bool, discharge: Bool)
}

extension BQ76952Emulator: SimulatedChip {
    public mutating func sense(inputs: InlineArray<16, Float>, current: Float, packVoltage: Float,
                               thermistors: InlineArray<3, Float>, dieTemperature: Float) {
        analog.cellVoltages = inputs
        analog.current = current
        analog.packVoltage = packVoltage
        analog.thermistors = thermistors
        analog.internalTemperature = dieTemperature
    }

    public var bleeding: UInt16 { balancing }

    /// CFETOFF and DFETOFF.
    public mutating func forceOff(charge: Bool, discharge: Bool) {
        chargeOffPin = charge
        dischargeOffPin = discharge
    }
}

extension BQ769x0Emulator: SimulatedChip {
    public mutating func sense(inputs: InlineArray<16, Float>, current: Float, packVoltage: Float,
                               thermistors: InlineArray<3, Float>, dieTemperature: Float) {
        for k in 0..<15 { analog.cellVoltages[k] = inputs[k] }
        analog.current = current
        analog.thermistors = thermistors
        analog.dieTemperature = dieTemperature
    }

    public var bleeding: UInt16 { balancing }

    /// The bq769x0 has no FET-off pins: its CHG/DSG outputs follow SYS_CTRL2 only.
    public mutating func forceOff(charge: Bool, discharge: Bool) {}
}

extension ISL94202Emulator: SimulatedChip {
    public mutating func sense(inputs: InlineArray<16, Float>, current: Float, packVoltage: Float,
                               thermistors: InlineArray<3, Float>, dieTemperature: Float) {
        for k in 0..<8 { analog.cellVoltages[k] = inputs[k] }
        analog.current = current
        for k in 0..<2 { analog.thermistors[k] = thermistors[k] }
        analog.internalTemperature = dieTemperature
    }

    public var bleeding: UInt16 { UInt16(balancing) }

    /// The board's FETOFF line turns both FETs off.
    public mutating func forceOff(charge: Bool, discharge: Bool) {
        fetsOffPin = charge && discharge
    }
}
