/// A register-level model of the BQ76952 on an I2C bus, driven by a (simulated) pack: what a
/// driver reads and writes over I2C, and what the chip does by itself — its protections with
/// their delays and recoveries turning the FETs off, the ALERT line, and autonomous balancing.
///
/// It models the subset of the TRM (SLUUBY2) the FlexBMS driver uses, strictly: data memory is
/// written only in CONFIG_UPDATE mode with a valid checksum and length, CRCs are checked in CRC
/// mode (a bad one is not acknowledged), a data read before the subcommand echoes is rejected,
/// and an unknown register or address answers 0xFF / is ignored. Defaults are the TRM's; where
/// the TRM was not confirmed (see docs/firmware.md, "bq76952 emulator"), the behaviour modelled
/// is stated there.
public struct BQ76952Emulator: I2CBus, Sendable {
    /// The pack as the chip's pins see it.
    public struct Analog: Sendable {
        public var cellVoltages = InlineArray<16, Float>(repeating: 3.3)  // V
        /// Pack current, A, positive = charging.
        public var current: Float = 0
        public var packVoltage: Float = 52.8
        public var loadDetectVoltage: Float = 0
        /// TS1…TS3, °C.
        public var thermistors = InlineArray<3, Float>(repeating: 25)
        public var internalTemperature: Float = 30
        public init() {}
    }

    public var analog = Analog()
    /// The board's real shunt, Ω.
    public var shuntResistance: Float
    /// I2C bytes carry CRCs (an OTP option of the part).
    public var crcMode: Bool
    /// The bus is broken (connector off, chip unpowered): every transfer is not acknowledged.
    public var silent = false
    /// The board's CFETOFF / DFETOFF lines (the MCU can force the FETs off without I2C).
    public var chargeOffPin = false
    public var dischargeOffPin = false

    var memory = InlineArray<0x280, UInt8>(repeating: 0)  // 0x9180 … 0x93FF
    var configUpdate = false
    var fetEnable = false
    var sleepEnabled = true
    var hostFETControl: UInt8 = BQ76952.FETControl.chgOff | BQ76952.FETControl.dsgOff | BQ76952.FETControl.pchgOff | BQ76952.FETControl.pdsgOff
    var subcommand: UInt16 = 0
    var transfer = InlineArray<32, UInt8>(repeating: 0)
    var transferLength = 0
    /// Bytes the host wrote to 0x40… for a pending write, until 0x60/0x61 commit it.
    var pending = InlineArray<32, UInt8>(repeating: 0)
    var pendingCount = 0
    var pendingChecksum: UInt8 = 0
    var alarmStatus: UInt16 = 0
    var alarmEnable: UInt16 = 0xF800
    var alertA: UInt8 = 0, statusA: UInt8 = 0, alertB: UInt8 = 0, statusB: UInt8 = 0
    /// Per protection: how long its condition has held (ms), and how long its recovery has.
    var held = InlineArray<10, UInt32>(repeating: 0)
    var recovering = InlineArray<10, UInt32>(repeating: 0)
    var hostBalancing: UInt16 = 0
    var autoBalancing: UInt16 = 0
    var balanceClock: UInt32 = 0
    public private(set) var shutDown = false
    /// Bad CRCs and checksums seen, for tests.
    public private(set) var rejectedTransfers = 0

    public init(shuntResistance: Float = 0.0003, crcMode: Bool = false) {
        self.shuntResistance = shuntResistance
        self.crcMode = crcMode
        reset()
    }

    /// Power-on reset: data memory to its defaults, FETs in test mode (off).
    public mutating func reset() {
        for k in memory.indices { memory[k] = 0 }
        for item in BQ76952.Memory.allCases { store(item, item.defaultValue) }
        configUpdate = false
        fetEnable = memoryValue(.mfgStatusInit) & UInt32(BQ76952.manufacturingFETEnable) != 0
        hostFETControl = 0
        alarmEnable = UInt16(truncatingIfNeeded: memoryValue(.defaultAlarmMask))
        alarmStatus = 0
        statusA = 0; statusB = 0; alertA = 0; alertB = 0
        for k in held.indices { held[k] = 0; recovering[k] = 0 }
        hostBalancing = 0; autoBalancing = 0
        shutDown = false
    }

