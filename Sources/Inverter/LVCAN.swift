/// The low-voltage battery CAN family (Pylon LV v1.2, SMA Sunny Island, Victron "CAN-bus BMS"):
/// one encoder per frame identifier; the profile chooses lengths and markers.
///
/// Facts and confidence tags: `specs/inverter-protocols.md` §1. Every multi-byte field is
/// little-endian. Rules this encoder keeps whatever the report says:
/// - a direction the battery does not allow goes out with a zero current limit (Victron and
///   SMA steer by 0x351 alone);
/// - the charge voltage limit is never 0 (Victron reads 0 as over-voltage): when charging is
///   blocked it is held at the present voltage, the "stop charging" that Victron and Deye
///   expect, and never below the discharge voltage limit;
/// - the SOC is capped at 99 % until the BMS has seen the battery full, if the settings say so.
public enum LVCAN {
    /// The frame `id` for `report` under `settings`; an identifier the family does not define
    /// gives an empty frame.
    public static func frame(_ id: UInt16, report r: BatteryReport, settings: InverterSettings) -> InverterFrame {
        var f = InverterFrame(id: id)
        let profile = settings.profile
        switch id {
        case 0x351:
            f.appendLE(Scale.u16(chargeVoltageLimit(r), unit: 0.1))
            f.appendLE(Scale.s16(r.chargeAllowed ? max(r.chargeCurrentLimit, 0) : 0, unit: 0.1))
            f.appendLE(Scale.s16(r.dischargeAllowed ? max(r.dischargeCurrentLimit, 0) : 0, unit: 0.1))
            f.appendLE(Scale.u16(r.dischargeVoltageLimit, unit: 0.1))
        case 0x355:
            let soc = reportedSOC(r, settings)
            f.appendLE(Scale.u16(soc * 100, unit: 1))
            f.appendLE(Scale.u16(r.stateOfHealth * 100, unit: 1))
            if profile != .pylon {
                f.appendLE(Scale.u16(soc * 100, unit: 0.01))
            }
            if profile == .victron { f.pad(to: 8) }
        case 0x356:
            f.appendLE(Scale.s16(r.voltage, unit: 0.01))
            f.appendLE(Scale.s16(r.current, unit: 0.1))
            f.appendLE(Scale.s16(r.temperature, unit: 0.1))
            if profile == .victron { f.pad(to: 8) }
        case 0x359:
            f.append(pylonProtectionByte0(r.protections))
            f.append(pylonProtectionByte1(r.protections))
            f.append(pylonProtectionByte0(r.warnings))
            f.append(pylonAlarmByte3(r.warnings))
            f.append(UInt8(min(r.modulesOnline, 255)))
            f.append(0x50)  // "P"
            f.append(0x4E)  // "N"
        case 0x35A:
            for byte in 0..<4 { f.append(alarmPairs(r.protections, byte: byte)) }
            for byte in 0..<4 { f.append(alarmPairs(r.warnings, byte: byte)) }
        case 0x35B:
            f.pad(to: 8)
        case 0x35C:
            var flags: UInt8 = 0
            if r.chargeAllowed { flags |= 0x80 }
            if r.dischargeAllowed { flags |= 0x40 }
            if r.requests.contains(.forceCharge1) { flags |= 0x20 }
            if r.requests.contains(.forceCharge2) { flags |= 0x10 }
            if r.requests.contains(.fullCharge) { flags |= 0x08 }
            f.append(flags)
            f.append(0)
        case 0x35E:
            for i in 0..<8 { f.append(i < settings.nameLength ? settings.name[i] : 0x20) }
        case 0x35F:
            f.append(0x4C)  // "Li"
            f.append(0x69)
            f.append(settings.versionMajor)
            f.append(settings.versionMinor)
            // SMA: the nominal capacity; Victron shows this field as the available capacity.
            let capacity = profile == .victron ? r.installedCapacity * r.stateOfHealth : r.installedCapacity
            f.appendLE(Scale.u16(capacity, unit: 1))
            f.appendLE(profile == .sma ? UInt16(0xFFFF) : 0)
        case 0x370, 0x371:
            let first = id == 0x370 ? 0 : 8
            for i in first..<(first + 8) { f.append(i < settings.nameLength ? settings.name[i] : 0) }
        case 0x372:
            f.appendLE(r.modulesOnline)
            f.appendLE(r.modulesBlockingCharge)
            f.appendLE(r.modulesBlockingDischarge)
            f.appendLE(r.modulesOffline)
        case 0x373:
            f.appendLE(Scale.u16(r.minCellVoltage, unit: 0.001))
            f.appendLE(Scale.u16(r.maxCellVoltage, unit: 0.001))
            f.appendLE(Scale.u16(r.minTemperature + 273.15, unit: 1))
            f.appendLE(Scale.u16(r.maxTemperature + 273.15, unit: 1))
        case 0x374: appendLocation(&f, r.minCell, letter: 0x43)   // "C"
        case 0x375: appendLocation(&f, r.maxCell, letter: 0x43)
        case 0x376: appendLocation(&f, r.coldest, letter: 0x54)   // "T"
        case 0x377: appendLocation(&f, r.warmest, letter: 0x54)
        case 0x378:
            f.appendLE(Scale.u32(r.chargedEnergy, unit: 0.1))
            f.appendLE(Scale.u32(r.dischargedEnergy, unit: 0.1))
        case 0x379:
            f.appendLE(Scale.u16(r.installedCapacity, unit: 1))
            f.pad(to: 8)
        case 0x382:
            for i in 0..<8 { f.append(i < settings.nameLength ? settings.name[i] : 0) }
        default:
            break
        }
        return f
    }

