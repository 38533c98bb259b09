/// The driver of the TI bq769x0 family (bq76920 / bq76930 / bq76940, up to 5 / 10 / 15 cells)
/// on I2C: the FlexBMS AFE API over the chip's registers (TI SLUSBK2).
///
/// What the chip protects by itself: cell over- and under-voltage, discharge over-current and
/// short circuit; it turns the FET off, latches the SYS_STAT bit and raises ALERT, and never
/// turns a FET back on (§8.3.1.3.1). Everything else is the firmware's job: **charge
/// over-current and all temperature limits are not in this chip**, `configure` returns them
/// unchanged and the firmware must check them on every reading (with a debounce for the
/// charge over-current delay, reference bug #3); so are the OV/UV recovery voltages and the
/// recovery time, since only the host clears a trip. The chip has no automatic balancing and no
/// sleep mode.
///
/// Units are explicit throughout: voltage delays are tables in seconds, compared here as
/// milliseconds (the reference firmware's bug #1 compared seconds with milliseconds).
public struct BQ769x0Driver<Bus: I2CBus>: AFEDriver {
    public var bus: Bus
    public let part: BQ769x0.Part
    /// Cells in series (3…5 per group of the part).
    public let cells: Int
    /// Cell inputs in use (bit n = VC(n+1)), from the datasheet's wiring for fewer cells.
    public let cellMask: UInt16
    /// The board's shunt, Ω (BMS-5S50-SC: 1 mΩ).
    public let shuntResistance: Float
    /// TS inputs that carry a 10 kΩ NTC (at most one per group).
    public let thermistors: Int
    public let thermistorBeta: Float
    /// The part was ordered with CRC on I2C.
    public let crcMode: Bool
    public let address: UInt8
    /// The factory calibration, read by `start()`.
    public private(set) var adcGainMicrovolts = 380
    public private(set) var adcOffsetMillivolts = 0

    public init(bus: Bus, part: BQ769x0.Part, cells: Int, shuntResistance: Float, thermistors: Int = 1,
                thermistorBeta: Float = 3435, crcMode: Bool = false, address: UInt8 = BQ769x0.i2cAddress) {
        self.bus = bus
        self.part = part
        self.cellMask = BQ769x0.cellMask(cells: cells, part: part)
        self.cells = cellMask.nonzeroBitCount
        self.shuntResistance = shuntResistance
        self.thermistors = max(0, min(part.thermistorInputs, thermistors))
        self.thermistorBeta = thermistorBeta
        self.crcMode = crcMode
        self.address = address
    }

    // MARK: AFEDriver

    /// The chip must be awake (booted by the pulse on TS1): it answers, CC_CFG takes 0x19, the
    /// factory gain and offset are read, the ADC (external thermistors) and the coulomb counter
    /// are switched on, FETs and bleeding off, SYS_STAT cleared.
    public mutating func start() throws(AFEError) {
        try writeRegister(BQ769x0.Register.ccCfg, BQ769x0.ccConfiguration)
        let cfg = try readRegisters(BQ769x0.Register.ccCfg, count: 1)[0]
        guard cfg == BQ769x0.ccConfiguration else { throw .wrongChip(UInt16(cfg)) }
        let cal = try readRegisters(BQ769x0.Register.adcGain1, count: 2)
        let gain2 = try readRegisters(BQ769x0.Register.adcGain2, count: 1)[0]
        adcGainMicrovolts = BQ769x0.adcGainMicrovolts(gain1: cal[0], gain2: gain2)
        adcOffsetMillivolts = BQ769x0.adcOffsetMillivolts(cal[1])
        try writeRegister(BQ769x0.Register.sysCtrl1, BQ769x0.SysCtrl1.adcEnable | BQ769x0.SysCtrl1.tempSelect)
        try writeRegister(BQ769x0.Register.sysCtrl2, BQ769x0.SysCtrl2.ccEnable)
        for g in 0..<part.groups { try writeRegister(BQ769x0.Register.cellBal1 + UInt8(g), 0) }
        try writeRegister(BQ769x0.Register.sysStat, BQ769x0.SysStat.all)
    }

