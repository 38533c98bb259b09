import ArgumentParser
import AFE
import BMSCore
import Firmware
import FlexBMSLink
import FlexBMSTools
import ThingSet
import Foundation
import PackSim

extension FlexBMS {
    /// `flexbms bench …`: measurements that print JSON, run on demand.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Benchmarks that print JSON.",
            subcommands: [SimBench.self, CoreBench.self, StepBench.self, SOCBenchCommand.self, ThingSetBench.self])
    }
}

extension FlexBMS.Bench {
    /// `flexbms bench sim`: closed-loop simulation speed of a 16-cell pack at 1 s steps.
    struct SimBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sim",
            abstract: "Closed-loop simulation speed: a 16S 280 Ah LFP second-life pack, off-grid profile, 1 s steps.",
            discussion: """
                Runs --days simulated days (default 30, a month) on one core and extrapolates \
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
            let profile = StandardProfile(.offgridDay, config: setup.bmsConfig!, seed: 1)
            var simulation = try Simulation(setup: setup, profile: profile)
            let report = SimulationRunner.run(&simulation, durationMs: UInt64(days) * 86_400_000,
                                              sampleMs: 3_600_000, profileName: "offgrid-day")
            let build = benchBuild
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

extension FlexBMS.Bench {
    /// `flexbms bench core`: the cost of one BMS control step on the host.
    struct CoreBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "core",
            abstract: "Time per BatteryManager.step for a 16-cell pack with noisy measurements.",
            discussion: "Build with -c release: swift run -c release flexbms bench core --json")

        @Option(help: "Steps to run.")
        var steps: Int = 2_000_000
        @Flag(help: "Print JSON (the only output format).")
        var json = false

        func validate() throws {
            guard (1_000...100_000_000).contains(steps) else {
                throw ValidationError("--steps must be 1000 to 100000000, got \(steps)")
            }
        }

        func run() throws {
            let config = BMSConfig.preset(.lfp, cells: 16, capacityAh: 280)!
            var bms = try BatteryManager(config: config)
            var random = SimRandom(seed: 1)
            // 64 prepared measurements, cycled, so the timing is the BMS's and not the noise's.
            var samples: [BMSCore.Measurement] = []
            for k in 0..<64 {
                var m = BMSCore.Measurement(timestamp: Timestamp(milliseconds: 0), cellVoltage: 3.3,
                                    current: random.uniform(-60, 60))
                var stack: Float = 0
                for i in 0..<16 {
                    m.cellVoltages[i] = 3.25 + 0.02 * random.gaussian()
                    stack += m.cellVoltages[i]
                }
                m.stackVoltage = stack
                for _ in 0..<4 { m.addTemperature(25 + random.gaussian(), role: .cell) }
                m.addTemperature(30, role: .mosfet)
                m.addTemperature(28, role: .board)
                m.chargeSwitchReadback = k % 2 == 0
                samples.append(m)
            }
            var events = 0
            var onCount = 0
            let clock = ContinuousClock()
            let start = clock.now
            for n in 0..<steps {
                var m = samples[n & 63]
                let now = Timestamp(milliseconds: UInt32(truncatingIfNeeded: n &* 100))
                m.timestamp = now
                let command = bms.step(m, now: now)
                if command.switches.dischargeOn { onCount += 1 }
                while bms.nextEvent() != nil { events += 1 }
            }
            let elapsed = clock.now - start
            let seconds = benchSeconds(elapsed)
            let build = benchBuild
            print("""
                {
                  "benchmark": "core",
                  "build": "\(build)",
                  "cells": 16,
                  "steps": \(steps),
                  "wall_s": \(String(format: "%.3f", seconds)),
                  "ns_per_step": \(String(format: "%.1f", seconds * 1e9 / Double(steps))),
                  "events": \(events),
                  "discharge_on_steps": \(onCount)
                }
                """)
        }
    }
}

extension FlexBMS.Bench {
    /// `flexbms bench thingset`: requests per second and latency of the ThingSet node over
    /// loopback TCP, client and server in one thread (each request waits for its answer).
    struct ThingSetBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "thingset",
            abstract: "Requests per second and p50/p99 latency of ThingSet over loopback TCP.",
            discussion: "A 16S LFP BMS's objects behind the TCP server; the client sends GET rSOC_pct, GET Meas (the whole group), FETCH two values and UPDATE wChgEnable in turn. Build with -c release: swift run -c release flexbms bench thingset --json")

        @Option(help: "Requests to send.")
        var requests: Int = 20_000
        @Flag(help: "Print JSON (the only output format).")
        var json = false

        func validate() throws {
            guard (100...10_000_000).contains(requests) else {
                throw ValidationError("--requests must be 100 to 10000000, got \(requests)")
            }
        }

        func run() throws {
            var bms = try BatteryManager(config: BMSConfig.preset(.lfp, cells: 16, capacityAh: 100)!)
            var m = BMSCore.Measurement(timestamp: Timestamp(milliseconds: 0), cellVoltage: 3.3, current: -5)
            m.addTemperature(25, role: .cell)
            m.stackVoltage = 52.8
            _ = bms.step(m, now: Timestamp(milliseconds: 0))
            var objects = BMSObjects(bms: bms, tokens: AuthTokens(expert: "expert", manufacturer: "manufacturer"),
                                     nodeID: InlineArray(repeating: UInt8(ascii: "0")), firmwareVersion: "bench",
                                     now: Timestamp(milliseconds: 0))
            objects.measurement = m
            var node = ThingSetNode(model: objects)
            let server = try ThingSetTCPServer(host: "127.0.0.1", port: 0)
            let client = try ThingSetClient(device: "tcp://127.0.0.1:\(server.port)")
            let serve = {
                server.poll(timeoutMs: 0) { request, channel in
                    var out = [UInt8](repeating: 0, count: 2048)
                    let n = request.withUnsafeBufferPointer { r in
                        out.withUnsafeMutableBufferPointer { o in node.processBinary(r, into: o, channel: &channel) }
                    }
                    return Array(out[0..<n])
                }
            }
            let mix: [[UInt8]] = [[0x01, 0x18, 0x7C],                                         // GET rSOC_pct
                                  [0x01, 0x64] + Array("Meas".utf8),                          // GET Meas
                                  [0x05, 0x07, 0x82, 0x18, 0x7C, 0x18, 0x7F],                 // FETCH two values
                                  [0x07, 0x09, 0xA1, 0x18, 0x90, 0xF5]]                        // UPDATE wChgEnable
            var latencies: [Double] = []
            latencies.reserveCapacity(requests)
            let clock = ContinuousClock()
            let start = clock.now
            for k in 0..<requests {
                let t0 = clock.now
                let (status, _) = try client.request(mix[k % mix.count], whileWaiting: serve)
                guard status < 0xA0 else { throw CLIError(String(format: "request %d answered %02X", k, status)) }
                let d = clock.now - t0
                latencies.append(Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12)
            }
            let total = clock.now - start
            let seconds = benchSeconds(total)
            latencies.sort()
            let build = benchBuild
            print("""
                {
                  "benchmark": "thingset",
                  "build": "\(build)",
                  "transport": "tcp loopback, one thread",
                  "requests": \(requests),
                  "wall_s": \(String(format: "%.3f", seconds)),
                  "requests_per_s": \(String(format: "%.0f", Double(requests) / seconds)),
                  "p50_us": \(String(format: "%.1f", latencies[requests / 2])),
                  "p99_us": \(String(format: "%.1f", latencies[requests * 99 / 100]))
                }
                """)
        }
    }

    /// `flexbms bench soc`: SOC accuracy on a recorded data set, against the reference
    /// firmware's method in the same run.
    struct SOCBenchCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "soc",
            abstract: "SOC accuracy of the estimator and of the reference firmware's method on a recorded data set.",
            discussion: """
                The data set is a CSV with time_s, current_meas_A, voltage_meas_V, temperature_C \
                (what the estimators see) and soc_true (the score).

