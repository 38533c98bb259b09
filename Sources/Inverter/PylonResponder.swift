/// What the RS485 answers carry beyond `BatteryReport`: every cell and sensor, the
/// capacities, the switches and the thresholds behind the per-item alarm codes.
public struct PackDetail: Sendable {
    public var cellVoltages = InlineArray<16, Float>(repeating: 0)
    public var cellCount = 0
    /// In the Pylontech order: the board sensor first, then the cell sensors, then others.
    public var temperatures = InlineArray<8, Float>(repeating: 0)
    public var temperatureCount = 0
    /// Charge left and charge when full, Ah.
    public var remainingCapacity: Float = 0
    public var fullCapacity: Float = 0
    public var chargeSwitchOn = false
    public var dischargeSwitchOn = false
    /// Cell levels, V: trips (over-voltage, under-voltage), the discharge cutoff, and the
    /// warning levels that mark a cell "above" or "below" its limit in the alarm answer.
    public var cellOvervoltage: Float = 0
    public var cellHighWarning: Float = 0
    public var cellLowWarning: Float = 0
    public var dischargeCutoff: Float = 0
    public var cellUndervoltage: Float = 0
    /// Temperature windows, °C.
    public var chargeMinTemperature: Float = 0
    public var chargeMaxTemperature: Float = 0
    public var dischargeMinTemperature: Float = 0
    public var dischargeMaxTemperature: Float = 0
    /// Largest currents the pack is built for (over-current trips), A.
    public var chargeCurrentMaximum: Float = 0
    public var dischargeCurrentMaximum: Float = 0

    public init() {}
}

/// Who the pack says it is (0x51, 0x93, 0x96).
public struct PackIdentity: Sendable {
    public var deviceName = InlineArray<20, UInt8>(repeating: 0)
    public var deviceNameCount = 0
    public var manufacturer = InlineArray<20, UInt8>(repeating: 0)
    public var manufacturerCount = 0
    public var serialNumber = InlineArray<20, UInt8>(repeating: 0)
    public var serialNumberCount = 0
    public var versionMajor: UInt8 = 0
    public var versionMinor: UInt8 = 1

    public init() {
        let name: StaticString = "FlexBMS"
        name.withUTF8Buffer { Self.copy($0, to: &deviceName, count: &deviceNameCount) }
        name.withUTF8Buffer { Self.copy($0, to: &manufacturer, count: &manufacturerCount) }
    }

    /// The serial number (16 characters are sent; longer is cut).
    public mutating func setSerialNumber(_ bytes: UnsafeBufferPointer<UInt8>) {
        Self.copy(bytes, to: &serialNumber, count: &serialNumberCount)
    }

    static func copy(_ bytes: UnsafeBufferPointer<UInt8>, to field: inout InlineArray<20, UInt8>, count: inout Int) {
        count = min(bytes.count, 20)
        for i in 0..<20 { field[i] = i < count ? bytes[i] : 0 }
    }
}

/// The battery's side of the RS485 link: answers the frames addressed to it
/// (`specs/inverter-protocols.md` §2.7) and stays silent on the others, as one pack among
/// several on a shared bus must.
///
/// Liberal on input, as the inverters and clients in the field need: hex digits in either
/// case, INFO with the address alone or followed by a pack number (as the `pylontech` client
/// sends it), or with an INFOFLAG-like 0x10 before the address; 0x47 with or without INFO.
/// Frames of other command groups (CID1 ≠ 0x46, e.g. the PACE dialect) are not answered.
public struct PylonResponder: Sendable {
    public var address: UInt8
    public var identity = PackIdentity()
    /// What the last alarm answer (0x44) showed, for the INFOFLAG "unread change" bits.
    var alarmsSeen: UInt16 = 0
    var switchesSeen: UInt8 = 0

    public init(address: UInt8 = 2) { self.address = address }

