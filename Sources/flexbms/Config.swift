import ArgumentParser
import BMSCore
import FlexBMSTools
import Foundation

extension FlexBMS {
    /// `flexbms config …`: configuration files on the host.
    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show, check and edit configuration files.",
            discussion: """
                Configuration files are JSON objects keyed by the ThingSet names of the \
                settings (sCellOvervoltage_V, ...). Keys left out take the preset of the \
                file's sCellChemistry, sSeriesCellCount and sNominalCapacity_Ah.
                """,
            subcommands: [Show.self, Check.self, Set.self])
    }
}

extension FlexBMS.Config {
    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the preset configuration of a chemistry as a configuration file.")

        @Option(help: "Cell chemistry.")
        var chemistry: ChemistryArgument

        @Option(help: "Cell groups in series (3-16).")
        var cells: Int

        @Option(help: "Nominal capacity in Ah.")
        var capacity: Float = 100

        @Option(help: "Cells in parallel per group.")
        var parallel: Int = 1

        @Option(name: .customLong("board-max-current"), help: "Board maximum current in A.")
        var boardMaxCurrent: Float = BMSConfig.defaultBoardMaximumCurrent

        @Option(help: "Write the file here instead of printing it (replaced atomically).")
        var out: String?

        func validate() throws {
            guard (3...16).contains(cells) else {
                throw ValidationError("--cells must be 3 to 16, got \(cells)")
            }
            guard (1...64).contains(parallel) else {
                throw ValidationError("--parallel must be 1 to 64, got \(parallel)")
            }
            guard capacity.isFinite, capacity >= 1, capacity <= 5000 else {
                throw ValidationError("--capacity must be 1 to 5000 Ah, got \(capacity)")
            }
            guard boardMaxCurrent.isFinite, boardMaxCurrent >= 1, boardMaxCurrent <= 1000 else {
                throw ValidationError("--board-max-current must be 1 to 1000 A, got \(boardMaxCurrent)")
            }
        }

        func run() throws {
            let config = BMSConfig.preset(chemistry.chemistry, cells: UInt8(cells),
                                          capacityAh: capacity, parallelCells: UInt8(parallel),
                                          boardMaximumCurrent: boardMaxCurrent)!
            let violations = config.validate()
            guard violations.isEmpty else {
                // A preset that fails its own rules is a bug, not a user error: say so loudly.
                printViolations(violations, to: "preset")
                throw ExitCode(3)
            }
            if let out {
                try ConfigFile.write(config, to: out)
                print("wrote \(out)")
            } else {
                print(ConfigFile.encode(config), terminator: "")
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate configuration files; exit 1 if any is invalid, 2 if unreadable.")

        @Argument(help: "Configuration files (JSON).")
        var files: [String]

        func run() throws {
            var worst: Int32 = 0
            for file in files {
                do {
                    let decoded = try ConfigFile.read(path: file)
                    let violations = decoded.config.validate()
                    if violations.isEmpty {
                        let c = decoded.config.pack
                        print("\(file): valid (\(c.chemistry.name), \(c.seriesCells) cells, "
                              + "\(format(c.capacityAh)) Ah; \(decoded.fromPreset.count) settings from the preset)")
                    } else {
                        printViolations(violations, to: file)
                        worst = max(worst, 1)
                    }
                } catch {
                    printError("\(file): \(error)")
                    worst = 2
                }
            }
            if worst != 0 { throw ExitCode(worst) }
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change settings in a configuration file, only if the result is valid.",
            discussion: """
                Example: flexbms config set pack.json sCellOvervoltage_V=3.65 sCellChargeVoltage_V=3.50
                The whole result is validated; if any rule is broken the file is left untouched.
                """)

        @Argument(help: "Configuration file to edit.")
        var file: String

        @Argument(help: "Settings as NAME=VALUE.")
        var assignments: [String]

        func run() throws {
            var config: BMSConfig
            do {
                config = try ConfigFile.read(path: file).config
            } catch {
                printError("\(file): \(error)")
                throw ExitCode(2)
            }
            for assignment in assignments {
                guard let eq = assignment.firstIndex(of: "=") else {
                    printError("\(assignment): expected NAME=VALUE")
                    throw ExitCode(2)
                }
                let name = String(assignment[..<eq]), text = String(assignment[assignment.index(after: eq)...])
                do {
                    try ConfigFile.set(name, text: text, in: &config)
                } catch {
                    printError("\(error)")
                    throw ExitCode(2)
                }
            }
            let violations = config.validate()
            guard violations.isEmpty else {
                printViolations(violations, to: "\(file) (not changed)")
                throw ExitCode(1)
            }
            try ConfigFile.write(config, to: file)
            print("\(file): updated")
            let derived = ["sNominalCapacity_Ah", "sCellChemistry", "sSeriesCellCount", "sBoardMaxCurrent_A"]
            if let changed = assignments.first(where: { a in derived.contains { a.hasPrefix($0 + "=") } }) {
                print("note: \(changed) does not recompute the other limits; to start from the "
                      + "preset for it, use `flexbms config show` with the new values")
            }
        }
    }
}

func printViolations(_ violations: ConfigViolations, to name: String) {
    let extra = violations.dropped > 0 ? " (and \(violations.dropped) more)" : ""
    printError("\(name): invalid, \(violations.count) rule(s) broken\(extra):")
    for v in violations { printError("  - \(v)") }
}

func printError(_ text: String) {
    fflush(nil)  // flush stdout first: keeps both in order when they go to one file
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
