/// A register-level model of the ISL94202 on an I2C bus, driven by a (simulated) pack: what a
/// driver reads and writes over I2C, and what the chip does by itself — its protections with
/// their delays turning the FETs off, the SD output, and its balancing state machine.
///
/// Modelled from the datasheet FN8889 as the LibreSolar driver and emulator use it, strictly:
/// - another I2C address, a silent bus or a powered-down chip is not acknowledged; a transfer
///   touching a register outside the map (4CH–7FH, above ABH), a write to a read-only
///   register (status 80H–83H, data 8AH–ABH) or a write of more than 4 data bytes (one EEPROM
///   page) is not acknowledged either; a read must start with exactly one register byte.
/// - 00H–4BH are an EEPROM and its RAM shadow: with EEEN (89H) = 0 they address the shadow,
///   which is what the chip works with (volatile: a power-on `reset()` reloads it from the
///   EEPROM); with EEEN = 1 they address the EEPROM. Writing the shadow needs no unlock.
/// - Control 2 µCFET hands the power FETs to the host (Control 1 CFET/DFET). The chip then
///   still turns a FET off by itself on over-current and short circuit (clearing its Control 1
///   bit); voltage and temperature faults only set their status bits — acting on them is the
///   host's job. Without µCFET the chip drives both FETs from its own fault flags.
/// - Over-current and short-circuit faults latch until the load (charger) is removed, or the
///   host writes Control 1 CLRLERR (CLRCERR); they do not retry on time.
/// Behaviour not confirmed against the datasheet text is marked "assumed" below.
public struct ISL94202Emulator: I2CBus, Sendable {
    /// The pack as the chip's pins see it.
    public struct Analog: Sendable {
        /// The inputs VC1…VC8, V. A pack of fewer cells uses the inputs named by the cell-select
        /// register (49H); the others are not looked at.
        public var cellVoltages = InlineArray<8, Float>(repeating: 3.3)
        /// Pack current, A, positive = charging.
        public var current: Float = 0
        /// The thermistors on xT1 and xT2, °C (through the board's divider, see
        /// `ISL94202.thermistorVolts(celsius:)`).
        public var thermistors = InlineArray<2, Float>(repeating: 25)
        public var internalTemperature: Float = 30
        /// What the LDMON / CHMON pins see: a load (charger) still connected. A latched
        /// discharge (charge) current fault releases when it goes away.
        public var loadPresent = true
        public var chargerPresent = true
        /// A cell input is open.
        public var openWire = false
        public init() {}
    }

    public var analog = Analog()
    /// The board's real shunt, Ω.
    public var shuntResistance: Float
    /// The address the ADDR pin sets.
    public var address: UInt8
    /// The bus is broken (connector off, chip unpowered): every transfer is not acknowledged.
    public var silent = false
    /// The board's FETSOFF input: both FETs off without I2C.
    public var fetsOffPin = false

    var eeprom = InlineArray<0x4C, UInt8>(repeating: 0)
    var shadow = InlineArray<0x4C, UInt8>(repeating: 0)
    var status0: UInt8 = 0
    var status1: UInt8 = 0
    var hostBalance: UInt8 = 0
    var control0: UInt8 = 0
    var control1: UInt8 = 0
    var control2: UInt8 = 0
    var control3: UInt8 = 0
    var eepromEnable: UInt8 = 0
    /// Per timed protection (OV, UV, OCD, OCC, SCD): how long its condition has held, µs.
    var held = InlineArray<5, UInt64>(repeating: 0)
    var autoBalance: UInt8 = 0
    /// The FETs as the chip's own state machine sets them (without µCFET).
    var ownCharge = false
    var ownDischarge = false
    public private(set) var shutDown = false
    /// Transfers refused (not acknowledged) for their content, for tests.
    public private(set) var rejectedTransfers = 0

    public init(shuntResistance: Float = 0.002, address: UInt8 = ISL94202.i2cAddress) {
        self.shuntResistance = shuntResistance
        self.address = address
        eeprom = ISL94202Emulator.factoryEEPROM()
        reset()
    }

    /// Power-on: the RAM shadow loaded from the EEPROM, operations registers cleared (FETs
    /// under the chip's own control, balancing by its state machine).
    public mutating func reset() {
        shadow = eeprom
        status0 = 0; status1 = 0
        hostBalance = 0
        control0 = 0; control1 = 0; control2 = 0; control3 = 0
        eepromEnable = 0
        for k in held.indices { held[k] = 0 }
        autoBalance = 0
        shutDown = false
        updateOwnFETs()
    }

