/// Register-level facts of the Renesas (Intersil) ISL94202 3–8 cell battery pack monitor, from
/// its datasheet FN8889 (section 10, "Register Descriptions": EEPROM/RAM configuration
/// registers 00H–4BH, operations registers 80H–89H, data registers 8AH–ABH) as used by the
/// LibreSolar bms-firmware driver (drivers/bms_ic/isl94202). Shared by the driver and the
/// emulator, so the two can only disagree about behaviour, not about addresses or scalings.
///
/// Multi-byte values are little-endian words at even addresses. Voltages are 12-bit values
/// (bits 0–11) of one scaling; delays are a 10-bit value (bits 0–9) with a 2-bit unit
/// (bits 10–11: µs, ms, s, min); the over-current words carry a 3-bit threshold index in
/// bits 12–14 and the OV/UV threshold words a 4-bit pulse width (CPW/LPW) in bits 12–15.
public enum ISL94202 {
    /// The 7-bit I2C address with the ADDR pin low (8-bit write address 0x50); 0x29 with it high.
    public static let i2cAddress: UInt8 = 0x28

    /// Register addresses (datasheet §10, register map).
    public enum Register {
        // Configuration: EEPROM with a RAM shadow (00H–4BH).
        /// OVL (bits 0–11) and CPW, the charge-detect pulse width in ms (bits 12–15).
        public static let overvoltage: UInt8 = 0x00
        public static let overvoltageRecovery: UInt8 = 0x02
        /// UVL (bits 0–11) and LPW, the load-detect pulse width in ms (bits 12–15).
        public static let undervoltage: UInt8 = 0x04
        public static let undervoltageRecovery: UInt8 = 0x06
        public static let overvoltageLockout: UInt8 = 0x08
        public static let undervoltageLockout: UInt8 = 0x0A
        public static let endOfCharge: UInt8 = 0x0C
        public static let lowVoltageCharge: UInt8 = 0x0E
        public static let overvoltageDelay: UInt8 = 0x10
        public static let undervoltageDelay: UInt8 = 0x12
        public static let openWireTiming: UInt8 = 0x14
        /// Delay (bits 0–11) and threshold index (bits 12–14) of discharge over-current (OCD),
        /// charge over-current (OCC) and discharge short circuit (SCD).
        public static let dischargeOvercurrent: UInt8 = 0x16
        public static let chargeOvercurrent: UInt8 = 0x18
        public static let shortCircuit: UInt8 = 0x1A
        public static let balanceMinimum: UInt8 = 0x1C
        public static let balanceMaximum: UInt8 = 0x1E
        public static let balanceMinimumDelta: UInt8 = 0x20
        public static let balanceMaximumDelta: UInt8 = 0x22
        public static let balanceOnTime: UInt8 = 0x24
        public static let balanceOffTime: UInt8 = 0x26
        public static let balanceUnderTemperature: UInt8 = 0x28
        public static let balanceUnderTemperatureRecovery: UInt8 = 0x2A
        public static let balanceOverTemperature: UInt8 = 0x2C
        public static let balanceOverTemperatureRecovery: UInt8 = 0x2E
        public static let chargeOverTemperature: UInt8 = 0x30
        public static let chargeOverTemperatureRecovery: UInt8 = 0x32
        public static let chargeUnderTemperature: UInt8 = 0x34
        public static let chargeUnderTemperatureRecovery: UInt8 = 0x36
        public static let dischargeOverTemperature: UInt8 = 0x38
        public static let dischargeOverTemperatureRecovery: UInt8 = 0x3A
        public static let dischargeUnderTemperature: UInt8 = 0x3C
        public static let dischargeUnderTemperatureRecovery: UInt8 = 0x3E
        public static let internalOverTemperature: UInt8 = 0x40
        public static let internalOverTemperatureRecovery: UInt8 = 0x42
        public static let sleepLevel: UInt8 = 0x44
        public static let sleepDelayWatchdog: UInt8 = 0x46
        public static let modeTimer: UInt8 = 0x48
        /// Cell select: which of the VC1…VC8 inputs carry a cell (high byte of the 48H word).
        public static let cellSelect: UInt8 = 0x49
        public static let setup0: UInt8 = 0x4A
        public static let setup1: UInt8 = 0x4B
        /// The last configuration register.
        public static let lastConfiguration: UInt8 = 0x4B

        // Operations (RAM, 80H–89H).
        public static let status0: UInt8 = 0x80
        public static let status1: UInt8 = 0x81
        public static let status2: UInt8 = 0x82
        public static let status3: UInt8 = 0x83
        /// CBFC: the cell balance FETs (bit n = input VC(n+1)).
        public static let cellBalance: UInt8 = 0x84
        public static let control0: UInt8 = 0x85
        public static let control1: UInt8 = 0x86
        public static let control2: UInt8 = 0x87
        public static let control3: UInt8 = 0x88
        /// EEEN: 1 = 00H–4BH address the EEPROM, 0 = their RAM shadow (what the chip uses).
        public static let eepromEnable: UInt8 = 0x89

