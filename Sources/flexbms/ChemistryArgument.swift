import ArgumentParser
import BMSCore
import FlexBMSTools

/// `--chemistry lfp|nmc|nca|lto` (presets only: `custom` has no table to show).
enum ChemistryArgument: String, ExpressibleByArgument, CaseIterable {
    case lfp, nmc, nca, lto

    var chemistry: Chemistry {
        switch self {
        case .lfp: .lfp
        case .nmc: .nmc
        case .nca: .nca
        case .lto: .lto
        }
    }
}

/// The check of a cell-capacity option (`--capacity` of `bench soc` and `calibrate model`).
func validateCapacityOption<T: BinaryFloatingPoint>(_ capacity: T) throws {
    guard capacity.isFinite, capacity > 0, capacity <= 5000 else {
        throw ValidationError("--capacity must be above 0 and at most 5000 Ah, got \(capacity)")
    }
}