    /// The EEPROM as delivered (assumed values, typical of the datasheet's defaults: 8 cells,
    /// OV 4.25 V, UV 2.7 V, 1 s delays, OCD 32 mV / 160 ms, OCC 8 mV / 160 ms, SCD
    /// 128 mV / 200 µs, balancing 3.1–4.0 V with 20 mV, temperatures 55 / −10 °C).
    static func factoryEEPROM() -> InlineArray<0x4C, UInt8> {
        var e = InlineArray<0x4C, UInt8>(repeating: 0)
        func put(_ register: UInt8, _ word: UInt16) {
            e[Int(register)] = UInt8(truncatingIfNeeded: word)
            e[Int(register) + 1] = UInt8(truncatingIfNeeded: word >> 8)
        }
        func volts(_ v: Float) -> UInt16 { ISL94202.voltageCode(v) }
        func temperature(_ c: Float) -> UInt16 { ISL94202.temperatureCode(volts: ISL94202.thermistorVolts(celsius: c)) }
        let r = ISL94202.Register.self
        put(r.overvoltage, 0x1000 | volts(4.25))
        put(r.overvoltageRecovery, volts(4.15))
        put(r.undervoltage, 0x1000 | volts(2.7))
        put(r.undervoltageRecovery, volts(3.0))
        put(r.overvoltageLockout, volts(4.35))
        put(r.undervoltageLockout, volts(2.5))
        put(r.endOfCharge, volts(4.2))
        put(r.lowVoltageCharge, volts(2.8))
        put(r.overvoltageDelay, ISL94202.delayBits(microseconds: 1_000_000))
        put(r.undervoltageDelay, ISL94202.delayBits(microseconds: 1_000_000))
        put(r.dischargeOvercurrent, 4 << 12 | ISL94202.delayBits(microseconds: 160_000))
        put(r.chargeOvercurrent, 4 << 12 | ISL94202.delayBits(microseconds: 160_000))
        put(r.shortCircuit, 6 << 12 | ISL94202.delayBits(microseconds: 200))
        put(r.balanceMinimum, volts(3.1))
        put(r.balanceMaximum, volts(4.0))
        put(r.balanceMinimumDelta, volts(0.02))
        put(r.balanceMaximumDelta, volts(0.5))
        put(r.balanceOnTime, ISL94202.delayBits(microseconds: 20_000))
        put(r.balanceOffTime, ISL94202.delayBits(microseconds: 20_000))
        // Over-temperature limits and their recoveries (charge 30H, discharge 38H, balance
        // 2CH), under-temperature ones (34H, 3CH, 28H).
        for k in 0..<3 {
            let hot = k == 0 ? r.chargeOverTemperature : k == 1 ? r.dischargeOverTemperature : r.balanceOverTemperature
            let cold = k == 0 ? r.chargeUnderTemperature : k == 1 ? r.dischargeUnderTemperature : r.balanceUnderTemperature
            put(hot, temperature(55))
            put(hot + 2, temperature(50))
            put(cold, temperature(-10))
            put(cold + 2, temperature(-5))
        }
        put(r.internalOverTemperature, ISL94202Emulator.internalCode(115))
        put(r.internalOverTemperatureRecovery, ISL94202Emulator.internalCode(95))
        e[Int(r.cellSelect)] = ISL94202.cellSelection(cells: 8)
        return e
    }

    // MARK: What the board sees

    var hostControlsFETs: Bool { control2 & ISL94202.Control2.mcuFET != 0 }
    var sleeping: Bool { control3 & ISL94202.Control3.sleep != 0 }
    var powered: Bool { !shutDown && !sleeping }

    /// The FETs as they are.
    public var chargeFET: Bool {
        guard powered && !fetsOffPin else { return false }
        if hostControlsFETs {
            return control1 & ISL94202.Control1.cfet != 0 && status1 & ISL94202.Status1.cocf == 0
        }
        return ownCharge
    }

    public var dischargeFET: Bool {
        guard powered && !fetsOffPin else { return false }
        if hostControlsFETs {
            return control1 & ISL94202.Control1.dfet != 0
                && status1 & (ISL94202.Status1.docf | ISL94202.Status1.dscf) == 0
        }
        return ownDischarge
    }