        // Data (read only, 8AH–ABH): 12-bit ADC words.
        public static let cellMinimum: UInt8 = 0x8A
        public static let cellMaximum: UInt8 = 0x8C
        public static let packCurrent: UInt8 = 0x8E
        /// Input VC(n+1) at 0x90 + 2n.
        public static let cell1: UInt8 = 0x90
        public static let internalTemperature: UInt8 = 0xA0
        public static let externalTemperature1: UInt8 = 0xA2
        public static let externalTemperature2: UInt8 = 0xA4
        public static let batteryVoltage: UInt8 = 0xA6
        public static let regulatorVoltage: UInt8 = 0xA8
        public static let adc: UInt8 = 0xAA
        /// The last data register.
        public static let lastData: UInt8 = 0xAB
    }

    /// Status 0 (80H).
    public enum Status0 {
        public static let ovf: UInt8 = 1 << 0
        public static let ovlof: UInt8 = 1 << 1
        public static let uvf: UInt8 = 1 << 2
        public static let uvlof: UInt8 = 1 << 3
        public static let dotf: UInt8 = 1 << 4
        public static let dutf: UInt8 = 1 << 5
        public static let cotf: UInt8 = 1 << 6
        public static let cutf: UInt8 = 1 << 7
    }

    /// Status 1 (81H).
    public enum Status1 {
        public static let iotf: UInt8 = 1 << 0
        public static let cocf: UInt8 = 1 << 1
        public static let docf: UInt8 = 1 << 2
        public static let dscf: UInt8 = 1 << 3
        /// Cell fail: the cell spread exceeds CBMAXDV.
        public static let cellf: UInt8 = 1 << 4
        /// Open wire on a cell input.
        public static let openf: UInt8 = 1 << 5
        /// A cell reached the end-of-charge threshold.
        public static let veoc: UInt8 = 1 << 7
    }

    /// Status 2 (82H).
    public enum Status2 {
        public static let loadPresent: UInt8 = 1 << 0
        public static let chargerPresent: UInt8 = 1 << 1
        /// Current direction (ISNS is an unsigned magnitude).
        public static let charging: UInt8 = 1 << 2
        public static let discharging: UInt8 = 1 << 3
    }

    /// Status 3 (83H).
    public enum Status3 {
        public static let cbot: UInt8 = 1 << 0
        public static let cbut: UInt8 = 1 << 1
        public static let cbov: UInt8 = 1 << 2
        public static let cbuv: UInt8 = 1 << 3
        public static let inIdle: UInt8 = 1 << 4
        public static let inDoze: UInt8 = 1 << 5
        public static let inSleep: UInt8 = 1 << 6
    }

    /// Control 0 (85H): analog output select (bits 0–3), current gain (bits 4–5), ADC start.
    public enum Control0 {
        public static let currentGainShift: UInt8 = 4
        public static let currentGainMask: UInt8 = 0x30
        public static let adcStart: UInt8 = 1 << 6
    }

    /// Control 1 (86H): the FETs when the MCU controls them (µCFET), and the monitor bits.
    public enum Control1 {
        public static let dfet: UInt8 = 1 << 0
        public static let cfet: UInt8 = 1 << 1
        public static let pcfet: UInt8 = 1 << 2
        public static let psd: UInt8 = 1 << 3
        public static let chargerMonitorEnable: UInt8 = 1 << 4
        public static let clearChargerError: UInt8 = 1 << 5
        public static let loadMonitorEnable: UInt8 = 1 << 6
        public static let clearLoadError: UInt8 = 1 << 7
    }

    /// Control 2 (87H): what the MCU takes over from the internal state machine.
    public enum Control2 {
        public static let cellBalanceOn: UInt8 = 1 << 0
        public static let openWireStart: UInt8 = 1 << 1
        public static let mcuScan: UInt8 = 1 << 2
        public static let mcuChargerMonitor: UInt8 = 1 << 3
        public static let mcuLoadMonitor: UInt8 = 1 << 4
        /// µCCBAL: the MCU drives the balance FETs through CBFC (84H).
        public static let mcuCellBalance: UInt8 = 1 << 5
        /// µCFET: the MCU drives the power FETs through Control 1.
        public static let mcuFET: UInt8 = 1 << 6
    }

    /// Control 3 (88H): forced power modes.
    public enum Control3 {
        public static let idle: UInt8 = 1 << 0
        public static let doze: UInt8 = 1 << 1
        public static let sleep: UInt8 = 1 << 2
        public static let powerDown: UInt8 = 1 << 3
    }

