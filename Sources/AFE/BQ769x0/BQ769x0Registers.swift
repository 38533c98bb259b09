/// Register-level facts of the TI bq769x0 family (bq76920 / bq76930 / bq76940: 5 / 10 / 15
/// cell inputs in groups of five), from the datasheet "bq769x0 3-Series to 15-Series Cell
/// Battery Monitor Family" (TI SLUSBK2, revision I): register map (§8.5), register details
/// (§8.5.1), read-only registers (§8.5.2), protections (§8.3.1.2), FET driving (§8.3.1.3.1),
/// cell balancing (§8.3.1.3.3). Shared by the driver and the emulator, so the two can only
/// disagree about behaviour, not about addresses and tables.
public enum BQ769x0 {
    /// The 7-bit I2C address of most parts (…00/…01/…03 suffixes); the …02/…06 parts answer at
    /// 0x18 (§5, Device Comparison Table). Driver and emulator take the address as a parameter.
    public static let i2cAddress: UInt8 = 0x08

    /// The three family members: how many cell inputs (VC1…VCn) and 5-cell groups they have.
    public enum Part: Equatable, Sendable {
        case bq76920, bq76930, bq76940

        /// 5-cell groups (CELLBAL1…CELLBAL3, one per group).
        public var groups: Int {
            switch self {
            case .bq76920: 1
            case .bq76930: 2
            case .bq76940: 3
            }
        }

        /// Cell inputs VC1…VC(5 × groups).
        public var inputs: Int { 5 * groups }

        /// Thermistor inputs TS1…TS(groups).
        public var thermistorInputs: Int { groups }
    }

    /// Register addresses (§8.5, register map).
    public enum Register {
        public static let sysStat: UInt8 = 0x00
        /// CELLBAL1…3: bits 4:0 = CB5:1 of their group.
        public static let cellBal1: UInt8 = 0x01
        public static let sysCtrl1: UInt8 = 0x04
        public static let sysCtrl2: UInt8 = 0x05
        public static let protect1: UInt8 = 0x06
        public static let protect2: UInt8 = 0x07
        public static let protect3: UInt8 = 0x08
        public static let ovTrip: UInt8 = 0x09
        public static let uvTrip: UInt8 = 0x0A
        /// Must be programmed to 0x19 after boot.
        public static let ccCfg: UInt8 = 0x0B
        /// VCn_HI at 0x0C + 2 (n − 1), then VCn_LO: 14 bits, high byte first.
        public static let vc1Hi: UInt8 = 0x0C
        /// BAT_HI, BAT_LO: 16 bits, high byte first.
        public static let batHi: UInt8 = 0x2A
        /// TSn_HI at 0x2C + 2 (n − 1), then TSn_LO: 14 bits.
        public static let ts1Hi: UInt8 = 0x2C
        /// CC_HI, CC_LO: 16-bit two's complement.
        public static let ccHi: UInt8 = 0x32
        /// Factory calibration (§8.5.2, read-only registers).
        public static let adcGain1: UInt8 = 0x50
        public static let adcOffset: UInt8 = 0x51
        public static let adcGain2: UInt8 = 0x59
    }

    /// The value CC_CFG must hold (§8.5, "must be programmed to 0x19").
    public static let ccConfiguration: UInt8 = 0x19

    /// SYS_STAT (0x00) bits; all latched until the host writes 1 to them (§8.5.1).
    public enum SysStat {
        public static let ccReady: UInt8 = 1 << 7
        public static let deviceXReady: UInt8 = 1 << 5
        public static let ovrdAlert: UInt8 = 1 << 4
        public static let uv: UInt8 = 1 << 3
        public static let ov: UInt8 = 1 << 2
        public static let scd: UInt8 = 1 << 1
        public static let ocd: UInt8 = 1 << 0
        /// The bits that exist (bit 6 is reserved).
        public static let all: UInt8 = 0xBF
        /// The fault bits (everything but CC_READY).
        public static let faults: UInt8 = 0x3F
    }