    // MARK: What the board sees

    /// The FETs as they are.
    public var chargeFET: Bool {
        fetEnable && !configUpdate && !shutDown && !chargeOffPin
            && hostFETControl & BQ76952.FETControl.chgOff == 0
            && statusA & UInt8(truncatingIfNeeded: memoryValue(.chgFETProtectionsA)) == 0
            && statusB & UInt8(truncatingIfNeeded: memoryValue(.chgFETProtectionsB)) == 0
    }

    public var dischargeFET: Bool {
        fetEnable && !configUpdate && !shutDown && !dischargeOffPin
            && hostFETControl & BQ76952.FETControl.dsgOff == 0
            && statusA & UInt8(truncatingIfNeeded: memoryValue(.dsgFETProtectionsA)) == 0
            && statusB & UInt8(truncatingIfNeeded: memoryValue(.dsgFETProtectionsB)) == 0
    }

    /// Cells being bled (bit n = cell n + 1).
    public var balancing: UInt16 { configUpdate || shutDown ? 0 : hostBalancing | autoBalancing }

    /// The ALERT line: a latched alarm that is enabled.
    public var alert: Bool { alarmStatus & alarmEnable != 0 }

    // MARK: The chip's own work

    /// Advances the chip by `milliseconds`: protections (delays, trips, recoveries) and
    /// autonomous balancing.
    public mutating func tick(milliseconds ms: UInt32) {
        guard !configUpdate && !shutDown else { return }
        let cells = connectedCells
        var maxCell: Float = 0, minCell: Float = 10
        for k in 0..<16 where cells & (1 << UInt16(k)) != 0 {
            maxCell = max(maxCell, analog.cellVoltages[k])
            minCell = min(minCell, analog.cellVoltages[k])
        }
        let senseMillivolts = analog.current * shuntResistance * 1000
        let volts = BQ76952.voltageStep / 1000
        let cov = Float(memoryValue(.covThreshold)) * volts
        let cuv = Float(memoryValue(.cuvThreshold)) * volts
        let covRecovery = cov - Float(memoryValue(.covRecoveryHysteresis)) * volts
        let cuvRecovery = cuv + Float(memoryValue(.cuvRecoveryHysteresis)) * volts
        let recoveryMs = memoryValue(.protectionRecoveryTime) * 1000
        let scdMillivolts = Float(BQ76952.shortCircuitMillivolts(Int(memoryValue(.scdThreshold))))
        var hottest: Float = -100, coldest: Float = 200
        for k in 0..<3 where thermistorIsCellSensor(k) {
            hottest = max(hottest, analog.thermistors[k])
            coldest = min(coldest, analog.thermistors[k])
        }
        let haveTemperature = hottest > -100
        let charging = analog.current > 0.05
        let discharging = analog.current < -0.1

        step(0, .a, BQ76952.SafetyA.cov, condition: maxCell >= cov, delay: voltageDelay(.covDelay),
             recovered: maxCell < covRecovery, recoveryMs: recoveryMs, ms: ms)
        step(1, .a, BQ76952.SafetyA.cuv, condition: minCell <= cuv, delay: voltageDelay(.cuvDelay),
             recovered: minCell > cuvRecovery, recoveryMs: recoveryMs, ms: ms)
        // Over-currents also recover on time alone: their FET being off ends the current.
        step(2, .a, BQ76952.SafetyA.occ, condition: senseMillivolts >= Float(memoryValue(.occThreshold) * 2),
             delay: currentDelay(.occDelay), recovered: true, recoveryMs: recoveryMs, ms: ms)
        step(3, .a, BQ76952.SafetyA.ocd1, condition: -senseMillivolts >= Float(memoryValue(.ocd1Threshold) * 2),
             delay: currentDelay(.ocd1Delay), recovered: true, recoveryMs: recoveryMs, ms: ms)
        // Short circuit: microseconds, so inside any tick; recovers after its own time.
        step(4, .a, BQ76952.SafetyA.scd, condition: -senseMillivolts >= scdMillivolts, delay: 0,
             recovered: true, recoveryMs: memoryValue(.scdRecoveryTime) * 1000, ms: ms)
        step(5, .b, BQ76952.SafetyB.otc, condition: haveTemperature && charging && hottest >= signedMemory(.otcThreshold),
             delay: memoryValue(.otcDelay) * 1000, recovered: hottest <= signedMemory(.otcRecovery),
             recoveryMs: recoveryMs, ms: ms)
        step(6, .b, BQ76952.SafetyB.otd, condition: haveTemperature && discharging && hottest >= signedMemory(.otdThreshold),
             delay: memoryValue(.otdDelay) * 1000, recovered: hottest <= signedMemory(.otdRecovery),
             recoveryMs: recoveryMs, ms: ms)
        step(7, .b, BQ76952.SafetyB.utc, condition: haveTemperature && charging && coldest <= signedMemory(.utcThreshold),
             delay: memoryValue(.utcDelay) * 1000, recovered: coldest >= signedMemory(.utcRecovery),
             recoveryMs: recoveryMs, ms: ms)
        step(8, .b, BQ76952.SafetyB.utd, condition: haveTemperature && discharging && coldest <= signedMemory(.utdThreshold),
             delay: memoryValue(.utdDelay) * 1000, recovered: coldest >= signedMemory(.utdRecovery),
             recoveryMs: recoveryMs, ms: ms)
        balance(ms: ms, cells: cells, minCell: minCell)
    }

