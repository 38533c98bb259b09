import BMSCore
import PAYG
import ThingSet

/// The tokens that raise a ThingSet channel's roles (`xAuth`, spec §8): up to 32 bytes each;
/// an empty token never matches.
public struct AuthTokens: Sendable {
    var expert = InlineArray<32, UInt8>(repeating: 0)
    var expertCount = 0
    var manufacturer = InlineArray<32, UInt8>(repeating: 0)
    var manufacturerCount = 0

    public init(expert: UnsafeBufferPointer<UInt8>, manufacturer: UnsafeBufferPointer<UInt8>) {
        expertCount = min(expert.count, 32)
        for k in 0..<expertCount { self.expert[k] = expert[k] }
        manufacturerCount = min(manufacturer.count, 32)
        for k in 0..<manufacturerCount { self.manufacturer[k] = manufacturer[k] }
    }

    public init(expert: StaticString, manufacturer: StaticString) {
        self.init(expert: UnsafeBufferPointer(start: expert.utf8Start, count: expert.utf8CodeUnitCount),
                  manufacturer: UnsafeBufferPointer(start: manufacturer.utf8Start, count: manufacturer.utf8CodeUnitCount))
    }

    /// The roles `token` gives: manufacturer, expert, or none beyond the user.
    func roles(for token: UnsafeBufferPointer<UInt8>) -> ThingSetRoles {
        func matches(_ stored: InlineArray<32, UInt8>, _ count: Int) -> Bool {
            guard count > 0, token.count == count else { return false }
            for k in 0..<count where stored[k] != token[k] { return false }
            return true
        }
        if matches(manufacturer, manufacturerCount) { return [.user, .manufacturer] }
        if matches(expert, expertCount) { return [.user, .expert] }
        return .user
    }
}

/// The BMS as ThingSet objects: Device, Conf (every setting of `BMSConfig`), Meas, Input, the
/// presets, `xAuth` and the `mLive` subset, with the reference firmware's names and IDs where
/// it has them (libresolar-bms-reference.md §10) and the documented range 0x100–0x1FF for the
/// others:
///
/// - single-value settings without a reference ID: 0x100 + their index among the plain
///   fields (`ConfigField.plainFields` only grows at its end, so these IDs stay); per-fault recovery settings 0x140 + 3 × fault + 0/1/2 (delay, latch count, window);
/// - the calibration arrays 0x180 (`pCellVoltageGain`), 0x181 (`pCellVoltageOffset_V`),
///   0x182 (`pThermistorOffset_K`); the OCV table keeps the reference's 0xB0;
/// - new measurements from 0x1C0: `rSOH_pct`, `rChargeCurrentLimit_A`, `rDischargeCurrentLimit_A`;
/// - the pay-as-you-go group `PAYG` (0x08) from 0x1D0: `rPaygEnforced`, `rPaygCreditLeft_s`,
///   `rPaygLocked` (discharge off for lack of credit), `rPaygLockoutLeft_s` (invalid entries),
///   and `xPaygToken(uToken)` (0x1D4/0x1D5, anyone), which answers 0 accepted, 1 already used,
///   2 invalid, 3 locked out, −1 when the device has no PAYG provisioning;
/// - the items a pack of a bank publishes (`BankLink`) that `Meas` lacked, 0x1C3–0x1C9 and
///   0x1CC–0x1CF, and the group `Bank` (0x0A) with the leader's view from 0x190: packs alive
///   and online, the leader, the union of their faults, the bank's limits and SOC, and the last
///   fault another pack reported: its pack, fault, cell or sensor;
/// - `Device/xShutdown` (0x4A, the reference's: both switches off for good) and
///   `Device/xResetFaults` (0x1F0: the manual fault reset, latches cleared), both experts';
/// - the event log: group `Rec` (0x06) with the records object `EventLog_32` (0x1E0), each
///   record `t_s` (0x1E1, uptime seconds), `rEvent` (0x1E2), `rFault` (0x1E3, "" if none),
///   `rCell` (0x1E4, from 1; 0 if none), `rValue` (0x1E5), `rBmsState` (0x1E6).
///
/// Access: measurements read by anyone; settings written by experts, `p` settings by the
/// manufacturer; the running enable inputs (`Input`) by anyone. A Conf UPDATE is applied as one validated
/// configuration (`BatteryManager.apply`) or refused whole with `conflict` (`A9`).
public struct BMSObjects: ThingSetModel {
    public var bms: BatteryManager
    /// The last measurement the BMS stepped on, if any.
    public var measurement: Measurement?
    public var tokens: AuthTokens
    /// `pNodeID`: 16 upper-case hex digits.
    public var nodeID: InlineArray<16, UInt8>
    public var firmwareVersion: StaticString
    /// The time UPDATEs are applied at (the caller keeps it current).
    public var now: Timestamp
    /// Set when a configuration was applied through ThingSet, for the caller to persist it.
    public var configChanged = false
    /// Why the last Conf UPDATE was refused (its first broken rule), if it was.
    public private(set) var lastViolation: ConfigViolation?
    var staged: BMSConfig?
    var stagedInputs: EnableInputs?
    /// The pay-as-you-go decoder, if the device is provisioned, and its clock (device-on
    /// seconds, see the PAYG module).
    public var payg: PAYGDevice?
    public var paygNow: UInt64 = 0
    /// The last events, for `Rec/EventLog_32`.
    public var log = EventLog()
    /// The bank, when this pack leads one (`Bank/…`), and the last fault it learned of
    /// another pack (`Bank/rFaultPack`, `rFault`, `rFaultCell`, `rFaultSensor`).
    public var bank: BankView?
    public var lastBankFault: BankNotice?
    /// `_Reporting/mLive`: periodic `mLive` reports on, and their period (at least 100 ms).
    public var reportEnable = true
    public var reportPeriodMs: UInt32 = 1000
    var stagedReport: (enable: Bool, periodMs: UInt32)?

