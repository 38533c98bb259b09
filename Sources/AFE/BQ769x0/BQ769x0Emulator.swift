/// A register-level model of a bq769x0 (bq76920/30/40) on an I2C bus, driven by a (simulated)
/// pack: what a driver reads and writes, and what the chip does by itself (TI SLUSBK2).
///
/// Modelled: the register map; the 14-bit cell ADC through the factory gain and offset; BAT;
/// TS inputs (10 kΩ NTC, or the die with TEMP_SEL = 0); the coulomb counter (a reading every
/// 250 ms with CC_EN, CC_READY); the OV/UV comparators on the ADC values (only with ADC_EN)
/// with their delay tables, and DELAY_DIS; OCD/SCD with their thresholds, RSNS and delays;
/// the latched SYS_STAT bits (write 1 to clear); the chip clearing CHG_ON (OV) and DSG_ON
/// (UV, OCD, SCD) and both (ALERT override, DEVICE_XREADY, SHIP entry) (§8.3.1.3.1 table);
/// ALERT = any SYS_STAT bit; CELLBAL bleeding; the SHUT_A/SHUT_B sequence into SHIP mode.
/// Strict: a wrong address, a silent bus or SHIP mode is not acknowledged, nor is a write with
/// a bad CRC in CRC mode (the write is discarded).
///
/// Modelling choices the datasheet does not settle (also listed in the driver's report):
/// ADC conversions are instantaneous (not every 250 ms); the chip ignores a host write that
/// sets CHG_ON / DSG_ON while a fault that clears that FET is still latched (§8.3.1.3.1 says
/// the host "must first clear the corresponding status bit"); UV ignores inputs below 0.5 V
/// (shorted inputs of packs with fewer cells); OV_TRIP/UV_TRIP reset to 0xAC/0x97;
/// multi-byte writes auto-increment, with a CRC per byte in CRC mode (the first over address,
/// register and data, the rest over their data byte); two adjacent cells bled at once are
/// carried out but counted in `adjacentBalancing` (the datasheet forbids it to the host).
public struct BQ769x0Emulator: I2CBus, Sendable {
    /// The pack as the chip's pins see it.
    public struct Analog: Sendable {
        /// Voltage across each input VC(n+1)−VCn, V (shorted inputs: 0).
        public var cellVoltages = InlineArray<15, Float>(repeating: 3.3)
        /// Pack current, A, positive = charging.
        public var current: Float = 0
        /// The 10 kΩ NTCs on TS1…TS3, °C.
        public var thermistors = InlineArray<3, Float>(repeating: 25)
        /// The die, °C (read through the TS registers with TEMP_SEL = 0).
        public var dieTemperature: Float = 30
        public init() {}
    }

    public var analog = Analog()
    public let part: BQ769x0.Part
    /// The board's real shunt, Ω.
    public var shuntResistance: Float
    /// I2C bytes carry CRCs (an ordering option of the part).
    public var crcMode: Bool
    public var address: UInt8
    /// The bus is broken (connector off, chip unpowered): every transfer is not acknowledged.
    public var silent = false
    /// Factory ADC calibration: gain 365…396 µV/LSB and offset −128…127 mV.
    public var adcGainMicrovolts: Int
    public var adcOffsetMillivolts: Int
    /// Beta of the NTCs the board carries.
    public var thermistorBeta: Float = 3435
    /// Something outside pulls the ALERT line high (sets OVRD_ALERT at the next tick).
    public var alertOverride = false

    /// SYS_STAT … CC_CFG (0x00…0x0B).
    var registers = InlineArray<12, UInt8>(repeating: 0)
    var ccCode: Int16 = 0
    var ccClock: UInt32 = 0
    var ovHeld: UInt32 = 0, uvHeld: UInt32 = 0, ocdHeld: UInt32 = 0
    /// SYS_CTRL1 was last written with [SHUT_A, SHUT_B] = 01.
    var shutArmed = false
    /// In SHIP mode: nothing answers until `boot()`.
    public private(set) var shipMode = false
    /// Bad CRCs seen, for tests.
    public private(set) var rejectedTransfers = 0
    /// CELLBAL writes that bled two neighbours of one group at once.
    public private(set) var adjacentBalancing = 0

    public init(part: BQ769x0.Part = .bq76940, shuntResistance: Float = 0.001, crcMode: Bool = false,
                address: UInt8 = BQ769x0.i2cAddress, adcGainMicrovolts: Int = 377, adcOffsetMillivolts: Int = 48) {
        self.part = part
        self.shuntResistance = shuntResistance
        self.crcMode = crcMode
        self.address = address
        self.adcGainMicrovolts = max(365, min(396, adcGainMicrovolts))
        self.adcOffsetMillivolts = max(-128, min(127, adcOffsetMillivolts))
        boot()
    }