    /// Writes OV/UV thresholds and delays, OCD and SCD; returns what the chip holds. Rounding:
    /// the OV threshold and every delay and current threshold to the table step at or below the
    /// request (the chip acts no later and no higher than asked; below a table's first entry,
    /// that entry), the UV threshold to the step at or above it. RSNS = 1 (the higher range)
    /// only if the over-current or short-circuit request is above the RSNS = 0 table.
    public mutating func configure(_ p: AFEProtection) throws(AFEError) -> AFEProtection {
        guard p.cellOvervoltage > p.cellUndervoltage else { throw .unsupported }
        let ov = overvoltageCode(p.cellOvervoltage)
        let uv = undervoltageCode(p.cellUndervoltage)
        guard volts(BQ769x0.overvoltageTripADC(ov)) > volts(BQ769x0.undervoltageTripADC(uv)) else { throw .unsupported }
        let ovDelay = BQ769x0.codeAtOrBelow(Float(p.cellOvervoltageDelayMs), count: 4) {
            Float(BQ769x0.overvoltageDelayMilliseconds($0))
        }
        let uvDelay = BQ769x0.codeAtOrBelow(Float(p.cellUndervoltageDelayMs), count: 4) {
            Float(BQ769x0.undervoltageDelayMilliseconds($0))
        }
        let ocdMillivolts = p.dischargeOvercurrent * shuntResistance * 1000
        let scdMillivolts = p.shortCircuit * shuntResistance * 1000
        let rsns = ocdMillivolts > Float(BQ769x0.overcurrentMillivolts(15, rsns: false))
            || scdMillivolts > Float(BQ769x0.shortCircuitMillivolts(7, rsns: false))
        let ocd = BQ769x0.codeAtOrBelow(ocdMillivolts, count: 16) { Float(BQ769x0.overcurrentMillivolts($0, rsns: rsns)) }
        let scd = BQ769x0.codeAtOrBelow(scdMillivolts, count: 8) { Float(BQ769x0.shortCircuitMillivolts($0, rsns: rsns)) }
        let ocdDelay = BQ769x0.codeAtOrBelow(Float(p.dischargeOvercurrentDelayMs), count: 8) {
            Float(BQ769x0.overcurrentDelayMilliseconds($0))
        }
        let scdDelay = BQ769x0.codeAtOrBelow(Float(p.shortCircuitDelayMicroseconds), count: 4) {
            Float(BQ769x0.shortCircuitDelayMicroseconds($0))
        }
        try writeRegister(BQ769x0.Register.protect1,
                          (rsns ? BQ769x0.Protect1.rsns : 0) | scdDelay << BQ769x0.Protect1.delayShift | scd)
        try writeRegister(BQ769x0.Register.protect2, ocdDelay << BQ769x0.Protect2.delayShift | ocd)
        try writeRegister(BQ769x0.Register.protect3,
                          uvDelay << BQ769x0.Protect3.uvDelayShift | ovDelay << BQ769x0.Protect3.ovDelayShift)
        try writeRegister(BQ769x0.Register.ovTrip, ov)
        try writeRegister(BQ769x0.Register.uvTrip, uv)
        return try readProtection(p)
    }

