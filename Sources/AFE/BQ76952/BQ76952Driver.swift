/// The driver of the TI BQ76952 (BQ769x2 family) on I2C: the FlexBMS AFE API over direct
/// commands, subcommands and data memory (TRM SLUUBY2; facts and their sources in
/// docs/firmware.md). Protection limits are written in CONFIG_UPDATE mode, during which the
/// chip neither measures nor protects, so `configure` is for start-up and explicit changes only.
public struct BQ76952Driver<Bus: I2CBus>: AFEDriver {
    public var bus: Bus
    /// The board's shunt, Ω (BMS-16S100-SC: 300 µΩ).
    public let shuntResistance: Float
    /// Connected cell inputs (bit n = VC(n+1)); 0xFFFF for 16 cells.
    public let cellMask: UInt16
    /// TS1…TS3 pins that carry a cell thermistor (1…3 of them, from TS1).
    public let thermistors: Int
    /// The part was ordered with CRC on I2C.
    public let crcMode: Bool
    /// Subcommand completion polls before `busy`.
    public var pollLimit = 20

    public init(bus: Bus, shuntResistance: Float, cellMask: UInt16 = 0xFFFF, thermistors: Int = 2, crcMode: Bool = false) {
        self.bus = bus
        self.shuntResistance = shuntResistance
        self.cellMask = cellMask
        self.thermistors = max(0, min(3, thermistors))
        self.crcMode = crcMode
    }

    /// Cell inputs in use for a pack of `cells` in series, TI's recommended wiring: the lowest
    /// `cells − 1` inputs and VC16 for the top cell.
    public static func cellMask(cells: Int) -> UInt16 {
        guard cells > 1 && cells < 16 else { return 0xFFFF }
        return (UInt16(1) << UInt16(cells - 1)) - 1 | 0x8000
    }

    // MARK: AFEDriver

    public mutating func start() throws(AFEError) {
        let number = try subcommandRead(BQ76952.Subcommand.deviceNumber, count: 2)
        let device = UInt16(number[0]) | UInt16(number[1]) << 8
        guard device == BQ76952.deviceNumber else { throw .wrongChip(device) }
        // The host keeps the FETs off until the firmware allows them.
        try subcommand(BQ76952.Subcommand.allFETsOff)
        try enterConfigUpdate()
        // 10 mA and 10 mV user units: ±327 A and ±327 V fit an I2.
        try writeMemory(.daConfiguration, 0x06)
        try writeMemory(.vcellMode, UInt32(cellMask))
        try writeMemory(.ccGain, (7.5684 / (shuntResistance * 1000)).bitPattern)
        // Series FETs, host FET control, FET control by the chip.
        try writeMemory(.fetOptions, 0x0D)
        for k in 0..<3 {
            let item: BQ76952.Memory = k == 0 ? .ts1Config : k == 1 ? .ts2Config : .ts3Config
            try writeMemory(item, k < thermistors ? 0x07 : 0x00)
        }
        // ALERT on a safety status change or a permanent failure.
        try writeMemory(.defaultAlarmMask, UInt32(BQ76952.Alarm.safetyStatusA | BQ76952.Alarm.safetyStatusBC
                                                  | BQ76952.Alarm.permanentFail))
        try exitConfigUpdate()
        let status = try subcommandRead(BQ76952.Subcommand.manufacturingStatus, count: 2)
        if UInt16(status[0]) & BQ76952.manufacturingFETEnable == 0 {
            try subcommand(BQ76952.Subcommand.fetEnable)
        }
        try subcommand(BQ76952.Subcommand.sleepDisable)
    }