    /// COV/CUV delays: steps of 3.3 ms.
    func voltageDelay(_ item: BQ76952.Memory) -> UInt32 { UInt32(Float(memoryValue(item)) * BQ76952.delayStep) }

    /// OCC/OCD delays: (n + 2) steps of 3.3 ms.
    func currentDelay(_ item: BQ76952.Memory) -> UInt32 { UInt32(Float(memoryValue(item) + 2) * BQ76952.delayStep) }

    enum SafetyRegister { case a, b }

    mutating func step(_ index: Int, _ register: SafetyRegister, _ bit: UInt8, condition: Bool, delay: UInt32,
                       recovered: Bool, recoveryMs: UInt32, ms: UInt32) {
        let enabled = register == .a ? enabledA : enabledB
        var alert = register == .a ? alertA : alertB
        var status = register == .a ? statusA : statusB
        defer {
            if register == .a { alertA = alert; statusA = status } else { alertB = alert; statusB = status }
        }
        guard enabled & bit != 0 else {
            alert &= ~bit; status &= ~bit; held[index] = 0; recovering[index] = 0
            return
        }
        if status & bit != 0 {
            // Tripped: the recovery condition must hold for the recovery time.
            if recovered {
                recovering[index] += ms
                if recovering[index] >= recoveryMs {
                    status &= ~bit
                    recovering[index] = 0
                    held[index] = 0
                    latch(register == .a ? BQ76952.Alarm.safetyStatusA : BQ76952.Alarm.safetyStatusBC)
                }
            } else {
                recovering[index] = 0
            }
            return
        }
        if condition {
            alert |= bit
            held[index] += ms
            if held[index] >= delay {
                status |= bit
                alert &= ~bit
                recovering[index] = 0
                latch(register == .a ? BQ76952.Alarm.safetyStatusA : BQ76952.Alarm.safetyStatusBC)
            }
        } else {
            alert &= ~bit
            held[index] = 0
        }
    }

    mutating func latch(_ bits: UInt16) { alarmStatus |= bits }