    /// SYS_CTRL1 (0x04) bits.
    public enum SysCtrl1 {
        /// Read-only: CHG pin above its load-detect threshold while CHG is off.
        public static let loadPresent: UInt8 = 1 << 7
        /// Voltage and temperature ADC on (OV/UV protection need it).
        public static let adcEnable: UInt8 = 1 << 4
        /// 1 = TSx inputs measure external thermistors, 0 = the die temperature.
        public static let tempSelect: UInt8 = 1 << 3
        /// SHIP entry: write [SHUT_A, SHUT_B] = 01, then 10 (§8.4.2).
        public static let shutA: UInt8 = 1 << 1
        public static let shutB: UInt8 = 1 << 0
    }

    /// SYS_CTRL2 (0x05) bits (bits 4:2 reserved).
    public enum SysCtrl2 {
        /// Bypasses the OV/UV delay timers (test only, §8.3.1.2.2).
        public static let delayDisable: UInt8 = 1 << 7
        /// Coulomb counter running continuously, a reading every 250 ms.
        public static let ccEnable: UInt8 = 1 << 6
        public static let ccOneShot: UInt8 = 1 << 5
        public static let dsgOn: UInt8 = 1 << 1
        public static let chgOn: UInt8 = 1 << 0
    }

    /// PROTECT1 (0x06): RSNS bit 7, SCD_D1:0 bits 4:3, SCD_T2:0 bits 2:0.
    public enum Protect1 {
        /// 1 = the higher current-protection threshold range (both OCD and SCD tables).
        public static let rsns: UInt8 = 1 << 7
        public static let delayShift: UInt8 = 3
    }

    /// PROTECT2 (0x07): OCD_D2:0 bits 6:4, OCD_T3:0 bits 3:0.
    public enum Protect2 {
        public static let delayShift: UInt8 = 4
    }

    /// PROTECT3 (0x08): UV_D1:0 bits 7:6, OV_D1:0 bits 5:4.
    public enum Protect3 {
        public static let uvDelayShift: UInt8 = 6
        public static let ovDelayShift: UInt8 = 4
    }

    // MARK: Tables (units in the names: every table is in the unit its name says)

    /// OV delay by OV_D (§8.5.1, PROTECT3): 1, 2, 4, 8 s, in milliseconds.
    public static func overvoltageDelayMilliseconds(_ code: UInt8) -> UInt32 {
        switch code & 0x03 {
        case 0: 1000
        case 1: 2000
        case 2: 4000
        default: 8000
        }
    }

    /// UV delay by UV_D: 1, 4, 8, 16 s, in milliseconds.
    public static func undervoltageDelayMilliseconds(_ code: UInt8) -> UInt32 {
        switch code & 0x03 {
        case 0: 1000
        case 1: 4000
        case 2: 8000
        default: 16000
        }
    }

    /// OCD delay by OCD_D (PROTECT2): 8, 20, 40, 80, 160, 320, 640, 1280 ms.
    public static func overcurrentDelayMilliseconds(_ code: UInt8) -> UInt32 {
        switch code & 0x07 {
        case 0: 8
        case 1: 20
        case 2: 40
        case 3: 80
        case 4: 160
        case 5: 320
        case 6: 640
        default: 1280
        }
    }

    /// SCD delay by SCD_D (PROTECT1): 70, 100, 200, 400 µs.
    public static func shortCircuitDelayMicroseconds(_ code: UInt8) -> UInt32 {
        switch code & 0x03 {
        case 0: 70
        case 1: 100
        case 2: 200
        default: 400
        }
    }