    public init(bms: BatteryManager, tokens: AuthTokens, nodeID: InlineArray<16, UInt8>,
                firmwareVersion: StaticString, now: Timestamp) {
        self.bms = bms
        self.tokens = tokens
        self.nodeID = nodeID
        self.firmwareVersion = firmwareVersion
        self.now = now
    }

    // MARK: The table

    static let fixedCount = 78
    static let arrayCount = 4

    public var objectCount: Int { BMSObjects.fixedCount + ConfigField.singleValueCount + BMSObjects.arrayCount }

    public func object(at index: Int) -> ThingSetObject {
        if index < BMSObjects.fixedCount { return BMSObjects.fixed(index) }
        let k = index - BMSObjects.fixedCount
        let singles = ConfigField.singleValueCount
        if k < singles, let field = ConfigField.singleValue(at: k) {
            let (a, b, c) = field.nameParts
            return ThingSetObject(id: BMSObjects.id(of: field, plainIndex: k), parent: 0x05, name: ThingSetName(a, b, c),
                                  kind: .item(BMSObjects.type(of: field)), access: BMSObjects.access(a))
        }
        switch k - singles {
        case 0: return ThingSetObject(id: 0xB0, parent: 0x05, name: "sOcvPoints_V", kind: .item(.f32Array(count: 21, decimals: 3)),
                                      access: ThingSetObject.expertWrite)
        case 1: return ThingSetObject(id: 0x180, parent: 0x05, name: "pCellVoltageGain", kind: .item(.f32Array(count: 16, decimals: 5)),
                                      access: ThingSetObject.manufacturerWrite)
        case 2: return ThingSetObject(id: 0x181, parent: 0x05, name: "pCellVoltageOffset_V", kind: .item(.f32Array(count: 16, decimals: 4)),
                                      access: ThingSetObject.manufacturerWrite)
        default: return ThingSetObject(id: 0x182, parent: 0x05, name: "pThermistorOffset_K", kind: .item(.f32Array(count: 8, decimals: 2)),
                                       access: ThingSetObject.manufacturerWrite)
        }
    }

