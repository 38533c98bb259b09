import AFE
import ArgumentParser
import BMSCore
import Firmware
import FlexBMSLink
import FlexBMSTools
import Inverter
import Foundation
import PackSim
import ThingSet

extension FlexBMS {
    /// `flexbms emulate`: the firmware's device application — the same code as the image in
    /// QEMU — with the real BQ76952 driver on the emulated chip and pack, its flash in a file,
    /// its console on a pseudo-terminal.
    struct Emulate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the firmware application on an emulated BQ76952 and a simulated pack.",
            discussion: """
                The device application of the firmware image (scheduler, AFE driver over I2C, \
                BMS, console, settings and state in flash) runs on the host against the \
                register-level BQ76952 emulator, which the simulated pack drives. Events are \
                printed as the console prints them; --json prints a summary at the end.
                """)

        @Option(help: "Cells in series (1-16).")
        var cells: Int = 16
        @Option(help: "Nominal capacity in Ah.")
        var capacity: Float = 100
        @Option(help: "World profile: offgrid-day, milling, cccv-charge, constant-discharge, hybrid-grid, pulse-test.")
        var profile = "offgrid-day"
        @Option(name: .customLong("initial-soc"), help: "True SOC at the start, 0-1.")
        var initialSOC: Float = 0.6
        @Option(help: "Simulated duration, e.g. 30m, 6h, 2d.")
        var duration = "1h"
        @Option(help: "Random seed: same seed, same run.")
        var seed: UInt64 = 1
        @Option(help: "Keep the device's flash (settings, estimator state) in this file; read at the start if it exists.")
        var flash: String?
        @Option(help: "Inject a fault: short@TIME, afe-silent@TIME, or cell-high:N@TIME (cell N, 1-based, jumps to 99.5 % SOC) (repeatable).")
        var fault: [String] = []
        @Option(help: "Put an inverter on the CAN bus speaking this profile: pylon, victron or sma.")
        var inverter: String?
        @Option(name: .customLong("can-log"), help: "With --inverter: write every frame on the inverter bus to this file in candump log format.")
        var canLog: String?
        @Flag(help: "Run in real time (see --speed) with the console on a pseudo-terminal (its path is printed).")
        var realtime = false
        @Option(help: "With --realtime: simulated seconds per second of wall time.")
        var speed: Double = 1
        @Flag(help: "Print a JSON summary at the end.")
        var json = false

        struct Injected {
            enum Kind { case short, afeSilent, cellHigh(Int) }
            var kind: Kind
            var atMs: UInt64
        }

        func validate() throws {
            guard (1...16).contains(cells) else { throw ValidationError("--cells must be 1 to 16, got \(cells)") }
            guard capacity > 0 && capacity <= 2000 else { throw ValidationError("--capacity must be above 0 and at most 2000 Ah, got \(capacity)") }
            guard (0...1).contains(initialSOC) else { throw ValidationError("--initial-soc must be 0 to 1, got \(initialSOC)") }
            guard Quantity.duration(duration) != nil else { throw ValidationError("--duration: not a duration: \(duration) (e.g. 30m, 6h, 2d)") }
            guard speed > 0 else { throw ValidationError("--speed must be above 0, got \(speed)") }
            _ = try faults()
        }

        /// One line on stdout, unbuffered like the device's console lines around it.
        func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

        func faults() throws -> [Injected] {
            try fault.map { text in
                let parts = text.split(separator: "@", maxSplits: 1).map(String.init)
                guard parts.count == 2, let at = Quantity.duration(parts[1]) else {
                    throw ValidationError("--fault \(text): expected KIND@TIME, e.g. short@10m")
                }
                switch parts[0] {
                case "short": return Injected(kind: .short, atMs: at)
                case "afe-silent": return Injected(kind: .afeSilent, atMs: at)
                default:
                    let kind = parts[0].split(separator: ":").map(String.init)
                    if kind.count == 2, kind[0] == "cell-high", let n = Int(kind[1]), (1...cells).contains(n) {
                        return Injected(kind: .cellHigh(n - 1), atMs: at)
                    }
                    throw ValidationError("--fault \(text): the kind must be short, afe-silent or cell-high:N with N 1 to \(cells)")
                }
            }
        }

        func run() throws {
            let chemistry = Chemistry.lfp
            guard let defaults = BMSConfig.preset(chemistry, cells: UInt8(cells), capacityAh: capacity) else {
                throw CLIError("no preset for \(cells) cells of \(capacity) Ah")
            }
            guard let kind = StandardProfile.Kind(name: profile) else {
                throw CLIError("--profile must be one of " + StandardProfile.Kind.allCases.map { "\($0.name)" }.joined(separator: ", ") + ", got \(profile)")
            }
            var setup = SimulationSetup(chemistry: chemistry, cells: cells, capacityAh: capacity)
            setup.initialSOC = initialSOC
            setup.stepMilliseconds = 10
            setup.seed = seed
            let board = try EmulatedBoard(setup: setup, profile: StandardProfile(kind, config: defaults, seed: seed))
            var storage: FileFlash?
            if let flash {
                do { storage = try FileFlash(path: flash) } catch { throw CLIError("--flash: \(error)") }
            }
            let driver = BQ76952Driver(bus: board, shuntResistance: 0.0003, cellMask: BQ76952Driver<EmulatedBoard<StandardProfile, BQ76952Emulator>>.cellMask(cells: cells))
            var id = InlineArray<16, UInt8>(repeating: 0x30)
            for (k, c) in String(format: "%016llX", 0xF1E8_B500_0000_0000 | seed).utf8.prefix(16).enumerated() { id[k] = c }
            let tokens = AuthTokens(expert: "expert", manufacturer: "maker")
            var settings: InverterSettings?
            if let name = inverter {
                guard let profile = InverterProfile.allCases.first(where: { "\($0.name)" == name }) else {
                    throw CLIError("--inverter must be one of " + InverterProfile.allCases.map { "\($0.name)" }.joined(separator: ", ") + ", got \(name)")
                }
                settings = InverterSettings(profile: profile)
            } else if canLog != nil {
                throw CLIError("--can-log needs --inverter")
            }
            if let storage {
                var app = try DeviceApplication(chip: driver, flash: storage, defaults: defaults, nodeID: id, tokens: tokens,
                                                now: 0, inverter: settings)
                try drive(&app, faults: faults())
            } else {
                var app = try DeviceApplication(chip: driver, flash: RAMFlash(), defaults: defaults, nodeID: id, tokens: tokens,
                                                now: 0, inverter: settings)
                try drive(&app, faults: faults())
            }
        }

        /// The main loop of the image on the host: 10 ms polls, the pack following, the
        /// FET-off lines to the chip's pins, the console through a pty.
        func drive<Flash: FlashMemory>(_ app: inout DeviceApplication<BQ76952Driver<EmulatedBoard<StandardProfile, BQ76952Emulator>>, Flash>,
                                      faults: [Injected]) throws {
            let end = Quantity.duration(duration)!
            var pending = faults.sorted { $0.atMs < $1.atMs }
            var console: TerminalPort?
            if realtime {
                do { console = try TerminalPort() } catch { throw CLIError("console pty: \(error)") }
                say("console on \(console!.path) (ThingSet text mode and PAYG tokens)")
            }
            switch app.settingsSource {
            case .defaults: say("settings: defaults")
            case .flash: say("settings: from flash")
            case .flashRejected: say("settings: flash record rejected, defaults")
            }
            say(app.stateRestored ? "state: restored" : "state: none")
            var trips: [String] = []
            var board = HostBoard(console: console)
            if let canLog {
                do { board.canLog = try CANLogWriter(path: canLog) } catch { throw CLIError("--can-log: \(error)") }
            }
            let start = Date()
            var now: UInt64 = 0
            while now < end {
                now += 10
                while let f = pending.first, f.atMs <= now {
                    pending.removeFirst()
                    switch f.kind {
                    case .short: app.chip.bus.loadShort = true
                    case .afeSilent: app.chip.bus.chip.silent = true
                    case .cellHigh(let g): app.chip.bus.setSOC(0.995, group: g)
                    }
                }
                app.chip.bus.advance(to: now)
                // The board's FET-off lines to the emulated chip's pins.
                app.chip.bus.chip.chargeOffPin = board.chargeOff
                app.chip.bus.chip.dischargeOffPin = board.dischargeOff
                board.alert = app.chip.bus.chip.alert
                board.milliseconds = UInt32(truncatingIfNeeded: now)
                app.pass(on: &board)
                for line in board.takeLines() where line.contains(" trip ") {
                    trips.append(line.trimmingCharacters(in: .whitespacesAndNewlines))
                }
                if realtime {
                    let due = start.addingTimeInterval(Double(now) / 1000 / speed)
                    let wait = due.timeIntervalSinceNow
                    if wait > 0 { Thread.sleep(forTimeInterval: min(wait, 0.05)) }
                }
            }
            if board.canLog != nil { try? board.canLog!.flush() }
            if json {
                let r = app.lastReading
                let p = app.chipProtection
                let summary: [String: Any] = [
                    "duration_s": Double(end) / 1000,
                    "settings": "\(app.settingsSource)",
                    "state_restored": app.stateRestored,
                    "trips": trips,
                    "soc_estimated": app.bms.packSOC.map { Double($0) } ?? NSNull(),
                    "soc_true": Double(app.chip.bus.pack.packSOC),
                    "charge_fet": app.chip.bus.chip.chargeFET,
                    "discharge_fet": app.chip.bus.chip.dischargeFET,
                    "afe_failures": Int(app.afeFailures),
                    "control_steps": Int(app.scheduler.controlSteps),
                    "overruns": Int(app.scheduler.overruns),
                    "inverter_frames": board.framesSent,
                    "cell_min_v": r.map { reading in Double((0..<reading.cellCount).map { reading.cellVoltages[$0] }.min() ?? 0) } ?? NSNull(),
                    "chip_protection": p.map { [
                        "cell_overvoltage_v": Double($0.cellOvervoltage), "cell_undervoltage_v": Double($0.cellUndervoltage),
                        "charge_overcurrent_a": Double($0.chargeOvercurrent), "discharge_overcurrent_a": Double($0.dischargeOvercurrent),
                        "short_circuit_a": Double($0.shortCircuit),
                    ] } ?? NSNull(),
                ]
                let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
                say(String(decoding: data, as: UTF8.self))
            }
        }
    }
}