    /// The protection limits as the chip holds them; what the chip does not hold comes from
    /// `base` unchanged.
    public mutating func readProtection(_ base: AFEProtection = AFEProtection()) throws(AFEError) -> AFEProtection {
        let regs = try readRegisters(BQ769x0.Register.protect1, count: 5)
        let protect1 = regs[0], protect2 = regs[1], protect3 = regs[2]
        let rsns = protect1 & BQ769x0.Protect1.rsns != 0
        var r = base
        r.cellOvervoltage = volts(BQ769x0.overvoltageTripADC(regs[3]))
        r.cellUndervoltage = volts(BQ769x0.undervoltageTripADC(regs[4]))
        r.cellOvervoltageDelayMs = BQ769x0.overvoltageDelayMilliseconds(protect3 >> BQ769x0.Protect3.ovDelayShift)
        r.cellUndervoltageDelayMs = BQ769x0.undervoltageDelayMilliseconds(protect3 >> BQ769x0.Protect3.uvDelayShift)
        r.dischargeOvercurrent = Float(BQ769x0.overcurrentMillivolts(protect2, rsns: rsns)) / (shuntResistance * 1000)
        r.dischargeOvercurrentDelayMs = BQ769x0.overcurrentDelayMilliseconds(protect2 >> BQ769x0.Protect2.delayShift)
        r.shortCircuit = Float(BQ769x0.shortCircuitMillivolts(protect1, rsns: rsns)) / (shuntResistance * 1000)
        r.shortCircuitDelayMicroseconds = BQ769x0.shortCircuitDelayMicroseconds(protect1 >> BQ769x0.Protect1.delayShift)
        return r
    }

    /// The chip cannot balance by itself: `automatic` comes back false, the rest unchanged (the
    /// firmware balances through `balance(_:)`). Nothing is written.
    public mutating func configure(_ b: AFEBalancing) throws(AFEError) -> AFEBalancing {
        var r = b
        r.automatic = false
        return r
    }

    /// Cells, BAT, current (the last coulomb-counter reading), thermistors, SYS_STAT as
    /// `tripped` (then cleared by writing its 1s back; the chip shows no running delays, so
    /// `alerting` stays empty), the FETs and the bleeding cells. No die temperature (TS inputs
    /// measure the thermistors): `internalTemperature` stays 0. `packVoltage` is BAT too (no
    /// PACK pin).
    public mutating func read() throws(AFEError) -> AFEReading {
        var r = AFEReading()
        let stat = try readRegisters(BQ769x0.Register.sysStat, count: 1)[0]
        let raw = try readRegisters(BQ769x0.Register.vc1Hi, count: 2 * part.inputs)
        for k in 0..<part.inputs where cellMask & (1 << UInt16(k)) != 0 {
            r.cellVoltages[r.cellCount] = volts(Int(word(raw, 2 * k) & 0x3FFF))
            r.cellCount += 1
        }
        let bat = try readRegisters(BQ769x0.Register.batHi, count: 2)
        r.stackVoltage = (4 * Float(adcGainMicrovolts) * Float(word(bat, 0)) / 1000
                          + Float(part.inputs * adcOffsetMillivolts)) / 1000
        r.packVoltage = r.stackVoltage
        if thermistors > 0 {
            let ts = try readRegisters(BQ769x0.Register.ts1Hi, count: 2 * thermistors)
            for k in 0..<thermistors {
                let v = Float(word(ts, 2 * k) & 0x3FFF) * BQ769x0.tsMicrovoltsPerLSB / 1_000_000
                let ohms = BQ769x0.tsPullupOhms * v / max(BQ769x0.tsReferenceVolts - v, 1e-6)
                r.temperatures[k] = BQ769x0.ntcCelsius(ohms: ohms, beta: thermistorBeta)
            }
            r.temperatureCount = thermistors
        }
        let cc = try readRegisters(BQ769x0.Register.ccHi, count: 2)
        r.current = Float(Int(Int16(bitPattern: word(cc, 0)))) * BQ769x0.ccMicrovoltsPerLSB
            / (shuntResistance * 1_000_000)
        let ctrl2 = try readRegisters(BQ769x0.Register.sysCtrl2, count: 1)[0]
        r.switches = AFESwitches(charge: ctrl2 & BQ769x0.SysCtrl2.chgOn != 0,
                                 discharge: ctrl2 & BQ769x0.SysCtrl2.dsgOn != 0)
        let bal = try readRegisters(BQ769x0.Register.cellBal1, count: part.groups)
        var inputs: UInt16 = 0
        for g in 0..<part.groups { inputs |= UInt16(bal[g] & 0x1F) << UInt16(5 * g) }
        r.balancing = cellBits(inputs: inputs)
        r.status.tripped = conditions(stat)
        // Acknowledge what was read: releases ALERT; a persisting condition re-trips after its
        // delay. The FETs stay off until the host switches them on again.
        if stat & BQ769x0.SysStat.all != 0 { try writeRegister(BQ769x0.Register.sysStat, stat & BQ769x0.SysStat.all) }
        return r
    }

