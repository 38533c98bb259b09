/// The driver of the Renesas (Intersil) ISL94202 on I2C: the FlexBMS AFE API over its
/// registers (datasheet FN8889 §10; the LibreSolar bms-firmware driver's use of them).
///
/// How this chip differs from the TI parts, and what the driver does about it:
/// - Limits are written to the RAM shadow of the configuration EEPROM (00H–4BH with EEEN = 0):
///   effective at once, no configuration mode (the chip keeps protecting), lost at power-down,
///   so `configure` must run after every power-up. The EEPROM itself is never written.
/// - The FETs are handed to the host (Control 2 µCFET), as the reference firmware does. The chip
///   then still opens a FET by itself on over-current and short circuit, but on over- or
///   under-voltage and temperature faults it only reports: the firmware must turn the FET off
///   on `read().status.tripped` (it does, by its error flags).
/// - There is no identity register; `start` checks that its writes read back instead.
/// - The chip shows no "delay running" state: `AFEStatus.alerting` is always empty.
/// - Over-current and short-circuit trips do not retry on time: they release when the load
///   (charger) is removed, or on `clearCurrentFaults()`. `recoverySeconds` is realised as 0.
/// - Balancing is the chip's state machine (minimum voltage, start difference; it has no
///   separate stop difference and no limit of cells bled at once). Manual balancing takes the
///   balance FETs from it (Control 2 µCCBAL, CBFC) until `balance(0)` hands them back.
public struct ISL94202Driver<Bus: I2CBus>: AFEDriver {
    public var bus: Bus
    /// The board's shunt, Ω (LibreSolar BMS-8S50-IC v0.2: 0.5 mΩ).
    public let shuntResistance: Float
    /// Cells in series, 3…8 (wired to the inputs `ISL94202.cellSelection(cells:)` names).
    public let cellCount: Int
    /// Thermistors on cells: 1 (xT1; xT2 then watches the FETs, as on the LibreSolar boards) or 2.
    public let thermistors: Int
    /// The pack-current amplifier: ×5 reads ±360 mV across the shunt, ×50 ±36 mV.
    public let currentGain: ISL94202.CurrentGain
    /// The address the board's ADDR pin sets (0x28 low, 0x29 high).
    public let address: UInt8

    public init(bus: Bus, shuntResistance: Float, cellCount: Int = 8, thermistors: Int = 1,
                currentGain: ISL94202.CurrentGain = .x5, address: UInt8 = ISL94202.i2cAddress) {
        self.bus = bus
        self.shuntResistance = shuntResistance
        self.cellCount = max(3, min(8, cellCount))
        self.thermistors = max(1, min(2, thermistors))
        self.currentGain = currentGain
        self.address = address
    }

    /// The inputs carrying cells.
    public var selection: UInt8 { ISL94202.cellSelection(cells: cellCount) }

    // MARK: AFEDriver

    public mutating func start() throws(AFEError) {
        let r = ISL94202.Register.self
        // The RAM shadow, not the EEPROM; the FETs off, then handed to the host.
        try writeByte(r.eepromEnable, 0)
        try writeByte(r.control1, 0)
        try writeByte(r.control2, ISL94202.Control2.mcuFET)
        try writeByte(r.control3, 0)
        try writeByte(r.control0, currentGain.code << ISL94202.Control0.currentGainShift)
        try writeByte(r.cellSelect, selection)
        // TGAIN 0 (a gain of 2, which the thermistor table assumes); xT2 on the FETs with one
        // cell thermistor.
        var setup0 = try readBytes(r.setup0, count: 1)[0]
        setup0 &= ~(ISL94202.Setup0.temperatureGain | ISL94202.Setup0.xT2MonitorsFETs)
        if thermistors < 2 { setup0 |= ISL94202.Setup0.xT2MonitorsFETs }
        try writeByte(r.setup0, setup0)
        // No identity register: a chip that does not hold what was written is not this one.
        let cells = try readBytes(r.cellSelect, count: 1)[0]
        let control = try readBytes(r.control2, count: 1)[0]
        guard cells == selection && control == ISL94202.Control2.mcuFET else {
            throw .wrongChip(UInt16(cells) << 8 | UInt16(control))
        }
    }