    public mutating func configure(_ p: AFEProtection) throws(AFEError) -> AFEProtection {
        let mohm = shuntResistance * 1000
        let cov = clampCode(p.cellOvervoltage * 1000 / BQ76952.voltageStep, 20, 110)
        let cuv = clampCode(p.cellUndervoltage * 1000 / BQ76952.voltageStep, 20, 90)
        guard cov > cuv else { throw .unsupported }
        let covHysteresis = clampCode((Float(cov) * BQ76952.voltageStep / 1000 - p.cellOvervoltageRecovery) * 1000
                                      / BQ76952.voltageStep, 2, 20)
        let cuvHysteresis = clampCode((p.cellUndervoltageRecovery - Float(cuv) * BQ76952.voltageStep / 1000) * 1000
                                      / BQ76952.voltageStep, 2, 20)
        let covDelay = clampCode(Float(p.cellOvervoltageDelayMs) / BQ76952.delayStep, 1, 2047)
        let cuvDelay = clampCode(Float(p.cellUndervoltageDelayMs) / BQ76952.delayStep, 1, 2047)
        let occ = clampCode(p.chargeOvercurrent * mohm / 2, 2, 62)
        let ocd = clampCode(p.dischargeOvercurrent * mohm / 2, 2, 100)
        let occDelay = clampCode(Float(p.chargeOvercurrentDelayMs) / BQ76952.delayStep - 2, 1, 127)
        let ocdDelay = clampCode(Float(p.dischargeOvercurrentDelayMs) / BQ76952.delayStep - 2, 1, 127)
        // The largest table step at or below the limit: the chip trips no later than asked.
        let wanted = p.shortCircuit * mohm
        var scd = 0
        for k in 1..<16 where Float(BQ76952.shortCircuitMillivolts(k)) <= wanted { scd = k }
        let scdDelay = clampCode(Float(p.shortCircuitDelayMicroseconds) / 15 + 1, 1, 31)
        let hysteresis = max(1, min(20, p.temperatureHysteresis))

        try enterConfigUpdate()
        try writeMemory(.covThreshold, cov)
        try writeMemory(.covRecoveryHysteresis, covHysteresis)
        try writeMemory(.covDelay, covDelay)
        try writeMemory(.cuvThreshold, cuv)
        try writeMemory(.cuvRecoveryHysteresis, cuvHysteresis)
        try writeMemory(.cuvDelay, cuvDelay)
        try writeMemory(.occThreshold, occ)
        try writeMemory(.occDelay, occDelay)
        try writeMemory(.ocd1Threshold, ocd)
        try writeMemory(.ocd1Delay, ocdDelay)
        try writeMemory(.scdThreshold, UInt32(scd))
        try writeMemory(.scdDelay, scdDelay)
        try writeMemory(.scdRecoveryTime, min(255, p.recoverySeconds))
        try writeMemory(.protectionRecoveryTime, min(255, p.recoverySeconds))
        try writeMemory(.otcThreshold, temperatureCode(p.chargeMaximumTemperature))
        try writeMemory(.otcRecovery, temperatureCode(p.chargeMaximumTemperature - hysteresis))
        try writeMemory(.otdThreshold, temperatureCode(p.dischargeMaximumTemperature))
        try writeMemory(.otdRecovery, temperatureCode(p.dischargeMaximumTemperature - hysteresis))
        try writeMemory(.utcThreshold, temperatureCode(p.chargeMinimumTemperature))
        try writeMemory(.utcRecovery, temperatureCode(p.chargeMinimumTemperature + hysteresis))
        try writeMemory(.utdThreshold, temperatureCode(p.dischargeMinimumTemperature))
        try writeMemory(.utdRecovery, temperatureCode(p.dischargeMinimumTemperature + hysteresis))
        // Off by default: CUV, OCC, OCD1 and the temperatures (TRM defaults: SCD and COV only).
        let a = BQ76952.SafetyA.self
        try writeMemory(.enabledProtectionsA, UInt32(a.scd | a.ocd1 | a.occ | a.cov | a.cuv))
        let b = BQ76952.SafetyB.self
        try writeMemory(.enabledProtectionsB, UInt32(thermistors > 0 ? b.otc | b.otd | b.utc | b.utd : 0))
        try writeMemory(.chgFETProtectionsA, UInt32(a.scd | a.occ | a.cov))
        try writeMemory(.dsgFETProtectionsA, UInt32(a.scd | a.ocd1 | a.cuv))
        try exitConfigUpdate()
        return try readProtection()
    }