    /// Autonomous balancing, re-planned every Cell Balance Interval: the highest cells above
    /// the minimum voltage and the start difference, never two neighbours, at most Max Cells;
    /// a cell stops when it is within the stop difference of the lowest.
    mutating func balance(ms: UInt32, cells: UInt16, minCell: Float) {
        let config = UInt8(truncatingIfNeeded: memoryValue(.cellBalancingConfig))
        let charging = analog.current > 0.05
        let relaxed = !charging && analog.current > -0.1
        let allowed = (charging && config & 0x01 != 0) || (relaxed && config & 0x02 != 0)
        guard allowed else { autoBalancing = 0; return }
        let minimum = Float(signedMemory16(charging ? .cbMinCellVoltageCharge : .cbMinCellVoltageRelax)) / 1000
        let start = Float(memoryValue(charging ? .cbMinDeltaCharge : .cbMinDeltaRelax)) / 1000
        let stop = Float(memoryValue(charging ? .cbStopDeltaCharge : .cbStopDeltaRelax)) / 1000
        // A bleeding cell stops as soon as it is within the stop difference.
        for k in 0..<16 where autoBalancing & (1 << UInt16(k)) != 0 && analog.cellVoltages[k] - minCell < stop {
            autoBalancing &= ~(1 << UInt16(k))
        }
        balanceClock += ms
        let interval = max(memoryValue(.cbInterval), 1) * 1000
        guard balanceClock >= interval || autoBalancing == 0 else { return }
        balanceClock = 0
        var mask: UInt16 = 0
        let maxCells = Int(memoryValue(.cbMaxCells))
        var chosen = 0
        while chosen < maxCells {
            var best = -1
            var bestVoltage: Float = 0
            for k in 0..<16 where cells & (1 << UInt16(k)) != 0 && mask & (1 << UInt16(k)) == 0 {
                let v = analog.cellVoltages[k]
                let neighbour = (k > 0 && mask & (1 << UInt16(k - 1)) != 0) || (k < 15 && mask & (1 << UInt16(k + 1)) != 0)
                if !neighbour && v >= minimum && v - minCell > start && v > bestVoltage {
                    best = k
                    bestVoltage = v
                }
            }
            guard best >= 0 else { break }
            mask |= 1 << UInt16(best)
            chosen += 1
        }
        autoBalancing = mask
    }

    var enabledA: UInt8 { UInt8(truncatingIfNeeded: memoryValue(.enabledProtectionsA)) }
    var enabledB: UInt8 { UInt8(truncatingIfNeeded: memoryValue(.enabledProtectionsB)) }

    /// Cells connected per Vcell Mode (0 = all 16).
    var connectedCells: UInt16 {
        let mode = UInt16(truncatingIfNeeded: memoryValue(.vcellMode))
        return mode == 0 ? 0xFFFF : mode
    }

    /// TS pin `k` is a thermistor used for cell-temperature protection (PIN_FXN 3, OPT[1:0] 01).
    func thermistorIsCellSensor(_ k: Int) -> Bool {
        let raw = memory[0x92FD + k - 0x9180]
        return raw & 0x03 == 0x03 && (raw >> 2) & 0x03 == 0x01
    }

    // MARK: Data memory

    func memoryValue(_ item: BQ76952.Memory) -> UInt32 {
        let base = Int(item.rawValue) - 0x9180
        var v: UInt32 = 0
        for k in 0..<item.size { v |= UInt32(memory[base + k]) << UInt32(8 * k) }
        return v
    }

    func signedMemory(_ item: BQ76952.Memory) -> Float { Float(Int(Int8(truncatingIfNeeded: memoryValue(item)))) }
    func signedMemory16(_ item: BQ76952.Memory) -> Int { Int(Int16(truncatingIfNeeded: memoryValue(item))) }

    mutating func store(_ item: BQ76952.Memory, _ value: UInt32) {
        let base = Int(item.rawValue) - 0x9180
        for k in 0..<item.size { memory[base + k] = UInt8(truncatingIfNeeded: value >> UInt32(8 * k)) }
    }

    /// A setting as stored (for tests: what the driver really wrote).
    public func setting(_ item: BQ76952.Memory) -> UInt32 { memoryValue(item) }

    /// The CC Gain as stored.
    public var ccGain: Float { Float(bitPattern: memoryValue(.ccGain)) }

    static func isDataMemory(_ address: UInt16) -> Bool { address >= 0x9180 && address < 0x9400 }
}

// MARK: The I2C side

extension BQ76952Emulator {
    public mutating func write(_ address: UInt8, _ data: I2CBytes) throws(I2CError) {
        guard address == BQ76952.i2cAddress, !silent, !shutDown else { throw .noAcknowledge }
        var payload = I2CBytes()
        guard unwrap(data, register: data.count > 0 ? data[0] : 0, into: &payload) else {
            rejectedTransfers += 1
            throw .noAcknowledge
        }
        guard payload.count >= 1 else { return }
        var register = payload[0]
        var k = 1
        while k < payload.count {
            writeRegister(register, payload[k], isLast: k == payload.count - 1, total: payload.count - 1, offset: k - 1)
            register &+= 1
            k += 1
        }
    }