    /// OCD threshold by OCD_T, mV across the shunt (PROTECT2; RSNS = 0 and RSNS = 1 tables).
    public static func overcurrentMillivolts(_ code: UInt8, rsns: Bool) -> UInt16 {
        let k = code & 0x0F
        if rsns {
            switch k {
            case 0: return 17
            case 1: return 22
            case 2: return 28
            case 3: return 33
            case 4: return 39
            case 5: return 44
            case 6: return 50
            case 7: return 56
            case 8: return 61
            case 9: return 67
            case 10: return 72
            case 11: return 78
            case 12: return 83
            case 13: return 89
            case 14: return 94
            default: return 100
            }
        }
        switch k {
        case 0: return 8
        case 1: return 11
        case 2: return 14
        case 3: return 17
        case 4: return 19
        case 5: return 22
        case 6: return 25
        case 7: return 28
        case 8: return 31
        case 9: return 33
        case 10: return 36
        case 11: return 39
        case 12: return 42
        case 13: return 44
        case 14: return 47
        default: return 50
        }
    }

    /// SCD threshold by SCD_T, mV across the shunt (PROTECT1; RSNS = 0 and RSNS = 1 tables).
    public static func shortCircuitMillivolts(_ code: UInt8, rsns: Bool) -> UInt16 {
        switch code & 0x07 {
        case 0: rsns ? 44 : 22
        case 1: rsns ? 67 : 33
        case 2: rsns ? 89 : 44
        case 3: rsns ? 111 : 56
        case 4: rsns ? 133 : 67
        case 5: rsns ? 155 : 78
        case 6: rsns ? 178 : 89
        default: rsns ? 200 : 100
        }
    }

    /// The code of the largest table entry at or below `wanted` (the smallest entry if all are
    /// above it): a protection then acts no later, and at no higher a level, than asked. A
    /// relative 10⁻⁴ allowance keeps realised values (entry / shunt × shunt) fixed points.
    public static func codeAtOrBelow(_ wanted: Float, count: Int, _ entry: (UInt8) -> Float) -> UInt8 {
        var code: UInt8 = 0
        var k: UInt8 = 1
        while Int(k) < count {
            if entry(k) <= wanted + wanted * 0.0001 { code = k }
            k += 1
        }
        return code
    }

    // MARK: ADC

    /// OV_TRIP holds bits 11:4 of the 14-bit ADC value the OV comparator uses; bits 13:12 are
    /// fixed at 10 and bits 3:0 at 1000 (§8.5.1, OV_TRIP): full = 0x2008 | OV_TRIP << 4.
    public static func overvoltageTripADC(_ code: UInt8) -> Int { 0x2008 | Int(code) << 4 }

    /// UV_TRIP: bits 13:12 fixed at 01, bits 3:0 at 0000: full = 0x1000 | UV_TRIP << 4.
    public static func undervoltageTripADC(_ code: UInt8) -> Int { 0x1000 | Int(code) << 4 }

    /// ADC gain, µV/LSB: 365 + ADCGAIN<4:0>, with ADCGAIN<4:3> in ADCGAIN1 bits 3:2 and
    /// ADCGAIN<2:0> in ADCGAIN2 bits 7:5 (§8.5.2; 365…396 µV/LSB).
    public static func adcGainMicrovolts(gain1: UInt8, gain2: UInt8) -> Int {
        365 + (Int(gain1 & 0x0C) << 1 | Int(gain2 & 0xE0) >> 5)
    }

    /// The ADCGAIN1 / ADCGAIN2 bits of a gain (365…396 µV/LSB), other bits zero.
    public static func adcGainRegisters(microvolts: Int) -> (gain1: UInt8, gain2: UInt8) {
        let g = UInt8(max(0, min(31, microvolts - 365)))
        return ((g >> 3) << 2, (g & 0x07) << 5)
    }

    /// ADCOFFSET: a signed byte, mV.
    public static func adcOffsetMillivolts(_ register: UInt8) -> Int { Int(Int8(bitPattern: register)) }

    /// Coulomb counter LSB, µV across the shunt (§8.3.1.1.3: 16 bits, 8.44 µV/LSB, a reading
    /// every 250 ms with CC_EN).
    public static let ccMicrovoltsPerLSB: Float = 8.44
    public static let ccIntervalMilliseconds: UInt32 = 250