    static func fixed(_ index: Int) -> ThingSetObject {
        let r = ThingSetObject.readOnly, live: UInt8 = 1
        switch index {
        case 0: return ThingSetObject(id: 0x1D, parent: 0, name: "pNodeID", kind: .item(.string), access: r)
        case 1: return ThingSetObject(id: 0x20, parent: 0, name: "xAuth", kind: .function(returnsInt: false), access: ThingSetObject.readWrite)
        case 2: return ThingSetObject(id: 0x200, parent: 0x20, name: "uToken", kind: .parameter(.string), access: ThingSetObject.readWrite)
        case 3: return ThingSetObject(id: 0x04, parent: 0, name: "Device", kind: .group, access: r)
        case 4: return ThingSetObject(id: 0x40, parent: 0x04, name: "cManufacturer", kind: .item(.string), access: r)
        case 5: return ThingSetObject(id: 0x43, parent: 0x04, name: "cFirmwareVersion", kind: .item(.string), access: r)
        case 6: return ThingSetObject(id: 0x05, parent: 0, name: "Conf", kind: .group, access: r)
        case 7: return ThingSetObject(id: 0xA0, parent: 0x05, name: "xPresetNMC", kind: .function(returnsInt: true), access: ThingSetObject.expertWrite)
        case 8: return ThingSetObject(id: 0xA1, parent: 0xA0, name: "fCapacity_Ah", kind: .parameter(.f32(decimals: 1)), access: ThingSetObject.expertWrite)
        case 9: return ThingSetObject(id: 0xA2, parent: 0x05, name: "xPresetLFP", kind: .function(returnsInt: true), access: ThingSetObject.expertWrite)
        case 10: return ThingSetObject(id: 0xA3, parent: 0xA2, name: "fCapacity_Ah", kind: .parameter(.f32(decimals: 1)), access: ThingSetObject.expertWrite)
        case 11: return ThingSetObject(id: 0xA4, parent: 0x05, name: "xPresetLTO", kind: .function(returnsInt: true), access: ThingSetObject.expertWrite)
        case 12: return ThingSetObject(id: 0xA5, parent: 0xA4, name: "fCapacity_Ah", kind: .parameter(.f32(decimals: 1)), access: ThingSetObject.expertWrite)
        case 13: return ThingSetObject(id: 0x07, parent: 0, name: "Meas", kind: .group, access: r)
        case 14: return ThingSetObject(id: 0x71, parent: 0x07, name: "rPackVoltage_V", kind: .item(.f32(decimals: 2)), access: r, subsets: live)
        case 15: return ThingSetObject(id: 0x72, parent: 0x07, name: "rStackVoltage_V", kind: .item(.f32(decimals: 2)), access: r, subsets: live)
        case 16: return ThingSetObject(id: 0x73, parent: 0x07, name: "rPackCurrent_A", kind: .item(.f32(decimals: 2)), access: r, subsets: live)
        case 17: return ThingSetObject(id: 0x74, parent: 0x07, name: "rCellTemps_degC", kind: .item(.f32Array(count: 8, decimals: 1)), access: r, subsets: live)
        case 18: return ThingSetObject(id: 0x77, parent: 0x07, name: "rMOSFETTemp_degC", kind: .item(.f32(decimals: 1)), access: r, subsets: live)
        case 19: return ThingSetObject(id: 0x7C, parent: 0x07, name: "rSOC_pct", kind: .item(.f32(decimals: 1)), access: r, subsets: live)
        case 20: return ThingSetObject(id: 0x7E, parent: 0x07, name: "rErrorFlags", kind: .item(.u32), access: r, subsets: live)
        case 21: return ThingSetObject(id: 0x7F, parent: 0x07, name: "rBmsState", kind: .item(.u8), access: r, subsets: live)
        case 22: return ThingSetObject(id: 0x80, parent: 0x07, name: "rCellVoltages_V", kind: .item(.f32Array(count: 16, decimals: 3)), access: r, subsets: live)
        case 23: return ThingSetObject(id: 0x81, parent: 0x07, name: "rCellAvgVoltage_V", kind: .item(.f32(decimals: 3)), access: r, subsets: live)
        case 24: return ThingSetObject(id: 0x82, parent: 0x07, name: "rCellMinVoltage_V", kind: .item(.f32(decimals: 3)), access: r, subsets: live)
        case 25: return ThingSetObject(id: 0x83, parent: 0x07, name: "rCellMaxVoltage_V", kind: .item(.f32(decimals: 3)), access: r, subsets: live)
        case 26: return ThingSetObject(id: 0x84, parent: 0x07, name: "rBalancingStatus", kind: .item(.u32), access: r, subsets: live)
        case 27: return ThingSetObject(id: 0x1C0, parent: 0x07, name: "rSOH_pct", kind: .item(.f32(decimals: 1)), access: r)
        case 28: return ThingSetObject(id: 0x1C1, parent: 0x07, name: "rChargeCurrentLimit_A", kind: .item(.f32(decimals: 1)), access: r)
        case 29: return ThingSetObject(id: 0x1C2, parent: 0x07, name: "rDischargeCurrentLimit_A", kind: .item(.f32(decimals: 1)), access: r)
        case 30: return ThingSetObject(id: 0x09, parent: 0, name: "Input", kind: .group, access: r)
        case 31: return ThingSetObject(id: 0x90, parent: 0x09, name: "wChgEnable", kind: .item(.bool), access: ThingSetObject.readWrite)
        case 32: return ThingSetObject(id: 0x91, parent: 0x09, name: "wDisEnable", kind: .item(.bool), access: ThingSetObject.readWrite)
        case 33: return ThingSetObject(id: 0x31, parent: 0, name: "mLive", kind: .subset(bit: 0), access: r)
        case 34: return ThingSetObject(id: 0x08, parent: 0, name: "PAYG", kind: .group, access: r)
        case 35: return ThingSetObject(id: 0x1D0, parent: 0x08, name: "rPaygEnforced", kind: .item(.bool), access: r)
        case 36: return ThingSetObject(id: 0x1D1, parent: 0x08, name: "rPaygCreditLeft_s", kind: .item(.u32), access: r)
        case 37: return ThingSetObject(id: 0x1D2, parent: 0x08, name: "rPaygLocked", kind: .item(.bool), access: r)
        case 38: return ThingSetObject(id: 0x1D3, parent: 0x08, name: "rPaygLockoutLeft_s", kind: .item(.u32), access: r)
        case 39: return ThingSetObject(id: 0x1D4, parent: 0x08, name: "xPaygToken", kind: .function(returnsInt: true),
                                       access: ThingSetObject.readWrite)
        case 40: return ThingSetObject(id: 0x1D5, parent: 0x1D4, name: "uToken", kind: .parameter(.string),
                                       access: ThingSetObject.readWrite)
        case 41: return ThingSetObject(id: 0x06, parent: 0, name: "Rec", kind: .group, access: r)
        case 42: return ThingSetObject(id: 0x1E0, parent: 0x06, name: "EventLog_32", kind: .records(maximum: 32), access: r)
        case 43: return ThingSetObject(id: 0x1E1, parent: 0x1E0, name: "t_s", kind: .item(.u32), access: r)
        case 44: return ThingSetObject(id: 0x1E2, parent: 0x1E0, name: "rEvent", kind: .item(.string), access: r)
        case 45: return ThingSetObject(id: 0x1E3, parent: 0x1E0, name: "rFault", kind: .item(.string), access: r)
        case 46: return ThingSetObject(id: 0x1E4, parent: 0x1E0, name: "rCell", kind: .item(.u8), access: r)
        case 47: return ThingSetObject(id: 0x1E5, parent: 0x1E0, name: "rValue", kind: .item(.f32(decimals: 3)), access: r)
        case 48: return ThingSetObject(id: 0x1E6, parent: 0x1E0, name: "rBmsState", kind: .item(.u8), access: r)
        case 49: return ThingSetObject(id: 0x2F, parent: 0, name: "_Reporting", kind: .group, access: r)
        case 50: return ThingSetObject(id: 0x310, parent: 0x2F, name: "mLive", kind: .group, access: r)
        case 51: return ThingSetObject(id: 0x311, parent: 0x310, name: "sEnable", kind: .item(.bool), access: ThingSetObject.readWrite)
        case 52: return ThingSetObject(id: 0x313, parent: 0x310, name: "sPeriod_ms", kind: .item(.u32), access: ThingSetObject.readWrite)
        case 53: return ThingSetObject(id: 0x4A, parent: 0x04, name: "xShutdown", kind: .function(returnsInt: false),
                                       access: ThingSetObject.expertWrite)
        case 54: return ThingSetObject(id: 0x1F0, parent: 0x04, name: "xResetFaults", kind: .function(returnsInt: false),
                                       access: ThingSetObject.expertWrite)
        // What this pack tells the others of a bank (its `BankItem`s that `Meas` lacked).
        case 55: return ThingSetObject(id: 0x1C3, parent: 0x07, name: "rChargeVoltageLimit_V", kind: .item(.f32(decimals: 2)), access: r)
        case 56: return ThingSetObject(id: 0x1C4, parent: 0x07, name: "rDischargeVoltageLimit_V", kind: .item(.f32(decimals: 2)), access: r)
        case 57: return ThingSetObject(id: 0x1C5, parent: 0x07, name: "rWarningFlags", kind: .item(.u32), access: r)
        case 58: return ThingSetObject(id: 0x1C6, parent: 0x07, name: "rOpenCircuitVoltage_V", kind: .item(.f32(decimals: 2)), access: r)
        case 59: return ThingSetObject(id: 0x1C7, parent: 0x07, name: "rResistance_mOhm", kind: .item(.f32(decimals: 2)), access: r)
        case 60: return ThingSetObject(id: 0x1C8, parent: 0x07, name: "rBankFlags", kind: .item(.u8), access: r)
        case 61: return ThingSetObject(id: 0x1C9, parent: 0x07, name: "rLastTrip", kind: .item(.u32), access: r)
        case 62: return ThingSetObject(id: 0x1CC, parent: 0x07, name: "rCellMinTemp_degC", kind: .item(.f32(decimals: 1)), access: r)
        case 63: return ThingSetObject(id: 0x1CD, parent: 0x07, name: "rCellMaxTemp_degC", kind: .item(.f32(decimals: 1)), access: r)
        case 64: return ThingSetObject(id: 0x1CE, parent: 0x07, name: "rCellAvgTemp_degC", kind: .item(.f32(decimals: 1)), access: r)
        case 65: return ThingSetObject(id: 0x1CF, parent: 0x07, name: "rCellExtremes", kind: .item(.u32), access: r)
        // The bank as its leader sees it.
        case 66: return ThingSetObject(id: 0x0A, parent: 0, name: "Bank", kind: .group, access: r)
        case 67: return ThingSetObject(id: 0x190, parent: 0x0A, name: "rPacks", kind: .item(.u8), access: r)
        case 68: return ThingSetObject(id: 0x191, parent: 0x0A, name: "rPacksOnline", kind: .item(.u8), access: r)
        case 69: return ThingSetObject(id: 0x192, parent: 0x0A, name: "rLeader", kind: .item(.u8), access: r)
        case 70: return ThingSetObject(id: 0x193, parent: 0x0A, name: "rErrorFlags", kind: .item(.u32), access: r)
        case 71: return ThingSetObject(id: 0x194, parent: 0x0A, name: "rChargeCurrentLimit_A", kind: .item(.f32(decimals: 1)), access: r)
        case 72: return ThingSetObject(id: 0x195, parent: 0x0A, name: "rDischargeCurrentLimit_A", kind: .item(.f32(decimals: 1)), access: r)
        case 73: return ThingSetObject(id: 0x196, parent: 0x0A, name: "rSOC_pct", kind: .item(.f32(decimals: 1)), access: r)
        case 74: return ThingSetObject(id: 0x197, parent: 0x0A, name: "rFaultPack", kind: .item(.u8), access: r)
        case 75: return ThingSetObject(id: 0x198, parent: 0x0A, name: "rFault", kind: .item(.string), access: r)
        case 76: return ThingSetObject(id: 0x199, parent: 0x0A, name: "rFaultCell", kind: .item(.u8), access: r)
        default: return ThingSetObject(id: 0x19A, parent: 0x0A, name: "rFaultSensor", kind: .item(.u8), access: r)
        }
    }