    /// The protection limits as the chip holds them, in SI units.
    public mutating func readProtection() throws(AFEError) -> AFEProtection {
        let mohm = shuntResistance * 1000
        var r = AFEProtection()
        let step = BQ76952.voltageStep / 1000
        let cov = Float(try readMemory(.covThreshold)) * step
        let cuv = Float(try readMemory(.cuvThreshold)) * step
        r.cellOvervoltage = cov
        r.cellOvervoltageRecovery = cov - Float(try readMemory(.covRecoveryHysteresis)) * step
        r.cellOvervoltageDelayMs = UInt32((Float(try readMemory(.covDelay)) * BQ76952.delayStep).rounded())
        r.cellUndervoltage = cuv
        r.cellUndervoltageRecovery = cuv + Float(try readMemory(.cuvRecoveryHysteresis)) * step
        r.cellUndervoltageDelayMs = UInt32((Float(try readMemory(.cuvDelay)) * BQ76952.delayStep).rounded())
        r.chargeOvercurrent = Float(try readMemory(.occThreshold) * 2) / mohm
        r.chargeOvercurrentDelayMs = UInt32((Float(try readMemory(.occDelay) + 2) * BQ76952.delayStep).rounded())
        r.dischargeOvercurrent = Float(try readMemory(.ocd1Threshold) * 2) / mohm
        r.dischargeOvercurrentDelayMs = UInt32((Float(try readMemory(.ocd1Delay) + 2) * BQ76952.delayStep).rounded())
        r.shortCircuit = Float(BQ76952.shortCircuitMillivolts(Int(try readMemory(.scdThreshold)))) / mohm
        r.shortCircuitDelayMicroseconds = (max(try readMemory(.scdDelay), 1) - 1) * 15
        r.recoverySeconds = try readMemory(.scdRecoveryTime)
        r.chargeMaximumTemperature = degrees(try readMemory(.otcThreshold))
        r.chargeMinimumTemperature = degrees(try readMemory(.utcThreshold))
        r.dischargeMaximumTemperature = degrees(try readMemory(.otdThreshold))
        r.dischargeMinimumTemperature = degrees(try readMemory(.utdThreshold))
        r.temperatureHysteresis = r.chargeMaximumTemperature - degrees(try readMemory(.otcRecovery))
        return r
    }

    public mutating func configure(_ b: AFEBalancing) throws(AFEError) -> AFEBalancing {
        let minimum = UInt32(UInt16(bitPattern: Int16(clampSigned(b.minimumCellVoltage * 1000, 0, 5000))))
        let start = clampCode(b.startDifference * 1000, 1, 255)
        let stop = min(clampCode(b.stopDifference * 1000, 0, 255), start)
        let cells = UInt32(max(1, min(16, b.maximumCells)))
        try enterConfigUpdate()
        // CB_CHG | CB_RLX: balance while charging and at rest, as the reference firmware does.
        try writeMemory(.cellBalancingConfig, b.automatic ? 0x03 : 0x00)
        try writeMemory(.cbMaxCells, cells)
        try writeMemory(.cbMinCellVoltageCharge, minimum)
        try writeMemory(.cbMinCellVoltageRelax, minimum)
        try writeMemory(.cbMinDeltaCharge, start)
        try writeMemory(.cbMinDeltaRelax, start)
        try writeMemory(.cbStopDeltaCharge, stop)
        try writeMemory(.cbStopDeltaRelax, stop)
        try exitConfigUpdate()
        var r = AFEBalancing()
        r.automatic = try readMemory(.cellBalancingConfig) & 0x03 == 0x03
        r.maximumCells = Int(try readMemory(.cbMaxCells))
        r.minimumCellVoltage = Float(Int(Int16(truncatingIfNeeded: try readMemory(.cbMinCellVoltageCharge)))) / 1000
        r.startDifference = Float(try readMemory(.cbMinDeltaCharge)) / 1000
        r.stopDifference = Float(try readMemory(.cbStopDeltaCharge)) / 1000
        return r
    }

    public mutating func read() throws(AFEError) -> AFEReading {
        var r = AFEReading()
        let cells = try readDirect(BQ76952.Direct.cell1Voltage, count: 32)
        for k in 0..<16 where cellMask & (1 << UInt16(k)) != 0 {
            r.cellVoltages[r.cellCount] = Float(Int(i16(cells, 2 * k))) / 1000
            r.cellCount += 1
        }
        let pack = try readDirect(BQ76952.Direct.stackVoltage, count: 8)
        r.stackVoltage = Float(Int(i16(pack, 0))) / 100
        r.packVoltage = Float(Int(i16(pack, 2))) / 100
        r.current = Float(Int(i16(pack, 6))) / 100
        let safety = try readDirect(BQ76952.Direct.safetyAlertA, count: 4)
        r.status.alerting = conditions(a: safety[0], b: safety[2])
        r.status.tripped = conditions(a: safety[1], b: safety[3])
        let die = try readDirect(BQ76952.Direct.internalTemperature, count: 2)
        r.internalTemperature = celsius(i16(die, 0))
        if thermistors > 0 {
            let ts = try readDirect(BQ76952.Direct.ts1Temperature, count: 2 * thermistors)
            for k in 0..<thermistors { r.temperatures[k] = celsius(i16(ts, 2 * k)) }
            r.temperatureCount = thermistors
        }
        let fets = try readDirect(BQ76952.Direct.fetStatus, count: 1)
        r.switches = AFESwitches(charge: fets[0] & BQ76952.FETStatus.chg != 0,
                                 discharge: fets[0] & BQ76952.FETStatus.dsg != 0)
        let bleeding = try subcommandRead(BQ76952.Subcommand.cbActiveCells, count: 2)
        r.balancing = UInt16(bleeding[0]) | UInt16(bleeding[1]) << 8
        // Acknowledge the alarms read, which releases ALERT until the next change.
        let alarms = try readDirect(BQ76952.Direct.alarmStatus, count: 2)
        if alarms[0] | alarms[1] != 0 {
            var clear = I2CBytes()
            clear.append(alarms[0])
            clear.append(alarms[1])
            try writeDirect(BQ76952.Direct.alarmStatus, clear)
        }
        return r
    }

