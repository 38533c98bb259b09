import ArgumentParser
import BMSCore
import FlexBMSTools
import Foundation
import PackSim

extension FlexBMS {
    /// `flexbms bench …`: measurements that print JSON, run on demand.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Benchmarks that print JSON.",
            subcommands: [SimBench.self])
    }
}

extension FlexBMS.Bench {
    /// `flexbms bench sim`: closed-loop simulation speed of a 16-cell pack at 1 s steps.
    struct SimBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sim",
            abstract: "Closed-loop simulation speed: a 16S 280 Ah LFP second-life pack, off-grid profile, 1 s steps.",
            discussion: """
                Runs --days simulated days (default 30, a month) on one core and extrapolates
                the wall time of a simulated year. Build with -c release for meaningful numbers:
                swift run -c release flexbms bench sim --json
                """)

        @Option(help: "Simulated days to run (at least 1).")
        var days: Int = 30
        @Option(help: "Cell groups in series.")
        var cells: Int = 16
        @Flag(help: "Print JSON (the only output format; kept for symmetry with other commands).")
        var json = false

        func validate() throws {
            guard (1...366).contains(days) else { throw ValidationError("--days must be 1 to 366, got \(days)") }
            guard (3...16).contains(cells) else { throw ValidationError("--cells must be 3 to 16, got \(cells)") }
        }

        func run() throws {
            var setup = SimulationSetup(chemistry: .lfp, cells: cells, capacityAh: 280)
            setup.spread = .secondLife
            setup.seed = 1
            let profile = StandardProfile(.offgridDay, chemistry: .lfp, cells: cells, capacityAh: 280,
                                          chargeTargetPerCell: 3.55, seed: 1)
            var simulation = try Simulation(setup: setup, profile: profile)
            let report = SimulationRunner.run(&simulation, durationMs: UInt64(days) * 86_400_000,
                                              sampleMs: 3_600_000, profileName: "offgrid-day")
            #if DEBUG
            let build = "debug"
            #else
            let build = "release"
            #endif
            let steps = Double(report.stats.steps)
            let yearWall = report.wallSeconds * 365 / Double(days)
            print("""
                {
                  "benchmark": "sim",
                  "build": "\(build)",
                  "cells": \(cells),
                  "step_s": 1,
                  "simulated_days": \(days),
                  "steps": \(report.stats.steps),
                  "wall_s": \(String(format: "%.3f", report.wallSeconds)),
                  "steps_per_s": \(String(format: "%.0f", steps / report.wallSeconds)),
                  "cell_steps_per_s": \(String(format: "%.0f", report.cellStepsPerSecond)),
                  "year_wall_s_extrapolated": \(String(format: "%.1f", yearWall)),
                  "trips": \(report.events.filter { $0.kind == "trip" }.count)
                }
                """)
        }
    }
}