    /// The balance FETs (bit n = input VC(n+1)): the host's CBFC under µCCBAL with CBAL_ON,
    /// else the state machine's choice.
    public var balancing: UInt8 {
        guard powered else { return 0 }
        if control2 & ISL94202.Control2.mcuCellBalance != 0 {
            return control2 & ISL94202.Control2.cellBalanceOn != 0 ? hostBalance & cellSelect : 0
        }
        return autoBalance
    }

    /// The SD (shutdown) output, the chip's ALERT equivalent: active while a fault flag is set
    /// (assumed: any of Status 0, and Status 1 but VEOC).
    public var alert: Bool { status0 != 0 || status1 & ~ISL94202.Status1.veoc != 0 }

    /// A configuration byte as the chip uses it (the RAM shadow), for tests.
    public func setting(_ register: UInt8) -> UInt8 { shadow[Int(register)] }

    /// A configuration word as the chip uses it.
    public func settingWord(_ register: UInt8) -> UInt16 {
        UInt16(shadow[Int(register)]) | UInt16(shadow[Int(register) + 1]) << 8
    }

    /// A configuration byte as the EEPROM holds it.
    public func eepromByte(_ register: UInt8) -> UInt8 { eeprom[Int(register)] }

    public var status: (UInt8, UInt8) { (status0, status1) }

    var cellSelect: UInt8 { shadow[Int(ISL94202.Register.cellSelect)] }

    // MARK: The chip's own work

    /// Advances the chip by `milliseconds`: protections (delays, trips, releases) and the
    /// balancing state machine. Nothing happens in sleep or after power-down.
    public mutating func tick(milliseconds ms: UInt32) {
        guard powered else { return }
        let us = UInt64(ms) * 1000
        let r = ISL94202.Register.self
        let selection = cellSelect
        var maxCode: UInt16 = 0, minCode: UInt16 = 4095
        for k in 0..<8 where selection & (1 << UInt8(k)) != 0 {
            let c = cellCode(k)
            maxCode = max(maxCode, c)
            minCode = min(minCode, c)
        }
        if selection == 0 { minCode = 0 }
        let s0 = ISL94202.Status0.self, s1 = ISL94202.Status1.self
        let ov = settingWord(r.overvoltage) & 0x0FFF
        let uv = settingWord(r.undervoltage) & 0x0FFF
        timed(0, register: 0, bit: s0.ovf, condition: maxCode >= ov,
              delay: ISL94202.delayMicroseconds(settingWord(r.overvoltageDelay)),
              released: maxCode < settingWord(r.overvoltageRecovery) & 0x0FFF, us: us)
        timed(1, register: 0, bit: s0.uvf, condition: minCode <= uv,
              delay: ISL94202.delayMicroseconds(settingWord(r.undervoltageDelay)),
              released: minCode > settingWord(r.undervoltageRecovery) & 0x0FFF, us: us)

        let sense = analog.current * shuntResistance * 1000  // mV, + charging
        let ocd = settingWord(r.dischargeOvercurrent), occ = settingWord(r.chargeOvercurrent)
        let scd = settingWord(r.shortCircuit)
        timed(2, register: 1, bit: s1.docf,
              condition: -sense >= ISL94202.dischargeOvercurrentMillivolts(Int(ocd >> 12 & 0x07)),
              delay: ISL94202.delayMicroseconds(ocd), released: !analog.loadPresent, us: us)
        timed(3, register: 1, bit: s1.cocf,
              condition: sense >= ISL94202.chargeOvercurrentMillivolts(Int(occ >> 12 & 0x07)),
              delay: ISL94202.delayMicroseconds(occ), released: !analog.chargerPresent, us: us)
        timed(4, register: 1, bit: s1.dscf,
              condition: -sense >= ISL94202.shortCircuitMillivolts(Int(scd >> 12 & 0x07)),
              delay: ISL94202.delayMicroseconds(scd), released: !analog.loadPresent, us: us)
        // In µC FET mode the chip still opens the FET of a current fault (and clears its bit).
        if status1 & (s1.docf | s1.dscf) != 0 { control1 &= ~ISL94202.Control1.dfet }
        if status1 & s1.cocf != 0 { control1 &= ~ISL94202.Control1.cfet }

        // Temperatures (assumed: no delay; charge limits looked at while charging, discharge
        // limits while discharging). Hotter = lower xT voltage.
        let charging = sense > ISL94202Emulator.directionMillivolts
        let discharging = -sense > ISL94202Emulator.directionMillivolts
        var hottest: UInt16 = 4095, coldest: UInt16 = 0
        for k in 0..<cellThermistors {
            hottest = min(hottest, thermistorCode(k))
            coldest = max(coldest, thermistorCode(k))
        }
        let have = cellThermistors > 0
        temperature(s0.cotf, trip: have && charging && hottest <= settingWord(r.chargeOverTemperature) & 0x0FFF,
                    release: hottest >= settingWord(r.chargeOverTemperatureRecovery) & 0x0FFF || !have)
        temperature(s0.dotf, trip: have && discharging && hottest <= settingWord(r.dischargeOverTemperature) & 0x0FFF,
                    release: hottest >= settingWord(r.dischargeOverTemperatureRecovery) & 0x0FFF || !have)
        temperature(s0.cutf, trip: have && charging && coldest >= settingWord(r.chargeUnderTemperature) & 0x0FFF,
                    release: coldest <= settingWord(r.chargeUnderTemperatureRecovery) & 0x0FFF || !have)
        temperature(s0.dutf, trip: have && discharging && coldest >= settingWord(r.dischargeUnderTemperature) & 0x0FFF,
                    release: coldest <= settingWord(r.dischargeUnderTemperatureRecovery) & 0x0FFF || !have)
        let die = ISL94202Emulator.internalCode(analog.internalTemperature)
        if die >= settingWord(r.internalOverTemperature) & 0x0FFF { status1 |= s1.iotf }
        else if die <= settingWord(r.internalOverTemperatureRecovery) & 0x0FFF { status1 &= ~s1.iotf }

        // Cell fail: a spread above CBMAXDV; open wire unless its scan is disabled; VEOC.
        let spread = maxCode > minCode ? maxCode - minCode : 0
        set(s1.cellf, spread > settingWord(r.balanceMaximumDelta) & 0x0FFF)
        let scan = shadow[Int(r.setup0)] & ISL94202.Setup0.disableOpenWireScan == 0
        set(s1.openf, analog.openWire && scan)
        set(s1.veoc, maxCode >= settingWord(r.endOfCharge) & 0x0FFF)

        updateOwnFETs()
        balance(maxCode: maxCode, minCode: minCode, charging: charging, discharging: discharging)
    }