    /// CVL as sent: held at the present voltage while charging is blocked, never 0 and never
    /// below the DVL.
    public static func chargeVoltageLimit(_ r: BatteryReport) -> Float {
        var cvl = r.chargeVoltageLimit
        if !r.chargeAllowed && r.voltage > 0 { cvl = min(cvl, r.voltage) }
        return max(max(cvl, r.dischargeVoltageLimit), 0.1)  // two-argument max: the variadic one allocates
    }

    /// The charge and discharge current limits a 0x351 frame carries, A (what an inverter
    /// reads from it).
    public static func currentLimits(of f: InverterFrame) -> (charge: Float, discharge: Float) {
        (Float(Int(f.s16(at: 2))) * 0.1, Float(Int(f.s16(at: 4))) * 0.1)
    }

    /// The SOC as the inverter sees it, 0–1.
    public static func reportedSOC(_ r: BatteryReport, _ settings: InverterSettings) -> Float {
        let soc = min(max(r.stateOfCharge, 0), 1)
        return settings.capSOCBelowFull && !r.full ? min(soc, 0.99) : soc
    }

    /// 0x359 bytes 0 and 2 (protection 1, alarm 1): voltage, temperature, discharge current.
    static func pylonProtectionByte0(_ c: BatteryConditions) -> UInt8 {
        var b: UInt8 = 0
        if c.contains(.highVoltage) { b |= 1 << 1 }
        if c.contains(.lowVoltage) { b |= 1 << 2 }
        if (c.contains(.highTemperature) || c.contains(.highChargeTemperature)) { b |= 1 << 3 }
        if (c.contains(.lowTemperature) || c.contains(.lowChargeTemperature)) { b |= 1 << 4 }
        if (c.contains(.highDischargeCurrent) || c.contains(.shortCircuit)) { b |= 1 << 7 }
        return b
    }

    /// 0x359 bytes 1 and 3 (protection 2, alarm 2): charge current, system error.
    static func pylonProtectionByte1(_ c: BatteryConditions) -> UInt8 {
        var b: UInt8 = 0
        if c.contains(.highChargeCurrent) { b |= 1 << 0 }
        if (c.contains(.internalError) || c.contains(.contactor) || c.contains(.cellImbalance)) { b |= 1 << 3 }
        return b
    }

    /// 0x359 byte 3 (alarm 2): charge current, and "internal communication failure" only for
    /// the BMS's own trouble (not for a contactor or imbalance warning, which Sol-Ark would
    /// show as a critical system error).
    static func pylonAlarmByte3(_ c: BatteryConditions) -> UInt8 {
        var b: UInt8 = 0
        if c.contains(.highChargeCurrent) { b |= 1 << 0 }
        if c.contains(.internalError) { b |= 1 << 3 }
        return b
    }

    /// One byte of 0x35A: four 2-bit pairs, `01` raised, `10` clear, `00` not supported.
    /// "General" (byte 0, bits 1–0) is raised by any condition of the set.
    static func alarmPairs(_ c: BatteryConditions, byte: Int) -> UInt8 {
        func pair(_ raised: Bool, _ shift: UInt8) -> UInt8 { (raised ? 0b01 : 0b10) << shift }
        switch byte {
        case 0:
            return pair(!c.isEmpty, 0) | pair(c.contains(.highVoltage), 2)
                | pair(c.contains(.lowVoltage), 4) | pair(c.contains(.highTemperature), 6)
        case 1:
            return pair(c.contains(.lowTemperature), 0) | pair(c.contains(.highChargeTemperature), 2)
                | pair(c.contains(.lowChargeTemperature), 4) | pair(c.contains(.highDischargeCurrent), 6)
        case 2:
            return pair(c.contains(.highChargeCurrent), 0) | pair(c.contains(.contactor), 2)
                | pair(c.contains(.shortCircuit), 4) | pair(c.contains(.internalError), 6)
        default:
            // Cell imbalance; the other three pairs are reserved ("not supported").
            return pair(c.contains(.cellImbalance), 0)
        }
    }

    /// "C7", "T3", with a pack number "P2C7", or the pack alone "P2" (index 0: not known):
    /// ASCII, NUL-padded to 8 bytes.
    static func appendLocation(_ f: inout InverterFrame, _ l: BatteryReport.Location, letter: UInt8) {
        if l.pack > 0 {
            f.append(0x50)  // "P"
            appendDecimal(&f, l.pack)
        }
        if l.index > 0 || l.pack == 0 {
            f.append(letter)
            appendDecimal(&f, l.index)
        }
        f.pad(to: 8)
    }

    static func appendDecimal(_ f: inout InverterFrame, _ v: UInt8) {
        if v >= 100 { f.append(0x30 + v / 100) }
        if v >= 10 { f.append(0x30 + v / 10 % 10) }
        f.append(0x30 + v % 10)
    }
}