    /// Setup 0 (4AH).
    public enum Setup0 {
        public static let openWirePackShutdown: UInt8 = 1 << 0
        public static let disableOpenWireScan: UInt8 = 1 << 1
        public static let prechargeFETEnable: UInt8 = 1 << 2
        /// TGAIN: 0 = the xT inputs through a gain of 2, 1 = a gain of 1.
        public static let temperatureGain: UInt8 = 1 << 4
        /// XT2M: 1 = xT2 monitors the FETs, not the cells.
        public static let xT2MonitorsFETs: UInt8 = 1 << 5
        public static let cellFailPackShutdown: UInt8 = 1 << 7
    }

    /// Setup 1 (4BH).
    public enum Setup1 {
        /// Balance while a cell is above the end-of-charge threshold.
        public static let balanceAtEndOfCharge: UInt8 = 1 << 0
        public static let undervoltageLockoutPowerDown: UInt8 = 1 << 3
        public static let cfetOnDuringOvervoltage: UInt8 = 1 << 4
        public static let dfetOnDuringUndervoltage: UInt8 = 1 << 5
        public static let balanceWhileCharging: UInt8 = 1 << 6
        public static let balanceWhileDischarging: UInt8 = 1 << 7
    }

    // MARK: Scalings

    /// Full scale of the 12-bit ADC.
    public static let adcFullScale: Float = 4095
    /// The ADC reference, V.
    public static let adcReference: Float = 1.8
    /// Cell voltages and voltage thresholds: V = code × 1.8 × 8 / (4095 × 3) (≈ 1.172 mV, 4.8 V
    /// at 0xFFF).
    public static let cellVoltsPerCode: Float = 1.8 * 8 / (4095 * 3)
    /// VBATT: V = code × 1.8 × 32 / 4095.
    public static let batteryVoltsPerCode: Float = 1.8 * 32 / 4095
    /// The internal temperature sensor, mV per K (IT: T = V / 1.8527 mV − 273.15 °C).
    public static let internalMillivoltsPerKelvin: Float = 1.8527

    /// The 12-bit code of a cell-voltage threshold, rounded and clamped to 0…0xFFF.
    public static func voltageCode(_ volts: Float) -> UInt16 { code(volts / cellVoltsPerCode) }

    public static func volts(_ code: UInt16) -> Float { Float(code & 0x0FFF) * cellVoltsPerCode }

    /// Rounds to the nearest 12-bit code.
    public static func code(_ x: Float) -> UInt16 {
        let r = x.rounded()
        if !(r > 0) { return 0 }
        if r >= 4095 { return 4095 }
        return UInt16(r)
    }

    /// The pack-current gain (Control 0 CG bits): code 0 = ×50, 1 = ×5, 2 and 3 = ×500.
    public enum CurrentGain: Equatable, Sendable {
        case x5, x50, x500

        public var code: UInt8 {
            switch self {
            case .x50: 0
            case .x5: 1
            case .x500: 2
            }
        }

        public var factor: Float {
            switch self {
            case .x5: 5
            case .x50: 50
            case .x500: 500
            }
        }

        public init(code: UInt8) {
            switch code & 0x03 {
            case 0: self = .x50
            case 1: self = .x5
            default: self = .x500
            }
        }
    }

    // MARK: Delays

    /// Delay units (bits 10–11 of a delay word).
    public static func unitMicroseconds(_ unit: UInt16) -> UInt64 {
        switch unit & 0x03 {
        case 0: 1
        case 1: 1000
        case 2: 1_000_000
        default: 60_000_000
        }
    }

    /// A delay as the chip holds it (bits 0–11 of its word): the finest unit whose 10-bit value
    /// reaches it, rounded to the nearest step; 1023 minutes at most.
    public static func delayBits(microseconds: UInt64) -> UInt16 {
        var unit: UInt16 = 0
        while unit < 3 {
            let step = unitMicroseconds(unit)
            if (microseconds + step / 2) / step <= 1023 { break }
            unit += 1
        }
        let step = unitMicroseconds(unit)
        let value = min((microseconds + step / 2) / step, 1023)
        return UInt16(value) | unit << 10
    }

    public static func delayMicroseconds(_ word: UInt16) -> UInt64 {
        UInt64(word & 0x03FF) * unitMicroseconds((word >> 10) & 0x03)
    }

    // MARK: Over-current tables (datasheet §10, OCD/OCC/SCD threshold tables)

    /// Discharge over-current thresholds, mV across the shunt, index 0…7.
    public static func dischargeOvercurrentMillivolts(_ index: Int) -> Float {
        switch index {
        case 0: 4
        case 1: 8
        case 2: 16
        case 3: 24
        case 4: 32
        case 5: 48
        case 6: 64
        default: 96
        }
    }