    public mutating func writeRead(_ address: UInt8, _ data: I2CBytes, readCount: Int) throws(I2CError) -> I2CBytes {
        guard address == BQ76952.i2cAddress, !silent, !shutDown else { throw .noAcknowledge }
        guard data.count == 1 else { throw .busError }
        let register = data[0]
        let n = crcMode ? readCount / 2 : readCount
        var out = I2CBytes()
        var crc = CRC8()
        crc.add(BQ76952.i2cAddress << 1)
        crc.add(register)
        crc.add(BQ76952.i2cAddress << 1 | 1)
        for k in 0..<n {
            let byte = readRegister(register &+ UInt8(k))
            out.append(byte)
            if crcMode {
                if k > 0 { crc = CRC8() }
                crc.add(byte)
                out.append(crc.value)
            }
        }
        return out
    }

    /// Checks and strips the CRCs of a write in CRC mode (the first over address, register
    /// and first data byte, then one per byte); a plain copy otherwise.
    func unwrap(_ data: I2CBytes, register: UInt8, into payload: inout I2CBytes) -> Bool {
        guard crcMode else {
            for k in 0..<data.count { payload.append(data[k]) }
            return true
        }
        guard data.count >= 1 else { return true }
        payload.append(data[0])
        var k = 1
        var first = true
        while k < data.count {
            guard k + 1 < data.count else { return false }
            var crc = CRC8()
            if first { crc.add(BQ76952.i2cAddress << 1); crc.add(register) }
            crc.add(data[k])
            guard crc.value == data[k + 1] else { return false }
            payload.append(data[k])
            first = false
            k += 2
        }
        return true
    }

    mutating func writeRegister(_ register: UInt8, _ byte: UInt8, isLast: Bool, total: Int, offset: Int) {
        switch register {
        case BQ76952.Direct.subcommand:
            subcommand = subcommand & 0xFF00 | UInt16(byte)
            pendingCount = 0
        case BQ76952.Direct.subcommand + 1:
            subcommand = subcommand & 0x00FF | UInt16(byte) << 8
            // A subcommand runs when its high byte arrives alone; with data behind it, it waits
            // for the checksum and length.
            if isLast { run(subcommand) }
        case BQ76952.Direct.transferBuffer..<(BQ76952.Direct.transferBuffer + 32):
            let k = Int(register - BQ76952.Direct.transferBuffer)
            pending[k] = byte
            pendingCount = max(pendingCount, k + 1)
        case BQ76952.Direct.transferChecksum:
            pendingChecksum = byte
        case BQ76952.Direct.transferLength:
            commit(checksum: pendingChecksum, length: Int(byte))
        case BQ76952.Direct.alarmStatus:
            alarmStatus &= ~UInt16(byte)
        case BQ76952.Direct.alarmStatus + 1:
            alarmStatus &= ~(UInt16(byte) << 8)
        case BQ76952.Direct.alarmEnable:
            alarmEnable = alarmEnable & 0xFF00 | UInt16(byte)
        case BQ76952.Direct.alarmEnable + 1:
            alarmEnable = alarmEnable & 0x00FF | UInt16(byte) << 8
        default:
            break
        }
    }

    /// The host's write of checksum and length after data: a data-memory write or a subcommand
    /// with parameters.
    mutating func commit(checksum: UInt8, length: Int) {
        var data = I2CBytes()
        for k in 0..<pendingCount { data.append(pending[k]) }
        guard length == pendingCount + 4, checksum == BQ76952.checksum(subcommand, data) else {
            rejectedTransfers += 1
            return
        }
        if BQ76952Emulator.isDataMemory(subcommand) {
            // Settings take effect only when written in CONFIG_UPDATE mode.
            guard configUpdate else { rejectedTransfers += 1; return }
            let base = Int(subcommand) - 0x9180
            for k in 0..<pendingCount where base + k < memory.count { memory[base + k] = pending[k] }
            return
        }
        switch subcommand {
        case BQ76952.Subcommand.cbActiveCells where pendingCount == 2:
            hostBalancing = UInt16(pending[0]) | UInt16(pending[1]) << 8
            hostBalancing &= connectedCells
        case BQ76952.Subcommand.fetControl where pendingCount == 1:
            hostFETControl = pending[0] & 0x0F
        default:
            rejectedTransfers += 1
        }
    }