    public mutating func setSwitches(_ s: AFESwitches) throws(AFEError) {
        let c = BQ76952.FETControl.self
        var off: UInt8 = 0
        if !s.charge { off |= c.chgOff | c.pchgOff }
        if !s.discharge { off |= c.dsgOff | c.pdsgOff }
        var data = I2CBytes()
        data.append(off)
        try subcommandWrite(BQ76952.Subcommand.fetControl, data)
    }

    public mutating func balance(_ mask: UInt16) throws(AFEError) {
        var data = I2CBytes()
        data.append(UInt8(truncatingIfNeeded: mask))
        data.append(UInt8(truncatingIfNeeded: mask >> 8))
        try subcommandWrite(BQ76952.Subcommand.cbActiveCells, data)
    }

    public mutating func setMode(_ mode: AFEMode) throws(AFEError) {
        switch mode {
        case .normal: try subcommand(BQ76952.Subcommand.sleepDisable)
        case .sleep: try subcommand(BQ76952.Subcommand.sleepEnable)
        case .shutdown: try subcommand(BQ76952.Subcommand.shutdown)
        }
    }

    // MARK: Transfers

    func conditions(a: UInt8, b: UInt8) -> AFEConditions {
        var c = AFEConditions()
        let sa = BQ76952.SafetyA.self, sb = BQ76952.SafetyB.self
        if a & sa.cov != 0 { c.insert(.cellOvervoltage) }
        if a & sa.cuv != 0 { c.insert(.cellUndervoltage) }
        if a & sa.occ != 0 { c.insert(.chargeOvercurrent) }
        if a & (sa.ocd1 | sa.ocd2) != 0 { c.insert(.dischargeOvercurrent) }
        if a & sa.scd != 0 { c.insert(.shortCircuit) }
        if b & sb.otc != 0 { c.insert(.chargeOvertemperature) }
        if b & sb.utc != 0 { c.insert(.chargeUndertemperature) }
        if b & sb.otd != 0 { c.insert(.dischargeOvertemperature) }
        if b & sb.utd != 0 { c.insert(.dischargeUndertemperature) }
        if b & sb.otint != 0 { c.insert(.internalOvertemperature) }
        return c
    }

    func i16(_ bytes: I2CBytes, _ at: Int) -> Int16 { Int16(bitPattern: UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8) }

    func degrees(_ raw: UInt32) -> Float { Float(Int(Int8(truncatingIfNeeded: raw))) }

    func celsius(_ decikelvin: Int16) -> Float { Float(Int(decikelvin)) / 10 - 273.15 }

    func clampCode(_ x: Float, _ lo: UInt32, _ hi: UInt32) -> UInt32 {
        let r = x.rounded()
        if !(r >= Float(lo)) { return lo }
        if r >= Float(hi) { return hi }
        return UInt32(r)
    }

    /// A temperature threshold as the chip stores it: whole °C, −40…120, in an I1.
    func temperatureCode(_ c: Float) -> UInt32 { UInt32(UInt8(bitPattern: Int8(clampSigned(c, -40, 120)))) }

    func clampSigned(_ x: Float, _ lo: Float, _ hi: Float) -> Int { Int(max(lo, min(hi, x.rounded()))) }