    /// The reference firmware's ID of a setting, or the project's (see the type's comment).
    static func id(of field: ConfigField, plainIndex: Int) -> UInt16 {
        switch field {
        case .nominalCapacity: 0x50
        case .shortCircuitLimit: 0x51
        case .shortCircuitDelay: 0x52
        case .dischargeOvercurrent: 0x53
        case .dischargeOvercurrentDelay: 0x54
        case .chargeOvercurrent: 0x55
        case .chargeOvercurrentDelay: 0x56
        case .dischargeMaximumTemperature: 0x58
        case .dischargeMinimumTemperature: 0x59
        case .chargeMaximumTemperature: 0x5A
        case .chargeMinimumTemperature: 0x5B
        case .temperatureHysteresis: 0x5C
        case .cellOvervoltage: 0x60
        case .cellOvervoltageReset: 0x61
        case .cellOvervoltageDelay: 0x62
        case .cellUndervoltage: 0x63
        case .cellUndervoltageReset: 0x64
        case .cellUndervoltageDelay: 0x65
        case .balanceTargetVoltageDifference: 0x68
        case .balanceMinimumVoltage: 0x69
        case .balanceIdleDelay: 0x6A
        case .balanceIdleCurrent: 0x6B
        case .recoveryDelay(let f): 0x140 + 3 * UInt16(f.rawValue)
        case .latchAfter(let f): 0x141 + 3 * UInt16(f.rawValue)
        case .latchWindow(let f): 0x142 + 3 * UInt16(f.rawValue)
        default: 0x100 + UInt16(plainIndex)
        }
    }