    mutating func run(_ command: UInt16) {
        transferLength = 0
        if BQ76952Emulator.isDataMemory(command) {
            // A data-memory read: 32 bytes from the address on.
            let base = Int(command) - 0x9180
            for k in 0..<32 { transfer[k] = base + k < memory.count ? memory[base + k] : 0 }
            transferLength = 32
            return
        }
        switch command {
        case BQ76952.Subcommand.deviceNumber:
            answer(BQ76952.deviceNumber)
        case BQ76952.Subcommand.manufacturingStatus:
            answer(fetEnable ? BQ76952.manufacturingFETEnable : 0)
        case BQ76952.Subcommand.cbActiveCells:
            // Modelled as the cells bleeding now, host-commanded or autonomous.
            answer(balancing)
        case BQ76952.Subcommand.fetEnable:
            fetEnable.toggle()
        case BQ76952.Subcommand.setConfigUpdate:
            configUpdate = true
            autoBalancing = 0
        case BQ76952.Subcommand.exitConfigUpdate:
            guard configUpdate else { return }
            configUpdate = false
            alarmEnable = UInt16(truncatingIfNeeded: memoryValue(.defaultAlarmMask))
        case BQ76952.Subcommand.allFETsOff:
            hostFETControl = 0x0F
        case BQ76952.Subcommand.allFETsOn:
            hostFETControl = 0
        case BQ76952.Subcommand.sleepEnable:
            sleepEnabled = true
        case BQ76952.Subcommand.sleepDisable:
            sleepEnabled = false
        case BQ76952.Subcommand.shutdown:
            shutDown = true
        case BQ76952.Subcommand.reset:
            reset()
        default:
            break
        }
    }

    mutating func answer(_ value: UInt16) {
        transfer[0] = UInt8(truncatingIfNeeded: value)
        transfer[1] = UInt8(truncatingIfNeeded: value >> 8)
        transferLength = 2
    }