/// The board of `flexbms emulate`: the console on a pty (or none), the simulated clock, the
/// FET-off lines as values the loop hands to the emulated chip. Everything the application
/// prints goes to the pty, as on the board's UART; its event and chip-warning lines also go to
/// stdout (the run's log).
struct HostBoard: DeviceBoard {
    let console: TerminalPort?
    var milliseconds: UInt32 = 0
    var alert = false
    var chargeOff = true
    var dischargeOff = true
    var pending: [UInt8] = []
    var printed: [UInt8] = []

    var afeAlert: Bool { alert }

    mutating func read() -> UInt8? {
        if pending.isEmpty, let console { pending = console.readAvailable() }
        return pending.isEmpty ? nil : pending.removeFirst()
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) {
        let data = Array(bytes)
        console?.write(data.last == 0x0A ? Array(data.dropLast()) + [0x0D, 0x0A] : data)
        // Events and the chip's warnings are the run's log; the mLive reports stay on the pty.
        if data.starts(with: Array("#event".utf8)) || data.starts(with: Array("#afe".utf8)) {
            FileHandle.standardOutput.write(Data(data))
            printed += data
        }
    }

    mutating func forceFETsOff(charge: Bool, discharge: Bool) {
        chargeOff = charge
        dischargeOff = discharge
    }

    mutating func setLED(_ on: Bool) {}

    mutating func kick() {}

    /// The inverter's bus: frames into the candump log, if one is kept.
    var canLog: CANLogWriter?
    var framesSent = 0

    mutating func send(_ frame: InverterFrame, at milliseconds: UInt32) {
        framesSent += 1
        canLog?.write(frame, atMilliseconds: UInt64(milliseconds))
    }

    mutating func receiveFrame() -> InverterFrame? { nil }

    /// The complete lines printed since the last call.
    mutating func takeLines() -> [String] {
        guard let end = printed.lastIndex(of: 0x0A) else { return [] }
        let text = String(decoding: printed[...end], as: UTF8.self)
        printed.removeSubrange(...end)
        return text.split(separator: "\n").map(String.init)
    }
}