    /// Sets CHG_ON / DSG_ON as asked, keeping the other SYS_CTRL2 bits. The chip clears a FET
    /// bit on a fault and never sets it again by itself; this is the only place that does, so a
    /// tripped FET comes back only when the host asks.
    public mutating func setSwitches(_ s: AFESwitches) throws(AFEError) {
        let c = BQ769x0.SysCtrl2.self
        var ctrl2 = try readRegisters(BQ769x0.Register.sysCtrl2, count: 1)[0]
        ctrl2 &= ~(c.chgOn | c.dsgOn | c.ccOneShot)
        if s.charge { ctrl2 |= c.chgOn }
        if s.discharge { ctrl2 |= c.dsgOn }
        try writeRegister(BQ769x0.Register.sysCtrl2, ctrl2)
    }

    /// Bleeds the cells in `mask` (bit n = cell n + 1 of the pack, mapped to its input). Of two
    /// neighbouring inputs in one 5-cell group the lower one is dropped (§8.3.1.3.3 forbids
    /// bleeding both); `read().balancing` shows what was really switched on.
    public mutating func balance(_ mask: UInt16) throws(AFEError) {
        let inputs = BQ769x0Driver.withoutNeighbours(inputBits(cells: mask))
        for g in 0..<part.groups {
            try writeRegister(BQ769x0.Register.cellBal1 + UInt8(g), UInt8(truncatingIfNeeded: inputs >> UInt16(5 * g)) & 0x1F)
        }
    }

    /// `.shutdown`: SHIP mode by writing [SHUT_A, SHUT_B] = 00, 01, 10 to SYS_CTRL1 (§8.4.2);
    /// only the boot pulse on TS1 wakes the chip. `.normal`: ADC and thermistors on. The chip
    /// has no sleep mode: `.sleep` is unsupported.
    public mutating func setMode(_ mode: AFEMode) throws(AFEError) {
        let c = BQ769x0.SysCtrl1.self
        switch mode {
        case .normal:
            try writeRegister(BQ769x0.Register.sysCtrl1, c.adcEnable | c.tempSelect)
        case .sleep:
            throw .unsupported
        case .shutdown:
            let keep = c.adcEnable | c.tempSelect
            try writeRegister(BQ769x0.Register.sysCtrl1, keep)
            try writeRegister(BQ769x0.Register.sysCtrl1, keep | c.shutB)
            try writeRegister(BQ769x0.Register.sysCtrl1, keep | c.shutA)
        }
    }

    // MARK: Conversions

    /// A 14-bit cell ADC value in volts: GAIN × ADC + OFFSET (§8.3.1.1.2).
    func volts(_ adc: Int) -> Float {
        (Float(adc) * Float(adcGainMicrovolts) / 1000 + Float(adcOffsetMillivolts)) / 1000
    }

    /// The ADC value (in LSBs, fractional) of a cell voltage: (V − OFFSET) / GAIN.
    func adcValue(_ volts: Float) -> Float {
        (volts * 1_000_000 - Float(adcOffsetMillivolts) * 1000) / Float(adcGainMicrovolts)
    }

