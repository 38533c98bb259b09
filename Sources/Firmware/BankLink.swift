import BMSCore
import ThingSet

/// One pack's side of the bank bus: it publishes its `PackShare` as ThingSet single-frame CAN
/// reports (one data item per frame, spec §11.5) once a second — at once, and at priority 5
/// rather than 7 (decision D15), when its faults or its allowed directions change — and
/// builds the roster from the others' reports. The items keep the `Meas` IDs where they
/// exist (`rStackVoltage_V` 0x72, the terminal voltage, `rPackCurrent_A` 0x73, `rSOC_pct` 0x7C, `rErrorFlags` 0x7E, `rSOH_pct` 0x1C0, the
/// current limits 0x1C1/0x1C2, `rCellMinVoltage_V`/`rCellMaxVoltage_V` 0x82/0x83, and
/// `sNominalCapacity_Ah` 0x50); the others are new `Meas` items 0x1C3–0x1C9 and 0x1CC–0x1CF
/// (see `BankItem` and `BMSObjects`).
public struct BankLink: Sendable {
    public private(set) var roster: BankRoster
    public var gate: JoinGate
    var lastSetAt: UInt32?
    var sentFaults: UInt32 = 0
    var sentFlags: UInt8 = 0
    /// What `notices()` last saw of each other pack: its address and fault bits.
    var seen = FixedList<8, (address: UInt8, faults: UInt32)>()

    public init(own: PackShare, joinDifference: Float = 1.0) {
        roster = BankRoster(own: own)
        gate = JoinGate(joinDifference: joinDifference)
    }

    public var address: UInt8 { roster.own.address }

    /// Takes this pack's share after its step; hands `send` the frames due at `now` ms.
    public mutating func publish(_ share: PackShare, now: UInt32, send: (CANFrame) -> Void) {
        roster.update(own: share)
        let flags = BankItem.flags(of: share)
        let changed = share.faults.flags != sentFaults || flags != sentFlags
        let due = lastSetAt.map { now &- $0 >= 1000 } ?? true
        guard changed || due else { return }
        lastSetAt = now
        sentFaults = share.faults.flags
        sentFlags = flags
        // Flags and faults first: a receiver learns at once that a pack left the bus.
        let priority: UInt8 = changed ? 5 : 7
        var i = 0
        while let item = BankItem.inOrder(i) {
            if let frame = item.frame(share, priority: priority) { send(frame) }
            i += 1
        }
    }

    /// A frame from the bank bus at `now` ms; returns the address of the pack it came from
    /// when it was a bank item.
    @discardableResult
    public mutating func receive(_ frame: CANFrame, now: UInt32) -> UInt8? {
        guard !frame.fd, let id = ThingSetCANID(raw: frame.id),
              case .singleFrameReport(_, let itemID, let source) = id,
              source != address, let item = BankItem(rawValue: itemID) else { return nil }
        var share = roster.share(of: source) ?? PackShare(address: source)
        let bytes = frame.data
        let count = frame.count
        let ok = bytes.span.withUnsafeBufferPointer { buffer in
            item.take(UnsafeBufferPointer(rebasing: buffer[0..<count]), into: &share)
        }
        guard ok else { return nil }
        roster.receive(share, at: now)
        return source
    }

    /// Forgets packs not heard for the roster's timeout; returns how many left.
    public mutating func expire(now: UInt32) -> Int { roster.expire(now: now) }

    /// What changed in the other packs since the last call: packs that joined or left, and
    /// faults they newly report (with the cell or sensor they name, when it is that fault's).
    public mutating func notices() -> FixedList<16, BankNotice> {
        var out = FixedList<16, BankNotice>()
        // Departures.
        var i = 0
        while i < seen.count {
            let address = seen[i].address
            if roster.share(of: address) == nil {
                out.append(BankNotice(kind: .left, address: address))
                let last = seen.count - 1
                if i != last { seen[i] = seen[last] }
                seen.removeLast()
            } else {
                i += 1
            }
        }
        // Arrivals and new faults.
        for k in 1..<max(roster.count, 1) {
            let p = roster[k]
            var index: Int?
            for j in 0..<seen.count where seen[j].address == p.address { index = j }
            let before: UInt32
            if let j = index {
                before = seen[j].faults
                seen[j].faults = p.faults.flags
            } else {
                before = 0
                seen.append((p.address, p.faults.flags))
                out.append(BankNotice(kind: .joined, address: p.address))
            }
            let new = p.faults.flags & ~before
            guard new != 0 else { continue }
            for fault in Fault.allCases where new & fault.flag != 0 {
                let named = p.lastTripFault == fault.rawValue + 1 && p.lastTripLocation > 0
                out.append(BankNotice(kind: .fault, address: p.address, fault: fault,
                                      location: named ? p.lastTripLocation - 1 : nil))
            }
        }
        return out
    }
}