    static func type(of field: ConfigField) -> ThingSetType {
        switch field.kind {
        case .float:
            // Cell voltages with 3 decimals (reference issue 8: 3.65 V printed as 3.6).
            let (a, _, _) = field.nameParts
            let n = a.utf8CodeUnitCount
            let volts = n >= 2 && a.utf8Start[n - 2] == UInt8(ascii: "_") && a.utf8Start[n - 1] == UInt8(ascii: "V")
            return .f32(decimals: volts ? 3 : 2)
        case .uint8: return .u8
        case .uint32: return .u32
        case .bool: return .bool
        case .chemistry: return .string
        }
    }

    /// Who writes a setting: the manufacturer its `p` items (calibration), experts every other
    /// one — the stored start values of the enable inputs (`Conf/wChgEnable`) included; the
    /// running inputs (`Input/…`) are anyone's.
    static func access(_ name: StaticString) -> UInt8 {
        name.utf8Start[0] == UInt8(ascii: "p") ? ThingSetObject.manufacturerWrite : ThingSetObject.expertWrite
    }

    /// The setting with ThingSet ID `id`, if it is a single-value setting.
    func field(id: UInt16) -> ConfigField? {
        for k in 0..<ConfigField.singleValueCount {
            guard let f = ConfigField.singleValue(at: k) else { break }
            if BMSObjects.id(of: f, plainIndex: k) == id { return f }
        }
        return nil
    }

    // MARK: Values

