import ArgumentParser

/// The FlexBMS command-line tool. Only configuration lives here; each group of subcommands
/// has its own file.
@main
struct FlexBMS: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flexbms",
        abstract: "FlexBMS: configure, simulate and talk to a FlexBMS battery management system.",
        version: "0.1.0",
        subcommands: [Config.self, Sim.self, Emulate.self, Calibrate.self, Bench.self, PAYGCommand.self,
                      Get.self, Set.self, Exec.self, Schema.self, Monitor.self, Log.self]
    )
}
