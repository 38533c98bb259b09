/// Cell chemistry of the pack. Selects a preset table; `custom` means every threshold was set
/// by hand and no preset applies.
public enum Chemistry: UInt8, CaseIterable, Sendable {
    /// Lithium iron phosphate (LiFePO4 / graphite).
    case lfp = 0
    /// Lithium nickel manganese cobalt oxide (NMC / graphite), including second-life EV cells.
    case nmc = 1
    /// Lithium nickel cobalt aluminium oxide (NCA / graphite).
    case nca = 2
    /// Lithium titanate anode (LTO).
    case lto = 3
    /// Thresholds set by hand; there is no preset table.
    case custom = 4

    /// The name used in configuration files and on ThingSet (`"LFP"`, …, `"custom"`).
    public var name: StaticString {
        switch self {
        case .lfp: "LFP"
        case .nmc: "NMC"
        case .nca: "NCA"
        case .lto: "LTO"
        case .custom: "custom"
        }
    }
}
