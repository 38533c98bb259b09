/// A fault the simulator can inject into the plant or the world. What the BMS makes of it is
/// the point of the exercise: the simulator never tells the BMS.
public enum InjectedFaultKind: UInt8, CaseIterable, Sendable {
    /// The charger's voltage regulation fails: it regulates to 120 % of its setting.
    case chargerOvervoltage
    /// Internal short in one cell group: a leak of 2 % of its capacity per hour.
    case cellShort
    /// The sense wire above one cell opens: that cell reads 0 V, the next one reads both.
    case openWire
    /// One thermistor (cell sensors first, then MOSFET, board) reads open: −60 °C.
    case thermistorOpen
    /// One thermistor reads shorted: +160 °C.
    case thermistorShort
    /// A short circuit on the load side: 50 C of demand.
    case loadShort
    /// A sustained overload: 1.5 × the discharge over-current limit.
    case overload
    /// The AFE stops answering: measurements freeze.
    case afeSilent
    /// Ambient falls to −20 °C.
    case coldAmbient
    /// Ambient rises to +55 °C.
    case hotAmbient
    /// A soft internal short in one cell group: it loses 1 % of its capacity per day (30 % a
    /// month, twenty times a healthy LFP cell): the cell a technician must find and replace.
    case cellLeak
    /// The inverter stops sending its CAN keep-alive (with `--inverter`).
    case inverterSilent
    /// A pack of a bank loses its CAN bus (`can-silent:PACK`): it neither sends nor hears.
    case canSilent

    /// The name used on the command line (`cell-short:7@2d`).
    public var name: StaticString {
        switch self {
        case .chargerOvervoltage: "charger-overvoltage"
        case .cellShort: "cell-short"
        case .openWire: "open-wire"
        case .thermistorOpen: "thermistor-open"
        case .thermistorShort: "thermistor-short"
        case .loadShort: "load-short"
        case .overload: "overload"
        case .afeSilent: "afe-silent"
        case .coldAmbient: "cold-ambient"
        case .hotAmbient: "hot-ambient"
        case .cellLeak: "cell-leak"
        case .inverterSilent: "inverter-silent"
        case .canSilent: "can-silent"
        }
    }

    /// What the `:N` index means for this kind, or `nil` when it takes none.
    public var target: FaultTarget? {
        switch self {
        case .cellShort, .openWire, .cellLeak: .cell
        case .thermistorOpen, .thermistorShort: .sensor
        default: nil
        }
    }

    /// A one-line description for `--list-faults`.
    public var summary: StaticString {
        switch self {
        case .chargerOvervoltage: "charger regulates to 120 % of its voltage setting"
        case .cellShort: "internal short in cell group N: leaks 2 % of its capacity per hour"
        case .openWire: "sense wire above cell N opens: N reads 0 V, N+1 reads both"
        case .thermistorOpen: "thermistor N reads open (-60 C); cell sensors first, then MOSFET, board"
        case .thermistorShort: "thermistor N reads shorted (+160 C)"
        case .loadShort: "short circuit on the load side (50 C demand)"
        case .overload: "sustained load of 1.5 x the discharge over-current limit"
        case .afeSilent: "the AFE stops answering; measurements freeze"
        case .coldAmbient: "ambient drops to -20 C"
        case .hotAmbient: "ambient rises to +55 C"
        case .cellLeak: "soft internal short in cell group N: loses 1 % of its capacity per day"
        case .inverterSilent: "with --inverter: the inverter stops sending its CAN keep-alive (0x305)"
        case .canSilent: "with --packs: the pack (can-silent:PACK@TIME) loses its CAN bus, neither sending nor hearing"
        }
    }
}

/// What a fault's index designates.
public enum FaultTarget: Sendable {
    case cell, sensor
}

/// One fault at one time: `kind` on cell or sensor `index` (0-based) from `atMilliseconds` on.
public struct ScheduledFault: Sendable, Equatable {
    public var kind: InjectedFaultKind
    public var index: Int
    public var atMilliseconds: UInt64

    public init(kind: InjectedFaultKind, index: Int = 0, atMilliseconds: UInt64) {
        self.kind = kind
        self.index = index
        self.atMilliseconds = atMilliseconds
    }
}