    /// The sense voltage above which Status 2 shows a direction (assumed 100 µV).
    static let directionMillivolts: Float = 0.1

    mutating func set(_ bit: UInt8, _ on: Bool) {
        if on { status1 |= bit } else { status1 &= ~bit }
    }

    mutating func temperature(_ bit: UInt8, trip: Bool, release: Bool) {
        if trip { status0 |= bit } else if release { status0 &= ~bit }
    }

    /// A protection with a detection delay: trips when its condition has held for `delay`,
    /// releases (assumed: at once) when `released` holds.
    mutating func timed(_ index: Int, register: Int, bit: UInt8, condition: Bool, delay: UInt64,
                        released: Bool, us: UInt64) {
        let tripped = (register == 0 ? status0 : status1) & bit != 0
        if tripped {
            if released && !condition {
                if register == 0 { status0 &= ~bit } else { status1 &= ~bit }
                held[index] = 0
            }
            return
        }
        guard condition else { held[index] = 0; return }
        held[index] += us
        if held[index] >= delay {
            if register == 0 { status0 |= bit } else { status1 |= bit }
        }
    }

    /// The chip's own FET decisions (used without µCFET). A cell fail only stops balancing
    /// (assumed: its FET response is the optional pack shutdown, CFPSD, not modelled).
    mutating func updateOwnFETs() {
        let s0 = ISL94202.Status0.self, s1 = ISL94202.Status1.self
        ownCharge = status0 & (s0.ovf | s0.ovlof | s0.cotf | s0.cutf) == 0
            && status1 & (s1.cocf | s1.iotf | s1.openf) == 0
        ownDischarge = status0 & (s0.uvf | s0.uvlof | s0.dotf | s0.dutf) == 0
            && status1 & (s1.docf | s1.dscf | s1.iotf | s1.openf) == 0
    }