    /// OV_TRIP: the middle 8 bits of the 14-bit value, rounded so the threshold is at or below
    /// the request (bits 3:0 are fixed at 1000, so the step starts at 0x2008). The 0.01-step
    /// allowance keeps a realised value a fixed point despite Float rounding.
    func overvoltageCode(_ volts: Float) -> UInt8 {
        let steps = ((adcValue(volts) - Float(BQ769x0.overvoltageTripADC(0))) / 16 + 0.01).rounded(.down)
        return UInt8(max(0, min(255, steps)))
    }

    /// UV_TRIP: the threshold at or above the request (the chip trips no later than asked).
    func undervoltageCode(_ volts: Float) -> UInt8 {
        let steps = ((adcValue(volts) - Float(BQ769x0.undervoltageTripADC(0))) / 16 - 0.01).rounded(.up)
        return UInt8(max(0, min(255, steps)))
    }

    func conditions(_ stat: UInt8) -> AFEConditions {
        var c = AFEConditions()
        let s = BQ769x0.SysStat.self
        if stat & s.ov != 0 { c.insert(.cellOvervoltage) }
        if stat & s.uv != 0 { c.insert(.cellUndervoltage) }
        if stat & s.ocd != 0 { c.insert(.dischargeOvercurrent) }
        if stat & s.scd != 0 { c.insert(.shortCircuit) }
        return c
    }

    /// Pack cells (bit n = cell n + 1) to inputs (bit n = VC(n+1)).
    func inputBits(cells mask: UInt16) -> UInt16 {
        var inputs: UInt16 = 0
        var cell = 0
        for k in 0..<part.inputs where cellMask & (1 << UInt16(k)) != 0 {
            if mask & (1 << UInt16(cell)) != 0 { inputs |= 1 << UInt16(k) }
            cell += 1
        }
        return inputs
    }

    /// Inputs to pack cells.
    func cellBits(inputs: UInt16) -> UInt16 {
        var mask: UInt16 = 0
        var cell = 0
        for k in 0..<part.inputs where cellMask & (1 << UInt16(k)) != 0 {
            if inputs & (1 << UInt16(k)) != 0 { mask |= 1 << UInt16(cell) }
            cell += 1
        }
        return mask
    }

    /// Walks each group from its top input down and drops an input whose upper neighbour stays.
    static func withoutNeighbours(_ inputs: UInt16) -> UInt16 {
        var out: UInt16 = 0
        for g in 0..<3 {
            var bit = 4
            while bit >= 0 {
                let b = UInt16(1) << UInt16(5 * g + bit)
                // The upper neighbour inside the group (bit 4 has none: the next group's bit 0
                // is not yet in `out`).
                if inputs & b != 0 && (bit == 4 || out & (b << 1) == 0) { out |= b }
                bit -= 1
            }
        }
        return out
    }

    func word(_ bytes: I2CBytes, _ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }

    // MARK: Transfers

    /// Reads `count` consecutive registers in one transfer (address auto-increment; the VCx
    /// pairs read this way are atomic, §8.5.1), checking CRCs in CRC mode: the first over the
    /// read address and the byte, the others over their byte.
    mutating func readRegisters(_ register: UInt8, count: Int) throws(AFEError) -> I2CBytes {
        var prefix = I2CBytes()
        prefix.append(address << 1 | 1)
        return try bus.readChecked(address, register: register, count: count, crcMode: crcMode, prefix: prefix)
    }

    /// Writes one register, with its CRC over address, register and data in CRC mode.
    mutating func writeRegister(_ register: UInt8, _ value: UInt8) throws(AFEError) {
        var wire = I2CBytes()
        wire.append(register)
        wire.append(value)
        if crcMode {
            var crc = CRC8()
            crc.add(address << 1)
            crc.add(register)
            crc.add(value)
            wire.append(crc.value)
        }
        do { try bus.write(address, wire) } catch { throw .bus(error) }
    }
}