/// A change in the bank, for the leader's event log.
public struct BankNotice: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case joined, left, fault }
    public var kind: Kind
    public var address: UInt8
    public var fault: Fault?
    /// The cell or sensor (0-based) the fault names.
    public var location: UInt8?

    public init(kind: Kind, address: UInt8, fault: Fault? = nil, location: UInt8? = nil) {
        self.kind = kind
        self.address = address
        self.fault = fault
        self.location = location
    }

    /// The event kind it is logged as.
    public var eventKind: BMSEventKind {
        switch kind {
        case .joined: .packJoined
        case .left: .packLeft
        case .fault: .bankFault
        }
    }
}

/// The data items of a pack's share on the bank bus.
public enum BankItem: UInt16, CaseIterable, Sendable {
    case flags = 0x1C8
    case errorFlags = 0x7E
    case lastTrip = 0x1C9
    case voltage = 0x72
    case current = 0x73
    case stateOfCharge = 0x7C
    case stateOfHealth = 0x1C0
    case capacity = 0x50
    case chargeCurrentLimit = 0x1C1
    case dischargeCurrentLimit = 0x1C2
    case chargeVoltageLimit = 0x1C3
    case dischargeVoltageLimit = 0x1C4
    case warningFlags = 0x1C5
    case openCircuitVoltage = 0x1C6
    case resistance = 0x1C7
    case minCellVoltage = 0x82
    case maxCellVoltage = 0x83
    case minTemperature = 0x1CC
    case maxTemperature = 0x1CD
    case temperature = 0x1CE
    case cellExtremes = 0x1CF

    /// The items in sending order (a switch, not `allCases`: no array on the device).
    static func inOrder(_ i: Int) -> BankItem? {
        switch i {
        case 0: .flags
        case 1: .errorFlags
        case 2: .lastTrip
        case 3: .voltage
        case 4: .current
        case 5: .stateOfCharge
        case 6: .stateOfHealth
        case 7: .capacity
        case 8: .chargeCurrentLimit
        case 9: .dischargeCurrentLimit
        case 10: .chargeVoltageLimit
        case 11: .dischargeVoltageLimit
        case 12: .warningFlags
        case 13: .openCircuitVoltage
        case 14: .resistance
        case 15: .minCellVoltage
        case 16: .maxCellVoltage
        case 17: .minTemperature
        case 18: .maxTemperature
        case 19: .temperature
        case 20: .cellExtremes
        default: nil
        }
    }

    /// Bit 0 charge allowed, 1 discharge allowed, 2 connected, 3 full, 4 empty, 5 charge
    /// held, 6 discharge held (by the join check).
    static func flags(of s: PackShare) -> UInt8 {
        (s.allowed.contains(.charge) ? 1 : 0) | (s.allowed.contains(.discharge) ? 2 : 0)
            | (s.connected ? 4 : 0) | (s.full ? 8 : 0) | (s.empty ? 16 : 0)
            | (s.chargeHeld ? 32 : 0) | (s.dischargeHeld ? 64 : 0)
    }

    func value(_ s: PackShare) -> Float? {
        switch self {
        case .voltage: s.voltage
        case .current: s.current
        case .stateOfCharge: s.stateOfCharge * 100
        case .stateOfHealth: s.stateOfHealth * 100
        case .capacity: s.capacity
        case .chargeCurrentLimit: s.chargeCurrentLimit
        case .dischargeCurrentLimit: s.dischargeCurrentLimit
        case .chargeVoltageLimit: s.chargeVoltageLimit
        case .dischargeVoltageLimit: s.dischargeVoltageLimit
        case .openCircuitVoltage: s.openCircuitVoltage
        case .resistance: s.resistance * 1000
        case .minCellVoltage: s.minCellVoltage
        case .maxCellVoltage: s.maxCellVoltage
        case .minTemperature: s.minTemperature
        case .maxTemperature: s.maxTemperature
        case .temperature: s.temperature
        case .flags, .errorFlags, .lastTrip, .warningFlags, .cellExtremes: nil
        }
    }