    func readRegister(_ register: UInt8) -> UInt8 {
        func low(_ v: Int) -> UInt8 { UInt8(truncatingIfNeeded: v) }
        func word(_ v: Int, _ high: Bool) -> UInt8 { UInt8(truncatingIfNeeded: high ? v >> 8 : v) }
        let high = register & 1 == 1
        switch register {
        case BQ76952.Direct.safetyAlertA: return alertA
        case BQ76952.Direct.safetyStatusA: return statusA
        case BQ76952.Direct.safetyAlertB: return alertB
        case BQ76952.Direct.safetyStatusB: return statusB
        case BQ76952.Direct.safetyAlertC, BQ76952.Direct.safetyStatusC: return 0
        case BQ76952.Direct.batteryStatus, BQ76952.Direct.batteryStatus + 1:
            var v = 0
            if configUpdate { v |= Int(BQ76952.BatteryStatus.configUpdate) }
            if sleepEnabled { v |= 1 << 2 }
            if statusA != 0 || statusB != 0 { v |= Int(BQ76952.BatteryStatus.safetyFault) }
            return low(register == BQ76952.Direct.batteryStatus ? v : v >> 8)
        case BQ76952.Direct.cell1Voltage..<BQ76952.Direct.stackVoltage:
            let cell = Int(register - BQ76952.Direct.cell1Voltage) / 2
            let mv = connectedCells & (1 << UInt16(cell)) != 0 ? Int(analog.cellVoltages[cell] * 1000 + 0.5) : 0
            return word(mv, high)
        case BQ76952.Direct.stackVoltage, BQ76952.Direct.stackVoltage + 1:
            var sum: Float = 0
            for k in 0..<16 where connectedCells & (1 << UInt16(k)) != 0 { sum += analog.cellVoltages[k] }
            return word(userVolts(sum), high)
        case BQ76952.Direct.packVoltage, BQ76952.Direct.packVoltage + 1:
            return word(userVolts(analog.packVoltage), high)
        case BQ76952.Direct.ldVoltage, BQ76952.Direct.ldVoltage + 1:
            return word(userVolts(analog.loadDetectVoltage), high)
        case BQ76952.Direct.cc2Current, BQ76952.Direct.cc2Current + 1:
            return word(userAmps(analog.current), high)
        case BQ76952.Direct.subcommand, BQ76952.Direct.subcommand + 1:
            return word(Int(subcommand), high)
        case BQ76952.Direct.transferBuffer..<(BQ76952.Direct.transferBuffer + 32):
            let k = Int(register - BQ76952.Direct.transferBuffer)
            return k < transferLength ? transfer[k] : 0
        case BQ76952.Direct.transferChecksum:
            var data = I2CBytes()
            for k in 0..<transferLength { data.append(transfer[k]) }
            return BQ76952.checksum(subcommand, data)
        case BQ76952.Direct.transferLength:
            return UInt8(transferLength + 4)
        case BQ76952.Direct.alarmStatus, BQ76952.Direct.alarmStatus + 1:
            return word(Int(alarmStatus), high)
        case BQ76952.Direct.alarmRawStatus, BQ76952.Direct.alarmRawStatus + 1:
            var raw = 0
            if statusA != 0 { raw |= Int(BQ76952.Alarm.safetyStatusA) }
            if statusB != 0 { raw |= Int(BQ76952.Alarm.safetyStatusBC) }
            if balancing != 0 { raw |= Int(BQ76952.Alarm.cellBalancing) }
            return word(raw, high)
        case BQ76952.Direct.alarmEnable, BQ76952.Direct.alarmEnable + 1:
            return word(Int(alarmEnable), high)
        case BQ76952.Direct.internalTemperature, BQ76952.Direct.internalTemperature + 1:
            return word(decikelvin(analog.internalTemperature), high)
        case BQ76952.Direct.ts1Temperature..<(BQ76952.Direct.ts3Temperature + 2):
            let k = Int(register - BQ76952.Direct.ts1Temperature) / 2
            return word(decikelvin(analog.thermistors[k]), high)
        case BQ76952.Direct.fetStatus:
            var v: UInt8 = 0
            if chargeFET { v |= BQ76952.FETStatus.chg }
            if dischargeFET { v |= BQ76952.FETStatus.dsg }
            if alert { v |= BQ76952.FETStatus.alertPin }
            return v
        default:
            return 0xFF
        }
    }

    /// Stack/PACK/LD in user volts: 10 mV with USER_VOLTS_CV set (the default), else 1 mV
    /// (which overflows an I2 above 32.7 V: a driver that clears the bit reads nonsense).
    func userVolts(_ v: Float) -> Int {
        let cv = memoryValue(.daConfiguration) & 0x04 != 0
        return Int(Int16(truncatingIfNeeded: Int((v * (cv ? 100 : 1000)).rounded())))
    }

    /// CC2 in user amps (DA Configuration USER_AMPS: 0 = 0.1 mA, 1 = 1 mA, 2 = 10 mA,
    /// 3 = 100 mA), through the CC Gain: the chip measures the shunt voltage and divides by the
    /// resistance the CC Gain stands for (7.5684 / R in mΩ), so a wrong gain reads a wrong current.
    func userAmps(_ amps: Float) -> Int {
        let sense = amps * shuntResistance * 1000          // mV
        let assumedMilliohm = 7.5684 / max(ccGain, 1e-6)
        let measured = sense / assumedMilliohm               // A
        let unit: Float
        switch memoryValue(.daConfiguration) & 0x03 {
        case 0: unit = 0.0001
        case 1: unit = 0.001
        case 2: unit = 0.01
        default: unit = 0.1
        }
        let counts = (measured / unit).rounded()
        return Int(Int16(truncatingIfNeeded: Int(max(-32768, min(32767, counts)))))
    }

    func decikelvin(_ celsius: Float) -> Int { Int(((celsius + 273.15) * 10).rounded()) }
}