    public mutating func configure(_ p: AFEProtection) throws(AFEError) -> AFEProtection {
        let r = ISL94202.Register.self
        let ov = ISL94202.voltageCode(p.cellOvervoltage)
        let uv = ISL94202.voltageCode(p.cellUndervoltage)
        guard ov > uv else { throw .unsupported }
        // Recoveries on the safe side of their thresholds.
        let ovr = min(ISL94202.voltageCode(p.cellOvervoltageRecovery), ov)
        let uvr = max(ISL94202.voltageCode(p.cellUndervoltageRecovery), uv)
        // OV/UV words keep their pulse widths (CPW/LPW, bits 12–15); the delay words their
        // upper bits.
        try writeWord(r.overvoltage, try readWord(r.overvoltage) & 0xF000 | ov)
        try writeWord(r.overvoltageRecovery, ovr)
        try writeWord(r.undervoltage, try readWord(r.undervoltage) & 0xF000 | uv)
        try writeWord(r.undervoltageRecovery, uvr)
        try writeWord(r.overvoltageDelay, try readWord(r.overvoltageDelay) & 0xF000
                      | ISL94202.delayBits(microseconds: UInt64(p.cellOvervoltageDelayMs) * 1000))
        try writeWord(r.undervoltageDelay, try readWord(r.undervoltageDelay) & 0xF000
                      | ISL94202.delayBits(microseconds: UInt64(p.cellUndervoltageDelayMs) * 1000))
        // Over-currents: the largest table step at or below the limit (the chip trips no later
        // than asked), the lowest step if the limit is below the table.
        let mohm = shuntResistance * 1000
        let ocd = step(p.dischargeOvercurrent * mohm, ISL94202.dischargeOvercurrentMillivolts)
        let occ = step(p.chargeOvercurrent * mohm, ISL94202.chargeOvercurrentMillivolts)
        let scd = step(p.shortCircuit * mohm, ISL94202.shortCircuitMillivolts)
        try writeWord(r.dischargeOvercurrent, UInt16(ocd) << 12
                      | ISL94202.delayBits(microseconds: UInt64(p.dischargeOvercurrentDelayMs) * 1000))
        try writeWord(r.chargeOvercurrent, UInt16(occ) << 12
                      | ISL94202.delayBits(microseconds: UInt64(p.chargeOvercurrentDelayMs) * 1000))
        try writeWord(r.shortCircuit, UInt16(scd) << 12
                      | ISL94202.delayBits(microseconds: UInt64(p.shortCircuitDelayMicroseconds)))
        // Temperatures as thermistor voltages (hotter = lower); recoveries one hysteresis back.
        let h = max(0, p.temperatureHysteresis)
        try writeWord(r.chargeOverTemperature, temperatureCode(p.chargeMaximumTemperature))
        try writeWord(r.chargeOverTemperatureRecovery, temperatureCode(p.chargeMaximumTemperature - h))
        try writeWord(r.chargeUnderTemperature, temperatureCode(p.chargeMinimumTemperature))
        try writeWord(r.chargeUnderTemperatureRecovery, temperatureCode(p.chargeMinimumTemperature + h))
        try writeWord(r.dischargeOverTemperature, temperatureCode(p.dischargeMaximumTemperature))
        try writeWord(r.dischargeOverTemperatureRecovery, temperatureCode(p.dischargeMaximumTemperature - h))
        try writeWord(r.dischargeUnderTemperature, temperatureCode(p.dischargeMinimumTemperature))
        try writeWord(r.dischargeUnderTemperatureRecovery, temperatureCode(p.dischargeMinimumTemperature + h))
        return try readProtection()
    }