    /// The balancing state machine: allowed while charging (CBDC), discharging (CBDD) or with a
    /// cell at end of charge (CB_EOC), not on a cell fail or a temperature fault; it bleeds every
    /// cell within CBMIN…CBMAX that is more than CBMINDV above the lowest (assumed: all at once,
    /// and stopping at the same difference; the on/off duty cycle is not modelled).
    mutating func balance(maxCode: UInt16, minCode: UInt16, charging: Bool, discharging: Bool) {
        let r = ISL94202.Register.self, s = ISL94202.Setup1.self
        let setup = shadow[Int(r.setup1)]
        let allowed = (charging && setup & s.balanceWhileCharging != 0)
            || (discharging && setup & s.balanceWhileDischarging != 0)
            || (status1 & ISL94202.Status1.veoc != 0 && setup & s.balanceAtEndOfCharge != 0)
        guard allowed && status1 & ISL94202.Status1.cellf == 0 && status0 & 0xF0 == 0 else {
            autoBalance = 0
            return
        }
        let low = settingWord(r.balanceMinimum) & 0x0FFF, high = settingWord(r.balanceMaximum) & 0x0FFF
        let delta = settingWord(r.balanceMinimumDelta) & 0x0FFF
        var mask: UInt8 = 0
        for k in 0..<8 where cellSelect & (1 << UInt8(k)) != 0 {
            let c = cellCode(k)
            if c >= low && c <= high && c - minCode > delta { mask |= 1 << UInt8(k) }
        }
        autoBalance = mask
    }

    // MARK: Measurements

    func cellCode(_ input: Int) -> UInt16 { ISL94202.voltageCode(analog.cellVoltages[input]) }

    /// Thermistors that watch cells: xT1, and xT2 unless XT2M gives it to the FETs.
    var cellThermistors: Int {
        shadow[Int(ISL94202.Register.setup0)] & ISL94202.Setup0.xT2MonitorsFETs != 0 ? 1 : 2
    }

    var temperatureGain: Float {
        shadow[Int(ISL94202.Register.setup0)] & ISL94202.Setup0.temperatureGain != 0 ? 1 : 2
    }

    func thermistorCode(_ k: Int) -> UInt16 {
        ISL94202.temperatureCode(volts: ISL94202.thermistorVolts(celsius: analog.thermistors[k]), gain: temperatureGain)
    }

    static func internalCode(_ celsius: Float) -> UInt16 {
        ISL94202.code((celsius + 273.15) * ISL94202.internalMillivoltsPerKelvin / 1000
                      * ISL94202.adcFullScale / ISL94202.adcReference)
    }

    /// The pack-current magnitude through the gain Control 0 selects.
    var currentCode: UInt16 {
        let gain = ISL94202.CurrentGain(code: (control0 & ISL94202.Control0.currentGainMask) >> 4).factor
        let sense = abs(analog.current * shuntResistance)  // V
        return ISL94202.code(sense * gain * ISL94202.adcFullScale / ISL94202.adcReference)
    }

    func dataWord(_ register: UInt8) -> UInt16 {
        let r = ISL94202.Register.self
        let selection = cellSelect
        switch register {
        case r.cellMinimum, r.cellMaximum:
            var lo: UInt16 = 4095, hi: UInt16 = 0
            for k in 0..<8 where selection & (1 << UInt8(k)) != 0 {
                lo = min(lo, cellCode(k)); hi = max(hi, cellCode(k))
            }
            return register == r.cellMinimum ? (selection == 0 ? 0 : lo) : hi
        case r.packCurrent:
            return currentCode
        case r.cell1..<r.internalTemperature:
            return cellCode(Int(register - r.cell1) / 2)
        case r.internalTemperature:
            return ISL94202Emulator.internalCode(analog.internalTemperature)
        case r.externalTemperature1:
            return thermistorCode(0)
        case r.externalTemperature2:
            return thermistorCode(1)
        case r.batteryVoltage:
            var sum: Float = 0
            for k in 0..<8 where selection & (1 << UInt8(k)) != 0 { sum += analog.cellVoltages[k] }
            return ISL94202.code(sum / ISL94202.batteryVoltsPerCode)
        case r.regulatorVoltage:
            return ISL94202.code(2.5 / 2 * ISL94202.adcFullScale / ISL94202.adcReference)
        default:
            return 0
        }
    }

    var status2: UInt8 {
        let s = ISL94202.Status2.self
        var v: UInt8 = 0
        if analog.loadPresent { v |= s.loadPresent }
        if analog.chargerPresent { v |= s.chargerPresent }
        let sense = analog.current * shuntResistance * 1000
        if sense > ISL94202Emulator.directionMillivolts { v |= s.charging }
        if -sense > ISL94202Emulator.directionMillivolts { v |= s.discharging }
        return v
    }