                Example: flexbms bench soc --data nmc_offgrid.csv --chemistry nmc --capacity 5 --ocv ocv.csv --discharge-positive --json
                """)

        @Option(help: "Recorded data set (CSV).")
        var data: String
        @Option(help: "Cell chemistry.")
        var chemistry: ChemistryArgument
        @Option(help: "Cell capacity as labelled, Ah.")
        var capacity: Float
        @Option(help: "OCV table (CSV soc_pct,ocv_V, e.g. from `flexbms calibrate ocv`); default: the chemistry's preset.")
        var ocv: String?
        @Option(help: "Cell circuit (the JSON of `flexbms calibrate model --json`); default: R0 learned from current steps.")
        var model: String?
        @Flag(name: .customLong("discharge-positive"), help: "The data counts discharge current as positive.")
        var dischargePositive = false
        @Option(help: "Also write the SOC trace (time, truth, estimator, baseline) to this CSV.")
        var trace: String?
        @Flag(help: "Print JSON (the only output format).")
        var json = false

        func validate() throws { try validateCapacityOption(capacity) }

        func run() throws {
            let result: SOCBench.Result
            do {
                let curve = try ocv.map { path throws(NumericTableError) in try OCVCalibration.read(path: path) }
                    ?? OCVCurve.preset(chemistry.chemistry)!
                let circuit = try model.map { path throws(NumericTableError) in try ModelCalibration.readModel(path: path) }
                    ?? CellModelConfig()
                result = try SOCBench.run(NumericTable(path: data), chemistry: chemistry.chemistry,
                                          capacityAh: capacity, curve: curve, curveIsCalibrated: ocv != nil,
                                          model: circuit,
                                          currentPositiveDischarge: dischargePositive)
            } catch {
                printError("\(error)")
                throw ExitCode(2)
            }
            func fields(_ s: SOCBench.Score) -> String {
                let convergence = s.convergenceSeconds.map { String(format: "%.0f", $0) } ?? "null"
                return """
                    "rmse_pct": \(String(format: "%.3f", s.rmsePercent)), "max_abs_pct": \(String(format: "%.3f", s.maxAbsPercent)), \
                    "final_abs_pct": \(String(format: "%.3f", s.finalAbsPercent)), "convergence_s": \(convergence)
                    """
            }
            if let trace { try writeText(result.traceCSV, to: trace) }
            let ratio = result.filter.rmsePercent > 0 ? result.baseline.rmsePercent / result.filter.rmsePercent : 0
            print("""
                {
                  "data": "\((data as NSString).lastPathComponent)",
                  "samples": \(result.samples),
                  "estimator": { \(fields(result.filter)) },
                  "baseline": { \(fields(result.baseline)) },
                  "rmse_ratio_baseline_over_estimator": \(String(format: "%.2f", ratio)),
                  "learned_r0_ohm": \(String(format: "%.5f", result.learnedR0)),
                  "learned_current_offset_A": \(String(format: "%.5f", result.finalOffset)),
                  "learned_capacity_Ah": \(String(format: "%.4f", result.learnedCapacityAh)),
                  "capacity_samples": \(result.capacitySamples)
                }
                """)
        }
    }
}

extension FlexBMS.Bench {
    /// `flexbms bench step`: one control step of the device application as the firmware runs
    /// it — the BQ76952 read over I2C (here into the register-level emulator), BatteryManager,
    /// the switch and bleed commands — with the I2C traffic it needs.
    struct StepBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "step",
            abstract: "Time and I2C traffic of one firmware control step (AFE read, BMS step, commands).",
            discussion: "Build with -c release: swift run -c release flexbms bench step --cells 16 --json")

        @Option(help: "Series cells (1-16).")
        var cells: Int = 16
        @Option(help: "Control steps to run.")
        var steps: Int = 200_000
        @Flag(help: "Print JSON (the only output format).")
        var json = false

        func validate() throws {
            guard (1...16).contains(cells) else { throw ValidationError("--cells must be 1 to 16, got \(cells)") }
            guard (100...100_000_000).contains(steps) else {
                throw ValidationError("--steps must be 100 to 100000000, got \(steps)")
            }
        }

        func run() throws {
            let config = BMSConfig.preset(.lfp, cells: UInt8(cells), capacityAh: 100)!
            var chip = BQ76952Emulator(shuntResistance: 0.0003)
            var random = SimRandom(seed: 1)
            for k in 0..<16 { chip.analog.cellVoltages[k] = k < cells ? 3.30 + 0.01 * random.gaussian() : 0 }
            chip.analog.current = -12
            let mask = BQ76952Driver<CountingBus>.cellMask(cells: cells)
            var id = InlineArray<16, UInt8>(repeating: 0x30)
            id[15] = 0x31
            var app = try DeviceApplication(chip: BQ76952Driver(bus: CountingBus(chip: chip), shuntResistance: 0.0003,
                                                                cellMask: mask),
                                            flash: RAMFlash(), defaults: config, nodeID: id,
                                            tokens: AuthTokens(expert: "expert", manufacturer: "maker"), now: 0)
            // Start-up (chip configuration) is not part of the step.
            _ = app.poll(now: 0, alert: false) { _ in }
            app.chip.bus.reset()
            var events = 0
            let clock = ContinuousClock()
            let start = clock.now
            for n in 1...steps {
                let now = UInt32(truncatingIfNeeded: n &* 100)
                app.chip.bus.chip.analog.current = n & 1 == 0 ? -12 : -11.5
                _ = app.poll(now: now, alert: false) { _ in events += 1 }
            }
            let elapsed = clock.now - start
            let seconds = benchSeconds(elapsed)
            let transfers = Double(app.chip.bus.transfers) / Double(steps)
            let bytes = Double(app.chip.bus.bytes) / Double(steps)
            // On the wire each byte is 9 clocks, plus a start, an address byte and a stop per transfer.
            let busMs = (bytes * 9 + transfers * (9 + 2)) / 400_000 * 1000
            let build = benchBuild
            print("""
                {
                  "benchmark": "step",
                  "build": "\(build)",
                  "cells": \(cells),
                  "steps": \(steps),
                  "wall_s": \(String(format: "%.3f", seconds)),
                  "ns_per_step": \(String(format: "%.1f", seconds * 1e9 / Double(steps))),
                  "i2c_transfers_per_step": \(String(format: "%.1f", transfers)),
                  "i2c_bytes_per_step": \(String(format: "%.1f", bytes)),
                  "i2c_bus_ms_per_step_at_400khz": \(String(format: "%.2f", busMs)),
                  "console_lines": \(events),
                  "note": "host time includes the chip emulator answering the I2C transfers"
                }
                """)
        }
    }
}

/// The emulator as the bus, counting transfers and bytes on the wire (both directions).
struct CountingBus: I2CBus {
    var chip: BQ76952Emulator
    var transfers = 0
    var bytes = 0

    mutating func reset() { transfers = 0; bytes = 0 }

    mutating func write(_ address: UInt8, _ data: I2CBytes) throws(I2CError) {
        transfers += 1
        bytes += data.count
        try chip.write(address, data)
    }

    mutating func writeRead(_ address: UInt8, _ data: I2CBytes, readCount: Int) throws(I2CError) -> I2CBytes {
        transfers += 1
        bytes += data.count + readCount
        return try chip.writeRead(address, data, readCount: readCount)
    }
}

/// The build a benchmark ran in, for its JSON: numbers from a debug build mean little.
#if DEBUG
let benchBuild = "debug"
#else
let benchBuild = "release"
#endif

/// A measured duration in seconds.
func benchSeconds(_ d: Duration) -> Double {
    Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}