    /// The protection limits as the chip holds them, in SI units.
    public mutating func readProtection() throws(AFEError) -> AFEProtection {
        let r = ISL94202.Register.self
        let mohm = shuntResistance * 1000
        var p = AFEProtection()
        p.cellOvervoltage = ISL94202.volts(try readWord(r.overvoltage))
        p.cellOvervoltageRecovery = ISL94202.volts(try readWord(r.overvoltageRecovery))
        p.cellOvervoltageDelayMs = milliseconds(try readWord(r.overvoltageDelay))
        p.cellUndervoltage = ISL94202.volts(try readWord(r.undervoltage))
        p.cellUndervoltageRecovery = ISL94202.volts(try readWord(r.undervoltageRecovery))
        p.cellUndervoltageDelayMs = milliseconds(try readWord(r.undervoltageDelay))
        let ocd = try readWord(r.dischargeOvercurrent)
        p.dischargeOvercurrent = ISL94202.dischargeOvercurrentMillivolts(Int(ocd >> 12 & 0x07)) / mohm
        p.dischargeOvercurrentDelayMs = milliseconds(ocd)
        let occ = try readWord(r.chargeOvercurrent)
        p.chargeOvercurrent = ISL94202.chargeOvercurrentMillivolts(Int(occ >> 12 & 0x07)) / mohm
        p.chargeOvercurrentDelayMs = milliseconds(occ)
        let scd = try readWord(r.shortCircuit)
        p.shortCircuit = ISL94202.shortCircuitMillivolts(Int(scd >> 12 & 0x07)) / mohm
        p.shortCircuitDelayMicroseconds = UInt32(min(ISL94202.delayMicroseconds(scd), UInt64(UInt32.max)))
        // No timed retry: current faults release on load (charger) removal.
        p.recoverySeconds = 0
        p.chargeMaximumTemperature = degrees(try readWord(r.chargeOverTemperature))
        p.chargeMinimumTemperature = degrees(try readWord(r.chargeUnderTemperature))
        p.dischargeMaximumTemperature = degrees(try readWord(r.dischargeOverTemperature))
        p.dischargeMinimumTemperature = degrees(try readWord(r.dischargeUnderTemperature))
        p.temperatureHysteresis = p.chargeMaximumTemperature - degrees(try readWord(r.chargeOverTemperatureRecovery))
        return p
    }

    public mutating func configure(_ b: AFEBalancing) throws(AFEError) -> AFEBalancing {
        let r = ISL94202.Register.self, s = ISL94202.Setup1.self
        let minimum = ISL94202.voltageCode(b.minimumCellVoltage)
        let delta = max(ISL94202.voltageCode(b.startDifference), 1)
        try writeWord(r.balanceMinimum, minimum)
        // No upper voltage limit and a loose cell-fail spread, as the reference firmware sets.
        try writeWord(r.balanceMaximum, ISL94202.voltageCode(4.5))
        try writeWord(r.balanceMinimumDelta, delta)
        try writeWord(r.balanceMaximumDelta, ISL94202.voltageCode(1.0))
        // End of charge at the balancing minimum, so that CB_EOC also balances at rest.
        try writeWord(r.endOfCharge, minimum)
        var setup1 = try readBytes(r.setup1, count: 1)[0]
        setup1 &= ~(s.balanceWhileCharging | s.balanceWhileDischarging | s.balanceAtEndOfCharge)
        if b.automatic { setup1 |= s.balanceWhileCharging | s.balanceAtEndOfCharge }
        try writeByte(r.setup1, setup1)
        var out = AFEBalancing()
        let held = try readBytes(r.setup1, count: 1)[0]
        out.automatic = held & (s.balanceWhileCharging | s.balanceAtEndOfCharge)
            == s.balanceWhileCharging | s.balanceAtEndOfCharge
        out.minimumCellVoltage = ISL94202.volts(try readWord(r.balanceMinimum))
        out.startDifference = ISL94202.volts(try readWord(r.balanceMinimumDelta))
        // One difference starts and stops; every qualifying cell bleeds at once.
        out.stopDifference = out.startDifference
        out.maximumCells = cellCount
        return out
    }