    /// The boot pulse on TS1 (from SHIP mode, or power-up): registers to their reset values.
    public mutating func boot() {
        for k in registers.indices { registers[k] = 0 }
        registers[Int(BQ769x0.Register.ovTrip)] = 0xAC
        registers[Int(BQ769x0.Register.uvTrip)] = 0x97
        ccCode = 0; ccClock = 0
        ovHeld = 0; uvHeld = 0; ocdHeld = 0
        shutArmed = false
        shipMode = false
    }

    /// An internal chip fault (DEVICE_XREADY): both FETs off.
    public mutating func injectDeviceFault() { latch(BQ769x0.SysStat.deviceXReady) }

    // MARK: What the board sees

    public var sysStat: UInt8 { registers[Int(BQ769x0.Register.sysStat)] }
    var sysCtrl1: UInt8 { registers[Int(BQ769x0.Register.sysCtrl1)] }
    var sysCtrl2: UInt8 { registers[Int(BQ769x0.Register.sysCtrl2)] }

    public var chargeFET: Bool { !shipMode && sysCtrl2 & BQ769x0.SysCtrl2.chgOn != 0 }
    public var dischargeFET: Bool { !shipMode && sysCtrl2 & BQ769x0.SysCtrl2.dsgOn != 0 }

    /// Inputs being bled (bit n = VC(n+1)).
    public var balancing: UInt16 {
        guard !shipMode else { return 0 }
        var mask: UInt16 = 0
        for g in 0..<part.groups { mask |= UInt16(registers[1 + g] & 0x1F) << UInt16(5 * g) }
        return mask
    }

    /// The ALERT pin: driven high while any SYS_STAT bit is set.
    public var alert: Bool { !shipMode && sysStat & BQ769x0.SysStat.all != 0 }

    /// A register as stored (for tests: what the driver really wrote).
    public func register(_ address: UInt8) -> UInt8 { address < 12 ? registers[Int(address)] : readRegister(address) }

    // MARK: The chip's own work

    /// Advances the chip by `milliseconds`: protections with their delays, the coulomb counter.
    public mutating func tick(milliseconds ms: UInt32) {
        guard !shipMode else { return }
        let s = sysStat
        let noDelay = sysCtrl2 & BQ769x0.SysCtrl2.delayDisable != 0
        let protect3 = registers[Int(BQ769x0.Register.protect3)]
        if sysCtrl1 & BQ769x0.SysCtrl1.adcEnable != 0 {
            // §8.3.1.2.1: OV/UV compare the ADC values with OV_TRIP / UV_TRIP.
            var highest = 0, lowest = 0x3FFF
            for k in 0..<part.inputs {
                let code = cellCode(k)
                highest = max(highest, code)
                if analog.cellVoltages[k] >= 0.5 { lowest = min(lowest, code) }
            }
            if s & BQ769x0.SysStat.ov == 0 {
                let trip = BQ769x0.overvoltageTripADC(registers[Int(BQ769x0.Register.ovTrip)])
                let delay = noDelay ? 0 : BQ769x0.overvoltageDelayMilliseconds(protect3 >> BQ769x0.Protect3.ovDelayShift)
                if BQ769x0Emulator.step(&ovHeld, condition: highest >= trip, delay: delay, ms: ms) { latch(BQ769x0.SysStat.ov) }
            }
            if s & BQ769x0.SysStat.uv == 0 {
                let trip = BQ769x0.undervoltageTripADC(registers[Int(BQ769x0.Register.uvTrip)])
                let delay = noDelay ? 0 : BQ769x0.undervoltageDelayMilliseconds(protect3 >> BQ769x0.Protect3.uvDelayShift)
                if BQ769x0Emulator.step(&uvHeld, condition: lowest <= trip, delay: delay, ms: ms) { latch(BQ769x0.SysStat.uv) }
            }
        } else {
            ovHeld = 0; uvHeld = 0
        }
        // Current comparators on the shunt voltage, independent of the ADC.
        let protect1 = registers[Int(BQ769x0.Register.protect1)]
        let protect2 = registers[Int(BQ769x0.Register.protect2)]
        let rsns = protect1 & BQ769x0.Protect1.rsns != 0
        let dischargeMillivolts = -analog.current * shuntResistance * 1000
        if s & BQ769x0.SysStat.ocd == 0 {
            let threshold = Float(BQ769x0.overcurrentMillivolts(protect2, rsns: rsns))
            let delay = BQ769x0.overcurrentDelayMilliseconds(protect2 >> BQ769x0.Protect2.delayShift)
            if BQ769x0Emulator.step(&ocdHeld, condition: dischargeMillivolts >= threshold, delay: delay, ms: ms) {
                latch(BQ769x0.SysStat.ocd)
            }
        }
        // SCD: 70…400 µs, so within any tick.
        if s & BQ769x0.SysStat.scd == 0
            && dischargeMillivolts >= Float(BQ769x0.shortCircuitMillivolts(protect1, rsns: rsns)) {
            latch(BQ769x0.SysStat.scd)
        }
        if alertOverride { latch(BQ769x0.SysStat.ovrdAlert) }
        if sysCtrl2 & BQ769x0.SysCtrl2.ccEnable != 0 {
            ccClock += ms
            while ccClock >= BQ769x0.ccIntervalMilliseconds {
                ccClock -= BQ769x0.ccIntervalMilliseconds
                convertCurrent()
            }
        } else {
            ccClock = 0
        }
    }