    public func encodeValue<E: ThingSetEncoder>(_ id: UInt16, to e: inout E) throws(ThingSetStatus) {
        let config = bms.config
        let cells = Int(config.pack.seriesCells)
        if let f = field(id: id) {
            switch config.value(of: f) {
            case .float(let x):
                guard case .f32(let d) = BMSObjects.type(of: f) else { throw .internalError }
                try e.float(x, decimals: d)
            case .unsigned(let n): try e.uint(UInt64(n))
            case .bool(let b): try e.bool(b)
            case .chemistry(let c): try e.text(ThingSetName(c.name))
            }
            return
        }
        let m = measurement
        switch id {
        case 0x1D:
            try withUnsafeBytes(of: nodeID) { raw throws(ThingSetStatus) in try e.text(raw.bindMemory(to: UInt8.self)) }
        case 0x40: try e.text("FlexBMS")
        case 0x43: try e.text(ThingSetName(firmwareVersion))
        case 0xB0: try floats(21, decimals: 3, &e) { config.ocvPoints[$0] }
        case 0x180: try floats(16, decimals: 5, &e) { config.calibration.cellGain[$0] }
        case 0x181: try floats(16, decimals: 4, &e) { config.calibration.cellOffset[$0] }
        case 0x182: try floats(8, decimals: 2, &e) { config.calibration.temperatureOffset[$0] }
        case 0x71:
            var sum: Float = 0
            for i in 0..<cells { sum += m?.cellVoltages[i] ?? 0 }
            try e.float(m == nil ? .nan : sum, decimals: 2)
        case 0x72: try e.float(m?.packVoltage ?? .nan, decimals: 2)
        case 0x73: try e.float(m?.current ?? .nan, decimals: 2)
        case 0x74:
            try floats(8, decimals: 1, &e) { k in
                guard let m, k < m.temperatureCount, m.temperatureRoles[k] == .cell else { return .nan }
                return m.temperatures[k]
            }
        case 0x77:
            var hottest = -Float.infinity
            if let m { for k in 0..<m.temperatureCount where m.temperatureRoles[k] == .mosfet { hottest = max(hottest, m.temperatures[k]) } }
            try e.float(hottest == -.infinity ? .nan : hottest, decimals: 1)
        case 0x7C: try e.float((bms.packSOC ?? .nan) * 100, decimals: 1)
        case 0x7E: try e.uint(UInt64(bms.protection.active.flags))
        case 0x7F: try e.uint(UInt64(bms.command.state.rawValue))
        case 0x80: try floats(16, decimals: 3, &e) { k in k < cells ? (m?.cellVoltages[k] ?? .nan) : 0 }
        case 0x81, 0x82, 0x83:
            var lo = Float.infinity, hi = -Float.infinity, sum: Float = 0
            for i in 0..<cells { let v = m?.cellVoltages[i] ?? .nan; lo = min(lo, v); hi = max(hi, v); sum += v }
            let value = m == nil ? Float.nan : id == 0x81 ? sum / Float(cells) : id == 0x82 ? lo : hi
            try e.float(value, decimals: 3)
        case 0x84: try e.uint(UInt64(bms.command.balanceMask))
        case 0x1C0: try e.float((bms.stateOfHealth ?? .nan) * 100, decimals: 1)
        case 0x1C1: try e.float(bms.limits.chargeCurrent, decimals: 1)
        case 0x1C2: try e.float(bms.limits.dischargeCurrent, decimals: 1)
        case 0x1D0: try e.bool(payg?.state.enabled ?? false)
        case 0x1D1: try e.uint(UInt64(min(payg?.secondsLeft(now: paygNow) ?? 0, UInt64(UInt32.max))))
        case 0x1D2: try e.bool(bms.payg.locked)
        case 0x1D3:
            let until = payg?.state.lockedUntil ?? 0
            try e.uint(until > paygNow ? min(until - paygNow, UInt64(UInt32.max)) : 0)
        case 0x311: try e.bool(reportEnable)
        case 0x313: try e.uint(UInt64(reportPeriodMs))
        case 0x1C3, 0x1C4, 0x1C5, 0x1C6, 0x1C7, 0x1C8, 0x1C9, 0x1CC, 0x1CD, 0x1CE, 0x1CF:
            let share = PackShare(bms, address: 0) ?? PackShare(address: 0)
            switch id {
            case 0x1C3: try e.float(share.chargeVoltageLimit, decimals: 2)
            case 0x1C4: try e.float(share.dischargeVoltageLimit, decimals: 2)
            case 0x1C5: try e.uint(UInt64(share.warnings.flags))
            case 0x1C6: try e.float(share.openCircuitVoltage, decimals: 2)
            case 0x1C7: try e.float(share.resistance * 1000, decimals: 2)
            case 0x1C8: try e.uint(UInt64(BankItem.flags(of: share)))
            case 0x1C9: try e.uint(UInt64(share.lastTripFault) << 8 | UInt64(share.lastTripLocation))
            case 0x1CC: try e.float(share.minTemperature, decimals: 1)
            case 0x1CD: try e.float(share.maxTemperature, decimals: 1)
            case 0x1CE: try e.float(share.temperature, decimals: 1)
            default: try e.uint(UInt64(share.minCell) << 8 | UInt64(share.maxCell))
            }
        case 0x190: try e.uint(UInt64(bank?.roster.count ?? 0))
        case 0x191: try e.uint(UInt64(bank?.limits.online ?? 0))
        case 0x192: try e.uint(UInt64(bank?.roster.leader ?? 0))
        case 0x193: try e.uint(UInt64(bank?.limits.faults.flags ?? 0))
        case 0x194: try e.float(bank?.limits.chargeCurrentLimit ?? .nan, decimals: 1)
        case 0x195: try e.float(bank?.limits.dischargeCurrentLimit ?? .nan, decimals: 1)
        case 0x196: try e.float((bank?.limits.stateOfCharge ?? .nan) * 100, decimals: 1)
        case 0x197: try e.uint(UInt64(lastBankFault?.address ?? 0))
        case 0x198: try e.text(lastBankFault?.fault.map { ThingSetName($0.logName) } ?? ThingSetName(""))
        case 0x199, 0x19A:
            // The cell for a voltage fault, the sensor for a temperature fault (from 1).
            let named = lastBankFault.flatMap { n in n.location.map { (n.fault?.concernsCell ?? true, Int($0) + 1) } }
            let wantCell = id == 0x199
            try e.uint(UInt64(named.map { $0.0 == wantCell ? $0.1 : 0 } ?? 0))
        case 0x90: try e.bool(bms.inputs.chargeEnable)
        case 0x91: try e.bool(bms.inputs.dischargeEnable)
        default: throw .notFound
        }
    }