    public mutating func read() throws(AFEError) -> AFEReading {
        let r = ISL94202.Register.self
        var out = AFEReading()
        // Status 0–3, CBFC, Control 0–3 (80H–88H).
        let ops = try readBytes(r.status0, count: 9)
        // CELLMIN … VRGO (8AH–A9H).
        let data = try readBytes(r.cellMinimum, count: 32)
        func word(_ register: UInt8) -> UInt16 {
            let k = Int(register - r.cellMinimum)
            return (UInt16(data[k]) | UInt16(data[k + 1]) << 8) & 0x0FFF
        }
        var sum: Float = 0
        for input in 0..<8 where selection & (1 << UInt8(input)) != 0 {
            let v = ISL94202.volts(word(r.cell1 + UInt8(2 * input)))
            out.cellVoltages[out.cellCount] = v
            out.cellCount += 1
            sum += v
        }
        out.stackVoltage = sum
        out.packVoltage = Float(word(r.batteryVoltage)) * ISL94202.batteryVoltsPerCode
        // ISNS is a magnitude through the gain Control 0 holds; Status 2 gives the direction.
        let gain = ISL94202.CurrentGain(code: (ops[5] & ISL94202.Control0.currentGainMask) >> 4).factor
        let amps = Float(word(r.packCurrent)) * ISL94202.adcReference / ISL94202.adcFullScale / gain / shuntResistance
        let status2 = ops[2]
        if status2 & ISL94202.Status2.charging != 0 { out.current = amps }
        else if status2 & ISL94202.Status2.discharging != 0 { out.current = -amps }
        let it = Float(word(r.internalTemperature)) * ISL94202.adcReference / ISL94202.adcFullScale
        out.internalTemperature = it * 1000 / ISL94202.internalMillivoltsPerKelvin - 273.15
        for k in 0..<thermistors {
            out.temperatures[k] = degrees(word(r.externalTemperature1 + UInt8(2 * k)))
        }
        out.temperatureCount = thermistors
        out.status.tripped = conditions(status0: ops[0], status1: ops[1])
        let control1 = ops[6]
        out.switches = AFESwitches(charge: control1 & ISL94202.Control1.cfet != 0,
                                   discharge: control1 & ISL94202.Control1.dfet != 0)
        out.balancing = ISL94202.cells(inputs: ops[4], selection: selection)
        return out
    }

    public mutating func setSwitches(_ s: AFESwitches) throws(AFEError) {
        let c = ISL94202.Control1.self
        var control = try readBytes(ISL94202.Register.control1, count: 1)[0]
        control &= ~(c.cfet | c.dfet | c.clearChargerError | c.clearLoadError)
        if s.charge { control |= c.cfet }
        if s.discharge { control |= c.dfet }
        try writeByte(ISL94202.Register.control1, control)
    }

    /// Releases latched over-current and short-circuit trips (Control 1 CLRLERR, CLRCERR): the
    /// host's retry, where the chip itself waits for the load or charger to go.
    public mutating func clearCurrentFaults() throws(AFEError) {
        let c = ISL94202.Control1.self
        var control = try readBytes(ISL94202.Register.control1, count: 1)[0]
        control |= c.clearLoadError | c.clearChargerError
        try writeByte(ISL94202.Register.control1, control)
    }

    /// Bleeds the cells in `mask` under host control (µCCBAL with CBAL_ON; the chip's state
    /// machine is suspended); 0 hands balancing back to the state machine.
    public mutating func balance(_ mask: UInt16) throws(AFEError) {
        let r = ISL94202.Register.self, c = ISL94202.Control2.self
        let inputs = ISL94202.inputs(cells: mask, selection: selection)
        var control = try readBytes(r.control2, count: 1)[0]
        try writeByte(r.cellBalance, inputs)
        if inputs == 0 { control &= ~(c.mcuCellBalance | c.cellBalanceOn) }
        else { control |= c.mcuCellBalance | c.cellBalanceOn }
        try writeByte(r.control2, control)
    }

