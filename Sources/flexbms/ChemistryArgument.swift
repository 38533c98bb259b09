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