    private func floats<E: ThingSetEncoder>(_ n: Int, decimals: UInt8, _ e: inout E, _ value: (Int) -> Float) throws(ThingSetStatus) {
        try e.arrayHeader(n)
        for k in 0..<n {
            if k > 0 { try e.separator() }
            try e.float(value(k), decimals: decimals)
        }
        try e.arrayEnd()
    }

    public func recordCount(_ id: UInt16) -> Int { id == 0x1E0 ? log.count : 0 }

    /// `pNodeID` compared without regard to case (python-thingset writes it in lower case).
    public func isOwnNodeID(_ eui: UnsafeBufferPointer<UInt8>) -> Bool {
        guard eui.count == 16 else { return false }
        for k in 0..<16 {
            let a = eui[k] >= 0x61 && eui[k] <= 0x66 ? eui[k] - 0x20 : eui[k]
            guard a == nodeID[k] else { return false }
        }
        return true
    }

    /// A refused configuration: its first broken rule, e.g. `sCellChargeVoltage_V: must be
    /// below sCellOvervoltage_V`.
    public func diagnostic(for status: ThingSetStatus, into text: inout DiagnosticText) -> Bool {
        guard status == .conflict, let v = lastViolation else { return false }
        let (a, b, c) = v.field.nameParts
        text.append(ThingSetName(a, b, c))
        text.append(StaticString(": "))
        text.append(v.rule.reason)
        if let other = v.other {
            let (x, y, z) = other.nameParts
            text.append(StaticString(" "))
            text.append(ThingSetName(x, y, z))
        }
        return true
    }

    public func encodeRecordItem<E: ThingSetEncoder>(_ records: UInt16, index: Int, item: UInt16,
                                                    to e: inout E) throws(ThingSetStatus) {
        guard records == 0x1E0, let event = log[index] else { throw .notFound }
        switch item {
        case 0x1E1: try e.uint(UInt64(event.time.milliseconds / 1000))
        case 0x1E2: try e.text(ThingSetName(event.kind.logName))
        case 0x1E3: try e.text(ThingSetName(event.fault?.logName ?? ""))
        case 0x1E4:
            // A cell number where the event is about a cell (a fault of a cell, a
            // self-discharging cell); 0 otherwise.
            var cell = 0
            if let i = event.index {
                if let f = event.fault, f.concernsCell {
                    cell = Int(i) + 1
                } else if event.fault == nil && event.kind == .selfDischarge {
                    cell = Int(i) + 1
                }
            }
            try e.uint(UInt64(cell))
        case 0x1E5: try e.float(event.value, decimals: 3)
        case 0x1E6: try e.uint(UInt64(event.state.rawValue))
        default: throw .notFound
        }
    }

    // MARK: UPDATE