    /// A condition held for its delay: true when it trips now.
    static func step(_ held: inout UInt32, condition: Bool, delay: UInt32, ms: UInt32) -> Bool {
        guard condition else { held = 0; return false }
        held += ms
        guard held >= delay else { return false }
        held = 0
        return true
    }

    /// Latches SYS_STAT bits and turns the FETs off as the datasheet's table says.
    mutating func latch(_ bits: UInt8) {
        let s = BQ769x0.SysStat.self, c = BQ769x0.SysCtrl2.self
        registers[Int(BQ769x0.Register.sysStat)] |= bits
        var off: UInt8 = 0
        if bits & (s.ov | s.ovrdAlert | s.deviceXReady) != 0 { off |= c.chgOn }
        if bits & (s.uv | s.ocd | s.scd | s.ovrdAlert | s.deviceXReady) != 0 { off |= c.dsgOn }
        registers[Int(BQ769x0.Register.sysCtrl2)] &= ~off
    }

    mutating func convertCurrent() {
        let counts = (analog.current * shuntResistance * 1_000_000 / BQ769x0.ccMicrovoltsPerLSB).rounded()
        ccCode = Int16(max(-32768, min(32767, counts)))
        registers[Int(BQ769x0.Register.sysStat)] |= BQ769x0.SysStat.ccReady
    }

    /// The 14-bit ADC value of input `k`: (V − offset) / gain.
    func cellCode(_ k: Int) -> Int {
        guard k < part.inputs else { return 0 }
        let lsb = (analog.cellVoltages[k] * 1_000_000 - Float(adcOffsetMillivolts) * 1000) / Float(adcGainMicrovolts)
        return Int(max(0, min(0x3FFF, lsb.rounded())))
    }

    /// BAT: the sum of the inputs, V(BAT) = 4 × GAIN × ADC + (#inputs × OFFSET) (§8.3.1.1.6).
    func batCode() -> Int {
        var sum: Float = 0
        for k in 0..<part.inputs { sum += analog.cellVoltages[k] }
        let lsb = (sum * 1_000_000 - Float(part.inputs * adcOffsetMillivolts) * 1000) / Float(4 * adcGainMicrovolts)
        return Int(max(0, min(0xFFFF, lsb.rounded())))
    }

    /// TSn: an external 10 kΩ NTC against the 10 kΩ pull-up to 3.3 V, or the die.
    func tsCode(_ k: Int) -> Int {
        let volts: Float
        if sysCtrl1 & BQ769x0.SysCtrl1.tempSelect != 0 {
            let r = BQ769x0.ntcOhms(celsius: analog.thermistors[k], beta: thermistorBeta)
            volts = BQ769x0.tsReferenceVolts * r / (BQ769x0.tsPullupOhms + r)
        } else {
            volts = BQ769x0.dieVoltsAt25 - (analog.dieTemperature - 25) * BQ769x0.dieVoltsPerKelvin
        }
        return Int(max(0, min(0x3FFF, (volts * 1_000_000 / BQ769x0.tsMicrovoltsPerLSB).rounded())))
    }
}

// MARK: The I2C side

extension BQ769x0Emulator {
    public mutating func write(_ address: UInt8, _ data: I2CBytes) throws(I2CError) {
        guard address == self.address, !silent, !shipMode else { throw .noAcknowledge }
        guard data.count >= 1 else { return }
        let register = data[0]
        var payload = I2CBytes()
        if crcMode {
            // After the register: data byte, CRC, data byte, CRC…
            var k = 1
            while k < data.count {
                guard k + 1 < data.count else { rejectedTransfers += 1; throw .noAcknowledge }
                var crc = CRC8()
                if k == 1 { crc.add(self.address << 1); crc.add(register) }
                crc.add(data[k])
                guard crc.value == data[k + 1] else { rejectedTransfers += 1; throw .noAcknowledge }
                payload.append(data[k])
                k += 2
            }
        } else {
            for k in 1..<data.count { payload.append(data[k]) }
        }
        for k in 0..<payload.count { writeRegister(register &+ UInt8(k), payload[k]) }
    }

