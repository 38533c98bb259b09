import BMSCore
import PackSim

extension Fault {
    /// snake_case name for reports: `cell_overvoltage`, `short_circuit`, …
    public var snakeName: String { "\(logName)" }
}

extension BMSEventKind {
    /// The report name: trip, release, warning, warning_cleared, latch, latch_cleared, state,
    /// full, full_cleared, config.
    public var reportName: String { "\(logName)" }
}

extension BMSState {
    /// OFF, CHG, DIS, NORMAL, SHUTDOWN as the Libre Solar app shows them.
    public var reportName: String { "\(logName)" }
}

extension InjectedFaultKind {
    public init?(name: String) {
        guard let kind = InjectedFaultKind.allCases.first(where: { "\($0.name)" == name }) else { return nil }
        self = kind
    }
}

extension StandardProfile.Kind {
    public init?(name: String) {
        guard let kind = StandardProfile.Kind.allCases.first(where: { "\($0.name)" == name }) else { return nil }
        self = kind
    }
}

extension SpreadPreset {
    public init?(name: String) {
        guard let preset = SpreadPreset.allCases.first(where: { "\($0.name)" == name }) else { return nil }
        self = preset
    }
}