    var status3: UInt8 {
        let r = ISL94202.Register.self, s = ISL94202.Status3.self
        var hi: UInt16 = 0
        for k in 0..<8 where cellSelect & (1 << UInt8(k)) != 0 { hi = max(hi, cellCode(k)) }
        var v: UInt8 = 0
        if hi > settingWord(r.balanceMaximum) & 0x0FFF { v |= s.cbov }
        if hi < settingWord(r.balanceMinimum) & 0x0FFF { v |= s.cbuv }
        if sleeping { v |= s.inSleep }
        return v
    }
}

// MARK: The I2C side

extension ISL94202Emulator {
    static func writable(_ register: Int) -> Bool {
        register <= Int(ISL94202.Register.lastConfiguration)
            || (register >= Int(ISL94202.Register.cellBalance) && register <= Int(ISL94202.Register.eepromEnable))
    }

    static func readable(_ register: Int) -> Bool {
        register <= Int(ISL94202.Register.lastConfiguration)
            || (register >= Int(ISL94202.Register.status0) && register <= Int(ISL94202.Register.lastData))
    }

    public mutating func write(_ address: UInt8, _ data: I2CBytes) throws(I2CError) {
        guard address == self.address, !silent, !shutDown else { throw .noAcknowledge }
        guard data.count > 1 else { return }  // an address probe, or a register pointer alone
        let start = Int(data[0])
        let n = data.count - 1
        var ok = n <= 4
        for k in 0..<n where !ISL94202Emulator.writable(start + k) { ok = false }
        guard ok else {
            rejectedTransfers += 1
            throw .noAcknowledge
        }
        for k in 0..<n { writeRegister(UInt8(start + k), data[k + 1]) }
    }

    public mutating func writeRead(_ address: UInt8, _ data: I2CBytes, readCount: Int) throws(I2CError) -> I2CBytes {
        guard address == self.address, !silent, !shutDown else { throw .noAcknowledge }
        guard data.count == 1, readCount > 0, readCount <= I2CBytes.capacity else {
            rejectedTransfers += 1
            throw .busError
        }
        let start = Int(data[0])
        var ok = true
        for k in 0..<readCount where !ISL94202Emulator.readable(start + k) { ok = false }
        guard ok else {
            rejectedTransfers += 1
            throw .noAcknowledge
        }
        var out = I2CBytes()
        for k in 0..<readCount { out.append(readRegister(UInt8(start + k))) }
        return out
    }

    mutating func writeRegister(_ register: UInt8, _ byte: UInt8) {
        let r = ISL94202.Register.self, c1 = ISL94202.Control1.self
        switch register {
        case 0...r.lastConfiguration:
            if eepromEnable & 1 != 0 { eeprom[Int(register)] = byte } else { shadow[Int(register)] = byte }
        case r.cellBalance:
            hostBalance = byte
        case r.control0:
            control0 = byte & 0x3F
        case r.control1:
            if byte & c1.clearLoadError != 0 {
                status1 &= ~(ISL94202.Status1.docf | ISL94202.Status1.dscf)
                held[2] = 0; held[4] = 0
            }
            if byte & c1.clearChargerError != 0 {
                status1 &= ~ISL94202.Status1.cocf
                held[3] = 0
            }
            control1 = byte & (c1.dfet | c1.cfet | c1.pcfet | c1.psd | c1.chargerMonitorEnable | c1.loadMonitorEnable)
        case r.control2:
            control2 = byte & 0x7F
        case r.control3:
            if byte & ISL94202.Control3.powerDown != 0 { shutDown = true }
            control3 = byte & 0x07
        case r.eepromEnable:
            eepromEnable = byte & 0x01
        default:
            break
        }
    }

    func readRegister(_ register: UInt8) -> UInt8 {
        let r = ISL94202.Register.self, c1 = ISL94202.Control1.self
        switch register {
        case 0...r.lastConfiguration:
            return eepromEnable & 1 != 0 ? eeprom[Int(register)] : shadow[Int(register)]
        case r.status0: return status0
        case r.status1: return status1
        case r.status2: return status2
        case r.status3: return status3
        case r.cellBalance: return balancing
        case r.control0: return control0
        case r.control1:
            // The FET bits read what the FETs are (the chip clears them on a trip).
            var v = control1 & ~(c1.cfet | c1.dfet)
            if chargeFET { v |= c1.cfet }
            if dischargeFET { v |= c1.dfet }
            return v
        case r.control2: return control2
        case r.control3: return control3
        case r.eepromEnable: return eepromEnable
        default:
            let word = dataWord(register & 0xFE)
            return UInt8(truncatingIfNeeded: register & 1 == 0 ? word : word >> 8)
        }
    }
}