    public mutating func setMode(_ mode: AFEMode) throws(AFEError) {
        let c = ISL94202.Control3.self
        switch mode {
        case .normal: try writeByte(ISL94202.Register.control3, 0)
        case .sleep: try writeByte(ISL94202.Register.control3, c.sleep)
        case .shutdown: try writeByte(ISL94202.Register.control3, c.powerDown)
        }
    }

    // MARK: Encodings

    func conditions(status0: UInt8, status1: UInt8) -> AFEConditions {
        let s0 = ISL94202.Status0.self, s1 = ISL94202.Status1.self
        var c = AFEConditions()
        if status0 & (s0.ovf | s0.ovlof) != 0 { c.insert(.cellOvervoltage) }
        if status0 & (s0.uvf | s0.uvlof) != 0 { c.insert(.cellUndervoltage) }
        if status0 & s0.cotf != 0 { c.insert(.chargeOvertemperature) }
        if status0 & s0.cutf != 0 { c.insert(.chargeUndertemperature) }
        if status0 & s0.dotf != 0 { c.insert(.dischargeOvertemperature) }
        if status0 & s0.dutf != 0 { c.insert(.dischargeUndertemperature) }
        if status1 & s1.cocf != 0 { c.insert(.chargeOvercurrent) }
        if status1 & s1.docf != 0 { c.insert(.dischargeOvercurrent) }
        if status1 & s1.dscf != 0 { c.insert(.shortCircuit) }
        if status1 & s1.iotf != 0 { c.insert(.internalOvertemperature) }
        return c
    }

    /// The index of the largest table step at or below `millivolts` (a hair of tolerance, so a
    /// realised value written back picks its own step), 0 below the table.
    func step(_ millivolts: Float, _ table: (Int) -> Float) -> Int {
        var best = 0
        for k in 0..<8 where table(k) <= millivolts + 0.001 { best = k }
        return best
    }

    func milliseconds(_ word: UInt16) -> UInt32 {
        UInt32(min((ISL94202.delayMicroseconds(word) + 500) / 1000, UInt64(UInt32.max)))
    }

    func temperatureCode(_ celsius: Float) -> UInt16 {
        ISL94202.temperatureCode(volts: ISL94202.thermistorVolts(celsius: celsius))
    }

    func degrees(_ code: UInt16) -> Float { ISL94202.celsius(thermistorVolts: ISL94202.thermistorVolts(code: code)) }

    // MARK: Transfers

    mutating func readBytes(_ register: UInt8, count: Int) throws(AFEError) -> I2CBytes {
        var request = I2CBytes()
        request.append(register)
        let answer: I2CBytes
        do { answer = try bus.writeRead(address, request, readCount: count) } catch { throw .bus(error) }
        guard answer.count == count else { throw .corrupted }
        return answer
    }

    mutating func readWord(_ register: UInt8) throws(AFEError) -> UInt16 {
        let b = try readBytes(register, count: 2)
        return UInt16(b[0]) | UInt16(b[1]) << 8
    }

    mutating func writeByte(_ register: UInt8, _ value: UInt8) throws(AFEError) {
        var data = I2CBytes()
        data.append(register)
        data.append(value)
        do { try bus.write(address, data) } catch { throw .bus(error) }
    }

    mutating func writeWord(_ register: UInt8, _ value: UInt16) throws(AFEError) {
        var data = I2CBytes()
        data.append(register)
        data.append(UInt8(truncatingIfNeeded: value))
        data.append(UInt8(truncatingIfNeeded: value >> 8))
        do { try bus.write(address, data) } catch { throw .bus(error) }
    }
}