    /// Reads `count` bytes of direct commands from `register` on; in CRC mode the first CRC
    /// covers the write address, the register, the read address and the first byte.
    mutating func readDirect(_ register: UInt8, count: Int) throws(AFEError) -> I2CBytes {
        var prefix = I2CBytes()
        prefix.append(BQ76952.i2cAddress << 1)
        prefix.append(register)
        prefix.append(BQ76952.i2cAddress << 1 | 1)
        return try bus.readChecked(BQ76952.i2cAddress, register: register, count: count, crcMode: crcMode, prefix: prefix)
    }

    /// Writes bytes to consecutive registers from `register` on, with CRCs in CRC mode.
    mutating func writeDirect(_ register: UInt8, _ data: I2CBytes) throws(AFEError) {
        var wire = I2CBytes()
        wire.append(register)
        for k in 0..<data.count {
            wire.append(data[k])
            if crcMode {
                var crc = CRC8()
                if k == 0 { crc.add(BQ76952.i2cAddress << 1); crc.add(register) }
                crc.add(data[k])
                wire.append(crc.value)
            }
        }
        do { try bus.write(BQ76952.i2cAddress, wire) } catch { throw .bus(error) }
    }

    mutating func subcommand(_ command: UInt16) throws(AFEError) {
        var data = I2CBytes()
        data.append(UInt8(truncatingIfNeeded: command))
        data.append(UInt8(truncatingIfNeeded: command >> 8))
        try writeDirect(BQ76952.Direct.subcommand, data)
    }

    /// Issues a subcommand (or a data-memory address) and reads `count` bytes of its answer
    /// from the transfer buffer, checked against the buffer's checksum and length.
    mutating func subcommandRead(_ command: UInt16, count: Int) throws(AFEError) -> I2CBytes {
        try subcommand(command)
        var polls = 0
        while true {
            let echo = try readDirect(BQ76952.Direct.subcommand, count: 2)
            if UInt16(echo[0]) | UInt16(echo[1]) << 8 == command { break }
            polls += 1
            guard polls < pollLimit else { throw .busy }
        }
        let tail = try readDirect(BQ76952.Direct.transferChecksum, count: 2)
        let length = Int(tail[1]) - 4
        guard length >= count && length <= 32 else { throw .corrupted }
        let data = try readDirect(BQ76952.Direct.transferBuffer, count: length)
        guard BQ76952.checksum(command, data) == tail[0] else { throw .corrupted }
        var out = I2CBytes()
        for k in 0..<count { out.append(data[k]) }
        return out
    }

    /// Writes a subcommand with its data (or a data-memory value), then checksum and length.
    mutating func subcommandWrite(_ command: UInt16, _ data: I2CBytes) throws(AFEError) {
        var block = I2CBytes()
        block.append(UInt8(truncatingIfNeeded: command))
        block.append(UInt8(truncatingIfNeeded: command >> 8))
        for k in 0..<data.count { block.append(data[k]) }
        try writeDirect(BQ76952.Direct.subcommand, block)
        var tail = I2CBytes()
        tail.append(BQ76952.checksum(command, data))
        tail.append(UInt8(data.count + 4))
        try writeDirect(BQ76952.Direct.transferChecksum, tail)
    }

    mutating func writeMemory(_ item: BQ76952.Memory, _ value: UInt32) throws(AFEError) {
        var data = I2CBytes()
        for k in 0..<item.size { data.append(UInt8(truncatingIfNeeded: value >> UInt32(8 * k))) }
        try subcommandWrite(item.rawValue, data)
    }

    mutating func readMemory(_ item: BQ76952.Memory) throws(AFEError) -> UInt32 {
        let data = try subcommandRead(item.rawValue, count: item.size)
        var v: UInt32 = 0
        for k in 0..<item.size { v |= UInt32(data[k]) << UInt32(8 * k) }
        return v
    }

    mutating func enterConfigUpdate() throws(AFEError) {
        try subcommand(BQ76952.Subcommand.setConfigUpdate)
        try waitForConfigUpdate(true)
    }

    mutating func exitConfigUpdate() throws(AFEError) {
        try subcommand(BQ76952.Subcommand.exitConfigUpdate)
        try waitForConfigUpdate(false)
    }

    mutating func waitForConfigUpdate(_ on: Bool) throws(AFEError) {
        var polls = 0
        while true {
            let status = try readDirect(BQ76952.Direct.batteryStatus, count: 2)
            if (UInt16(status[0]) & BQ76952.BatteryStatus.configUpdate != 0) == on { return }
            polls += 1
            guard polls < pollLimit else { throw .busy }
        }
    }
}