    /// Charge over-current thresholds, mV across the shunt, index 0…7.
    public static func chargeOvercurrentMillivolts(_ index: Int) -> Float {
        switch index {
        case 0: 1
        case 1: 2
        case 2: 4
        case 3: 6
        case 4: 8
        case 5: 12
        case 6: 16
        default: 24
        }
    }

    /// Discharge short-circuit thresholds, mV across the shunt, index 0…7.
    public static func shortCircuitMillivolts(_ index: Int) -> Float {
        switch index {
        case 0: 16
        case 1: 24
        case 2: 32
        case 3: 48
        case 4: 64
        case 5: 96
        case 6: 128
        default: 256
        }
    }

    // MARK: Temperatures

    /// The xT input code of a thermistor voltage through the TGAIN gain (2 with TGAIN = 0):
    /// the temperature thresholds (30H–3EH) are held in the same scale.
    public static func temperatureCode(volts: Float, gain: Float = 2) -> UInt16 {
        code(volts * gain * adcFullScale / adcReference)
    }

    public static func thermistorVolts(code: UInt16, gain: Float = 2) -> Float {
        Float(code & 0x0FFF) * adcReference / adcFullScale / gain
    }

    /// The board's thermistor divider (10 kΩ NTC, 22 kΩ to the chip's TEMPO output), five
    /// points from the datasheet's table as the LibreSolar driver uses them: volts at the xT
    /// pin for 80, 50, 25, 0 and −40 °C.
    static func lutVolts(_ k: Int) -> Float {
        switch k {
        case 0: 0.153
        case 1: 0.295
        case 2: 0.463
        case 3: 0.710
        default: 0.755
        }
    }

    static func lutCelsius(_ k: Int) -> Float {
        switch k {
        case 0: 80
        case 1: 50
        case 2: 25
        case 3: 0
        default: -40
        }
    }

    /// The xT voltage of a thermistor at `celsius` (linear between the table's points,
    /// clamped to −40…80 °C).
    public static func thermistorVolts(celsius: Float) -> Float {
        if !(celsius < lutCelsius(0)) { return lutVolts(0) }
        if !(celsius > lutCelsius(4)) { return lutVolts(4) }
        var k = 0
        while k < 3 && celsius < lutCelsius(k + 1) { k += 1 }
        let t0 = lutCelsius(k), t1 = lutCelsius(k + 1)
        return lutVolts(k) + (celsius - t0) * (lutVolts(k + 1) - lutVolts(k)) / (t1 - t0)
    }

    /// The temperature of a thermistor whose xT voltage is `volts` (the inverse of
    /// `thermistorVolts(celsius:)`).
    public static func celsius(thermistorVolts volts: Float) -> Float {
        if !(volts > lutVolts(0)) { return lutCelsius(0) }
        if !(volts < lutVolts(4)) { return lutCelsius(4) }
        var k = 0
        while k < 3 && volts > lutVolts(k + 1) { k += 1 }
        let v0 = lutVolts(k), v1 = lutVolts(k + 1)
        return lutCelsius(k) + (volts - v0) * (lutCelsius(k + 1) - lutCelsius(k)) / (v1 - v0)
    }

    // MARK: Cells

    /// The cell-select byte (49H) for a pack of `cells` in series: the lowest and the highest
    /// inputs first (3 cells: VC1, VC2, VC8), as the datasheet's connection diagrams wire them.
    /// 0 for a count outside 3…8.
    public static func cellSelection(cells: Int) -> UInt8 {
        switch cells {
        case 3: 0b1000_0011
        case 4: 0b1100_0011
        case 5: 0b1100_0111
        case 6: 0b1110_0111
        case 7: 0b1110_1111
        case 8: 0b1111_1111
        default: 0
        }
    }

    /// Pack cells (bit n = cell n + 1) as inputs (bit n = VC(n+1)) under `selection`.
    public static func inputs(cells mask: UInt16, selection: UInt8) -> UInt8 {
        var out: UInt8 = 0
        var cell = 0
        for input in 0..<8 where selection & (1 << UInt8(input)) != 0 {
            if mask & (1 << UInt16(cell)) != 0 { out |= 1 << UInt8(input) }
            cell += 1
        }
        return out
    }

    /// Inputs (bit n = VC(n+1)) as pack cells (bit n = cell n + 1) under `selection`.
    public static func cells(inputs: UInt8, selection: UInt8) -> UInt16 {
        var out: UInt16 = 0
        var cell = 0
        for input in 0..<8 where selection & (1 << UInt8(input)) != 0 {
            if inputs & (1 << UInt8(input)) != 0 { out |= 1 << UInt16(cell) }
            cell += 1
        }
        return out
    }
}