    public mutating func stage(_ id: UInt16, _ value: ThingSetValue, message: UnsafeBufferPointer<UInt8>) throws(ThingSetStatus) {
        switch id {
        case 0x311, 0x313:
            var report = stagedReport ?? (reportEnable, reportPeriodMs)
            switch value {
            case .bool(let b) where id == 0x311: report.enable = b
            case .int(let n) where id == 0x313: report.periodMs = UInt32(max(n, 100))  // spec §6.3: at least 100 ms
            default: throw .unsupportedFormat
            }
            stagedReport = report
            return
        case 0x90, 0x91:
            guard case .bool(let b) = value else { throw .unsupportedFormat }
            var inputs = stagedInputs ?? bms.inputs
            if id == 0x90 { inputs.chargeEnable = b } else { inputs.dischargeEnable = b }
            stagedInputs = inputs
            return
        case 0xB0, 0x180, 0x181, 0x182:
            guard case .floats(let values, let n) = value else { throw .unsupportedFormat }
            var config = staged ?? bms.config
            for k in 0..<n {
                let f: ConfigField = id == 0xB0 ? .ocvPoint(.at(k)) : id == 0x180 ? .cellVoltageGain(.at(k))
                    : id == 0x181 ? .cellVoltageOffset(.at(k)) : .thermistorOffset(.at(k))
                do { try config.set(f, to: .float(values[k])) } catch { throw .unsupportedFormat }
            }
            staged = config
            return
        default:
            break
        }
        guard let f = field(id: id) else { throw .notFound }
        let converted: ConfigValue
        switch (f.kind, value) {
        case (.float, _):
            guard let x = value.number else { throw .unsupportedFormat }
            converted = .float(x)
        case (.uint8, .int(let n)), (.uint32, .int(let n)):
            guard n >= 0 && n <= Int64(UInt32.max) else { throw .unsupportedFormat }
            converted = .unsigned(UInt32(n))
        case (.bool, .bool(let b)):
            converted = .bool(b)
        case (.chemistry, .text(let r)):
            guard let c = BMSObjects.chemistry(named: UnsafeBufferPointer(rebasing: message[r])) else { throw .unsupportedFormat }
            converted = .chemistry(c)
        default:
            throw .unsupportedFormat
        }
        var config = staged ?? bms.config
        do { try config.set(f, to: converted) } catch { throw .unsupportedFormat }
        staged = config
    }

    static func chemistry(named bytes: UnsafeBufferPointer<UInt8>) -> Chemistry? {
        var raw: UInt8 = 0
        while let c = Chemistry(rawValue: raw) {
            if ThingSetName(c.name).equals(bytes) { return c }
            raw += 1
        }
        return nil
    }

    public mutating func commit() throws(ThingSetStatus) {
        defer { discard() }
        if let config = staged {
            let violations = config.validate()
            if !violations.isEmpty {
                lastViolation = violations[0]
                throw .conflict
            }
            do { try bms.apply(config, at: now) } catch { throw .conflict }
            lastViolation = nil
            configChanged = true
        }
        if let inputs = stagedInputs { bms.inputs = inputs }
        if let report = stagedReport { (reportEnable, reportPeriodMs) = report }
    }

    public mutating func discard() {
        staged = nil
        stagedInputs = nil
        stagedReport = nil
    }

    // MARK: EXEC

    /// Enters a token (its digits) into the PAYG decoder: logged as a `payg_entry` event, new
    /// credit in force at once. `nil` when the device has no PAYG provisioning.
    public mutating func enterToken(_ digits: UnsafeBufferPointer<UInt8>) -> PAYGEntryOutcome? {
        guard var device = payg else { return nil }
        let outcome: PAYGEntryOutcome
        var value: Float = 0
        switch device.enter(digits.span, now: paygNow) {
        case .accepted(_, let v, _): outcome = .accepted; value = Float(v)
        case .alreadyUsed: outcome = .alreadyUsed
        case .invalid: outcome = .invalid
        case .lockedOut: outcome = .lockedOut
        }
        payg = device
        bms.recordPAYGEntry(outcome, value: value, at: now)
        bms.updateCredit(PAYGCredit(enforced: device.state.enabled, secondsLeft: device.secondsLeft(now: paygNow),
                                    secondsExpired: device.secondsExpired(now: paygNow)), at: now)
        return outcome
    }

    public mutating func exec(_ id: UInt16, _ parameters: ThingSetParameters, message: UnsafeBufferPointer<UInt8>,
                              roles: inout ThingSetRoles) throws(ThingSetStatus) -> Int32? {
        switch id {
        case 0x20:
            guard case .text(let r) = parameters[0] else { throw .unsupportedFormat }
            roles = tokens.roles(for: UnsafeBufferPointer(rebasing: message[r]))
            return nil
        case 0x1D4:
            guard case .text(let r) = parameters[0] else { throw .unsupportedFormat }
            guard let outcome = enterToken(UnsafeBufferPointer(rebasing: message[r])) else { return -1 }
            return Int32(outcome.rawValue)
        case 0x4A:
            bms.shutdown(at: now)
            return nil
        case 0x1F0:
            bms.resetFaults(at: now)
            return nil
        case 0xA0, 0xA2, 0xA4:
            guard let capacity = parameters[0].number else { throw .unsupportedFormat }
            let chemistry: Chemistry = id == 0xA0 ? .nmc : id == 0xA2 ? .lfp : .lto
            let old = bms.config
            guard var config = BMSConfig.preset(chemistry, cells: old.pack.seriesCells, capacityAh: capacity,
                                                parallelCells: old.pack.parallelCells,
                                                boardMaximumCurrent: old.current.boardMaximum) else { return 0 }
            // The board's calibration belongs to the board, not to the chemistry.
            config.calibration = old.calibration
            guard config.validate().isEmpty else { return 0 }
            do { try bms.apply(config, at: now) } catch { return 0 }
            configChanged = true
            return 1
        default:
            throw .notFound
        }
    }
}