    /// The answer to `line` (one frame, CR or not) in `out`; 0 when nothing is to be sent.
    public mutating func respond(to line: UnsafeBufferPointer<UInt8>, report r: BatteryReport, pack: PackDetail,
                                 into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        // Frames for another pack, or of another command group (the PACE dialect), even
        // damaged ones, are someone else's.
        guard let q = PylonRS485.parse(line), q.address == address, q.cid1 == PylonRS485.batteryData else { return 0 }
        guard q.error == .normal else { return bare(q.error, into: out) }
        guard q.version == 0x20 || q.cid2 == 0x4F else { return bare(.versionError, into: out) }
        // The address in INFO: this pack, or 0xFF (the whole system) for 0x42 and 0x44.
        // The `pylontech` client sends the address then a pack number, 0xFF for all packs.
        var target = address
        if q.infoCount >= 1 { target = q.info[0] }
        if q.infoCount >= 2 && q.info[0] == 0x10 { target = q.info[1] }
        let all = target == 0xFF || (q.infoCount >= 2 && q.info[0] == address && q.info[1] == 0xFF)
        let whole = all && (q.cid2 == 0x42 || q.cid2 == 0x44)
        if q.cid2 != 0x47 && q.cid2 != 0x4F && q.cid2 != 0x51 && !whole && target != address {
            return bare(.addressError, into: out)
        }
        var w = PylonRS485.AnswerWriter(into: out, address: address, rtn: .normal)
        switch q.cid2 {
        case 0x4F:
            break
        case 0x51:
            w.addText(identity.deviceName, count: identity.deviceNameCount, width: 10)
            w.add(identity.versionMajor)
            w.add(identity.versionMinor)
            w.addText(identity.manufacturer, count: identity.manufacturerCount, width: 20)
        case 0x42:
            w.add(infoFlag(r, pack))
            if whole { w.add(1) } else { w.add(address) }
            analog(&w, r, pack)
        case 0x44:
            w.add(infoFlag(r, pack))
            if whole { w.add(1) } else { w.add(address) }
            alarms(&w, r, pack)
            alarmsSeen = r.protections.rawValue | r.warnings.rawValue
            switchesSeen = switches(pack)
        case 0x47:
            w.add(infoFlag(r, pack))
            systemParameters(&w, r, pack)
        case 0x92:
            w.add(address)
            w.add16(Scale.u16(LVCAN.chargeVoltageLimit(r), unit: 0.001))
            w.add16(Scale.u16(r.dischargeVoltageLimit, unit: 0.001))
            w.add16(Scale.s16(r.chargeAllowed ? r.chargeCurrentLimit : 0, unit: 0.1))
            // Real packs send the discharge limit negative; readers take the magnitude.
            w.add16(Scale.s16(r.dischargeAllowed ? -r.dischargeCurrentLimit : 0, unit: 0.1))
            w.add(requestFlags(r))
        case 0x93:
            w.add(address)
            w.addText(identity.serialNumber, count: identity.serialNumberCount, width: 16)
        case 0x96:
            w.add(address)
            w.add(identity.versionMajor)
            w.add(identity.versionMinor)
            w.add(identity.versionMajor)
            w.add(identity.versionMinor)
            w.add(0)
        default:
            return bare(.commandInvalid, into: out)
        }
        return w.finish()
    }

    /// An answer without INFO: an error code.
    func bare(_ rtn: PylonRS485.ReturnCode, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var w = PylonRS485.AnswerWriter(into: out, address: address, rtn: rtn)
        return w.finish()
    }

    /// INFOFLAG: bit 0 an alarm change, bit 4 a switch change, not yet read by 0x44.
    func infoFlag(_ r: BatteryReport, _ pack: PackDetail) -> UInt8 {
        var flag: UInt8 = 0
        if r.protections.rawValue | r.warnings.rawValue != alarmsSeen { flag |= 0x01 }
        if switches(pack) != switchesSeen { flag |= 0x10 }
        return flag
    }

    func switches(_ pack: PackDetail) -> UInt8 {
        (pack.chargeSwitchOn ? 1 : 0) | (pack.dischargeSwitchOn ? 2 : 0)
    }

    /// 0x92 and 0x35C share their status bits.
    func requestFlags(_ r: BatteryReport) -> UInt8 {
        var flags: UInt8 = 0
        if r.chargeAllowed { flags |= 0x80 }
        if r.dischargeAllowed { flags |= 0x40 }
        if r.requests.contains(.forceCharge1) { flags |= 0x20 }
        if r.requests.contains(.forceCharge2) { flags |= 0x10 }
        if r.requests.contains(.fullCharge) { flags |= 0x08 }
        return flags
    }

    /// Temperatures in 0.1 K with the protocol's offset of 2731.
    static func kelvin(_ celsius: Float) -> UInt16 {
        Scale.u16(celsius * 10 + 2731, unit: 1)
    }