    func integer(_ s: PackShare) -> UInt32 {
        switch self {
        case .flags: UInt32(BankItem.flags(of: s))
        case .errorFlags: s.faults.flags
        case .warningFlags: s.warnings.flags
        case .lastTrip: UInt32(s.lastTripFault) << 8 | UInt32(s.lastTripLocation)
        case .cellExtremes: UInt32(s.minCell) << 8 | UInt32(s.maxCell)
        default: 0
        }
    }

    /// The item's frame: its value in CBOR (a float32, or an unsigned integer).
    func frame(_ s: PackShare, priority: UInt8) -> CANFrame? {
        var payload = InlineArray<8, UInt8>(repeating: 0)
        var span = payload.mutableSpan
        let count = span.withUnsafeMutableBufferPointer { buffer -> Int in
            var w = CBORWriter(buffer)
            do throws(CBORError) {
                if let v = value(s) { try w.float(v) } else { try w.uint(UInt64(integer(s))) }
            } catch {
                return 0
            }
            return w.count
        }
        guard count > 0 else { return nil }
        var frame = CANFrame(id: ThingSetCANID.singleFrameReport(priority: priority, item: rawValue,
                                                                  source: s.address).raw)
        for i in 0..<count { frame.append(payload[i]) }
        return frame
    }

    /// Reads the item's value into `share`; false when it does not decode.
    func take(_ data: UnsafeBufferPointer<UInt8>, into s: inout PackShare) -> Bool {
        var r = CBORReader(data)
        do throws(CBORError) {
            if value(s) != nil {
                let v = try r.readFloat()
                guard v.isFinite else { return false }
                switch self {
                case .voltage: s.voltage = v
                case .current: s.current = v
                case .stateOfCharge: s.stateOfCharge = v / 100
                case .stateOfHealth: s.stateOfHealth = v / 100
                case .capacity: s.capacity = v
                case .chargeCurrentLimit: s.chargeCurrentLimit = v
                case .dischargeCurrentLimit: s.dischargeCurrentLimit = v
                case .chargeVoltageLimit: s.chargeVoltageLimit = v
                case .dischargeVoltageLimit: s.dischargeVoltageLimit = v
                case .openCircuitVoltage: s.openCircuitVoltage = v
                case .resistance: s.resistance = v / 1000
                case .minCellVoltage: s.minCellVoltage = v
                case .maxCellVoltage: s.maxCellVoltage = v
                case .minTemperature: s.minTemperature = v
                case .maxTemperature: s.maxTemperature = v
                case .temperature: s.temperature = v
                default: break
                }
            } else {
                let v = try r.readUInt()
                guard v <= 0xFFFF_FFFF else { return false }
                let u = UInt32(v)
                switch self {
                case .flags:
                    var allowed = Directions.none
                    if u & 1 != 0 { allowed.insert(.charge) }
                    if u & 2 != 0 { allowed.insert(.discharge) }
                    s.allowed = allowed
                    s.connected = u & 4 != 0
                    s.full = u & 8 != 0
                    s.empty = u & 16 != 0
                    s.chargeHeld = u & 32 != 0
                    s.dischargeHeld = u & 64 != 0
                case .errorFlags: s.faults = FaultSet(flags: u)
                case .warningFlags: s.warnings = FaultSet(flags: u)
                case .lastTrip:
                    s.lastTripFault = UInt8(truncatingIfNeeded: u >> 8)
                    s.lastTripLocation = UInt8(truncatingIfNeeded: u)
                case .cellExtremes:
                    s.minCell = UInt8(truncatingIfNeeded: u >> 8)
                    s.maxCell = UInt8(truncatingIfNeeded: u)
                default: break
                }
            }
        } catch {
            return false
        }
        return true
    }
}