    public mutating func writeRead(_ address: UInt8, _ data: I2CBytes, readCount: Int) throws(I2CError) -> I2CBytes {
        guard address == self.address, !silent, !shipMode else { throw .noAcknowledge }
        guard data.count == 1 else { throw .busError }
        let register = data[0]
        let n = crcMode ? readCount / 2 : readCount
        var out = I2CBytes()
        for k in 0..<n {
            let byte = readRegister(register &+ UInt8(k))
            out.append(byte)
            if crcMode {
                // The first CRC covers the read address and the byte, the others their byte.
                var crc = CRC8()
                if k == 0 { crc.add(self.address << 1 | 1) }
                crc.add(byte)
                out.append(crc.value)
            }
        }
        return out
    }

    mutating func writeRegister(_ register: UInt8, _ byte: UInt8) {
        let r = BQ769x0.Register.self
        switch register {
        case r.sysStat:
            // Write 1 to clear; CC_READY and the faults alike.
            registers[Int(r.sysStat)] &= ~(byte & BQ769x0.SysStat.all)
        case r.cellBal1..<(r.cellBal1 + 3):
            let group = Int(register - r.cellBal1)
            guard group < part.groups else { return }
            registers[Int(register)] = byte & 0x1F
            if BQ769x0.hasAdjacentInGroup(UInt16(byte & 0x1F)) { adjacentBalancing += 1 }
        case r.sysCtrl1:
            let c = BQ769x0.SysCtrl1.self
            let shut = byte & (c.shutA | c.shutB)
            if shut == c.shutB {
                shutArmed = true
            } else if shut == c.shutA && shutArmed {
                // §8.4.2: into SHIP, FETs off.
                registers[Int(r.sysCtrl2)] &= ~(BQ769x0.SysCtrl2.chgOn | BQ769x0.SysCtrl2.dsgOn)
                shipMode = true
                shutArmed = false
                return
            } else {
                shutArmed = false
            }
            // LOAD_PRESENT is read-only; the SHUT bits do not stick.
            registers[Int(r.sysCtrl1)] = byte & (c.adcEnable | c.tempSelect)
        case r.sysCtrl2:
            let c = BQ769x0.SysCtrl2.self, s = BQ769x0.SysStat.self
            var value = byte & (c.delayDisable | c.ccEnable | c.ccOneShot | c.dsgOn | c.chgOn)
            let stat = sysStat
            if stat & (s.ov | s.ovrdAlert | s.deviceXReady) != 0 { value &= ~c.chgOn }
            if stat & (s.uv | s.ocd | s.scd | s.ovrdAlert | s.deviceXReady) != 0 { value &= ~c.dsgOn }
            if value & c.ccOneShot != 0 && value & c.ccEnable == 0 {
                convertCurrent()
            }
            registers[Int(r.sysCtrl2)] = value & ~c.ccOneShot
        case r.protect1:
            registers[Int(register)] = byte & 0x9F
        case r.protect2:
            registers[Int(register)] = byte & 0x7F
        case r.protect3:
            registers[Int(register)] = byte & 0xF0
        case r.ovTrip, r.uvTrip, r.ccCfg:
            registers[Int(register)] = byte
        default:
            break  // read-only or reserved
        }
    }

    func readRegister(_ register: UInt8) -> UInt8 {
        let r = BQ769x0.Register.self
        let high = register & 1 == 0  // every 16-bit value starts on an even address
        func half(_ v: Int) -> UInt8 { UInt8(truncatingIfNeeded: high ? v >> 8 : v) }
        switch register {
        case 0..<12:
            return registers[Int(register)]
        case r.vc1Hi..<r.batHi:
            return half(cellCode(Int(register - r.vc1Hi) / 2))
        case r.batHi, r.batHi + 1:
            return half(batCode())
        case r.ts1Hi..<r.ccHi:
            let k = Int(register - r.ts1Hi) / 2
            return k < part.thermistorInputs ? half(tsCode(k)) : 0
        case r.ccHi, r.ccHi + 1:
            return half(Int(ccCode))
        case r.adcGain1:
            // Bit 0 is reserved and set on real parts (TI E2E 838739: 0b00000101).
            return BQ769x0.adcGainRegisters(microvolts: adcGainMicrovolts).gain1 | 0x01
        case r.adcOffset:
            return UInt8(bitPattern: Int8(adcOffsetMillivolts))
        case r.adcGain2:
            return BQ769x0.adcGainRegisters(microvolts: adcGainMicrovolts).gain2 | 0x02
        default:
            return 0
        }
    }
}