    /// TS ADC LSB, µV (§8.3.1.1.4: V_TSX = ADC × 382 µV; R_TS = 10 kΩ × V_TSX / (3.3 V − V_TSX)
    /// with the internal 10 kΩ pull-up to 3.3 V).
    public static let tsMicrovoltsPerLSB: Float = 382
    public static let tsPullupOhms: Float = 10_000
    public static let tsReferenceVolts: Float = 3.3

    /// Die temperature through the TS registers with TEMP_SEL = 0 (§8.3.1.1.5):
    /// V_TSX = 1.200 V at 25 °C, −4.2 mV/°C.
    public static let dieVoltsAt25: Float = 1.200
    public static let dieVoltsPerKelvin: Float = 0.0042

    // MARK: Cell wiring

    /// Cell inputs in use (bit n = VC(n+1)) for `cells` in series on `part` (3…5 per group).
    /// Cells are spread over the groups, lower groups first; in a group of four the VC4 input
    /// (cell 4 of the group) is shorted, in a group of three VC3 and VC4 (§9.2, cell
    /// configurations; TI E2E 985977: a 13-cell bq76940 leaves CB9 and CB14 unused).
    public static func cellMask(cells: Int, part: Part) -> UInt16 {
        let groups = part.groups
        let n = max(3 * groups, min(5 * groups, cells))
        var mask: UInt16 = 0
        for g in 0..<groups {
            let inGroup = n / groups + (g < n % groups ? 1 : 0)
            let bits: UInt16 = inGroup == 5 ? 0b11111 : inGroup == 4 ? 0b10111 : 0b10011
            mask |= bits << UInt16(5 * g)
        }
        return mask
    }

    /// True if two neighbouring inputs of one 5-cell group are both set (§8.3.1.3.3: "the host
    /// controller must ensure that no two adjacent cells are balanced simultaneously within
    /// each set" of VC1–5, VC6–10, VC11–15).
    public static func hasAdjacentInGroup(_ inputs: UInt16) -> Bool {
        for g in 0..<3 {
            let group = (inputs >> UInt16(5 * g)) & 0x1F
            if group & (group << 1) != 0 { return true }
        }
        return false
    }

    // MARK: 10 kΩ NTC (beta model, 25 °C reference), without libm

    /// Resistance of a 10 kΩ NTC at `celsius` with constant `beta`, Ω.
    public static func ntcOhms(celsius: Float, beta: Float) -> Float {
        10_000 * exponential(beta * (1 / (celsius + 273.15) - 1 / 298.15))
    }

    /// Temperature of a 10 kΩ NTC of constant `beta` at `ohms`, °C.
    public static func ntcCelsius(ohms: Float, beta: Float) -> Float {
        1 / (1 / Float(298.15) + naturalLog(ohms / 10_000) / beta) - 273.15
    }

    /// ln x for x > 0: x = m · 2^e, ln x = e ln 2 + 2 atanh((m − 1)/(m + 1)) (series).
    public static func naturalLog(_ x: Float) -> Float {
        guard x > 0 else { return -Float.infinity }
        var m = x.significand         // 1 ≤ m < 2
        var e = Float(Int(x.exponent))
        if m > 1.41421356 { m /= 2; e += 1 }
        let z = (m - 1) / (m + 1)
        let z2 = z * z
        var term = z, sum: Float = 0
        var k: Float = 1
        for _ in 0..<8 { sum += term / k; term *= z2; k += 2 }
        return e * 0.69314718 + 2 * sum
    }

    /// e^x: x = k ln 2 + r, e^r by its series, times 2^k.
    public static func exponential(_ x: Float) -> Float {
        guard x < 88 else { return Float.infinity }
        guard x > -87 else { return 0 }
        let k = (x / 0.69314718).rounded()
        let r = x - k * 0.69314718
        var term: Float = 1, sum: Float = 1
        for n in 1..<12 { term *= r / Float(n); sum += term }
        return Float(sign: .plus, exponent: Int(k), significand: sum)
    }
}