    func analog(_ w: inout PylonRS485.AnswerWriter, _ r: BatteryReport, _ pack: PackDetail) {
        w.add(UInt8(pack.cellCount))
        for i in 0..<pack.cellCount { w.add16(Scale.s16(pack.cellVoltages[i], unit: 0.001)) }
        w.add(UInt8(pack.temperatureCount))
        for i in 0..<pack.temperatureCount { w.add16(Self.kelvin(pack.temperatures[i])) }
        w.add16(Scale.s16(r.current, unit: 0.1))
        w.add16(Scale.u16(r.voltage, unit: 0.001))
        // Capacities in mAh: 16 bits up to 65 Ah, else 0xFFFF there and 24 bits after.
        let large = pack.fullCapacity > 65 || pack.remainingCapacity > 65
        w.add16(large ? 0xFFFF : Scale.u16(pack.remainingCapacity, unit: 0.001))
        w.add(large ? 4 : 2)
        w.add16(large ? 0xFFFF : Scale.u16(pack.fullCapacity, unit: 0.001))
        w.add16(r.cycleCount)
        if large {
            w.add24(UInt32(Scale.integer(pack.remainingCapacity, unit: 0.001, in: 0...0xFF_FFFF)))
            w.add24(UInt32(Scale.integer(pack.fullCapacity, unit: 0.001, in: 0...0xFF_FFFF)))
        }
    }

    func alarms(_ w: inout PylonRS485.AnswerWriter, _ r: BatteryReport, _ pack: PackDetail) {
        let all = BatteryConditions(rawValue: r.protections.rawValue | r.warnings.rawValue)
        w.add(UInt8(pack.cellCount))
        var faultyCells: UInt16 = 0
        for i in 0..<pack.cellCount {
            let v = pack.cellVoltages[i]
            w.add(v >= pack.cellHighWarning ? 0x02 : (v <= pack.cellLowWarning ? 0x01 : 0x00))
            if v >= pack.cellOvervoltage || v <= pack.cellUndervoltage { faultyCells |= 1 << UInt16(i) }
        }
        w.add(UInt8(pack.temperatureCount))
        let hot = all.contains(.highTemperature) || all.contains(.highChargeTemperature)
        let cold = all.contains(.lowTemperature) || all.contains(.lowChargeTemperature)
        for i in 0..<pack.temperatureCount {
            let t = pack.temperatures[i]
            let isWarmest = t >= r.maxTemperature - 0.05, isColdest = t <= r.minTemperature + 0.05
            w.add(hot && isWarmest ? 0x02 : (cold && isColdest ? 0x01 : 0x00))
        }
        w.add(all.contains(.highChargeCurrent) ? 0x02 : 0x00)
        w.add(all.contains(.highVoltage) ? 0x02 : (all.contains(.lowVoltage) ? 0x01 : 0x00))
        w.add(all.contains(.highDischargeCurrent) || all.contains(.shortCircuit) ? 0x02 : 0x00)
        let p = r.protections
        var status1: UInt8 = 0
        if p.contains(.lowVoltage) { status1 |= 0x80 | 0x02 }
        if p.contains(.highChargeTemperature) { status1 |= 0x40 }
        if p.contains(.highTemperature) { status1 |= 0x20 }
        if p.contains(.highDischargeCurrent) || p.contains(.shortCircuit) { status1 |= 0x10 }
        if p.contains(.highChargeCurrent) { status1 |= 0x04 }
        if p.contains(.highVoltage) { status1 |= 0x01 }
        w.add(status1)
        w.add(0x08 | (pack.dischargeSwitchOn ? 0x04 : 0) | (pack.chargeSwitchOn ? 0x02 : 0))
        var status3: UInt8 = 0
        if r.current > 0.1 { status3 |= 0x80 }
        if r.current < -0.1 { status3 |= 0x40 }
        if r.full { status3 |= 0x08 }
        w.add(status3)
        w.add(UInt8(truncatingIfNeeded: faultyCells))
        w.add(UInt8(truncatingIfNeeded: faultyCells >> 8))
    }

    func systemParameters(_ w: inout PylonRS485.AnswerWriter, _ r: BatteryReport, _ pack: PackDetail) {
        let cells = Float(pack.cellCount)
        w.add16(Scale.u16(pack.cellOvervoltage, unit: 0.001))
        w.add16(Scale.u16(pack.dischargeCutoff, unit: 0.001))
        w.add16(Scale.u16(pack.cellUndervoltage, unit: 0.001))
        w.add16(Self.kelvin(pack.chargeMaxTemperature))
        w.add16(Self.kelvin(pack.chargeMinTemperature))
        w.add16(Scale.s16(pack.chargeCurrentMaximum, unit: 0.1))
        w.add16(Scale.u16(pack.cellOvervoltage * cells, unit: 0.001))
        w.add16(Scale.u16(pack.dischargeCutoff * cells, unit: 0.001))
        w.add16(Scale.u16(pack.cellUndervoltage * cells, unit: 0.001))
        w.add16(Self.kelvin(pack.dischargeMaxTemperature))
        w.add16(Self.kelvin(pack.dischargeMinTemperature))
        w.add16(Scale.s16(-pack.dischargeCurrentMaximum, unit: 0.1))
    }
}
