import ArgumentParser
import BMSCore
import Firmware
import FlexBMSLink
import FlexBMSTools
import Foundation
import Inverter
import PackSim
import PAYG

extension FlexBMS {
    /// `flexbms sim`: the virtual pack in closed loop with the BMS core.
    struct Sim: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Simulate a pack in closed loop with the BMS: summary, CSV time series, SVG plot.",
            discussion: """
                Example: flexbms sim --cells 16 --chemistry lfp --capacity 280 \\
                  --spread second-life --profile offgrid-day --days 7 --seed 3 \\
                  --out run.csv --plot run.svg --fault cell-short:7@2d
                Faults: KIND[:N]@TIME, N counting from 1; see --list-faults.
                """)

        @Option(help: "Cell groups in series (3-16; default 16, or the --config file's).")
        var cells: Int?
        @Option(help: "Cell chemistry (default lfp, or the --config file's).")
        var chemistry: ChemistryArgument?
        @Option(help: "Nominal capacity in Ah (default 280, or the --config file's).")
        var capacity: Float?
        @Option(help: "Cells in parallel per group (default 1, or the --config file's).")
        var parallel: Int?
        @Option(help: "Cell-to-cell spread: new or second-life.")
        var spread: String = "new"
        @Option(help: "World profile: offgrid-day, milling, cccv-charge, constant-discharge, hybrid-grid, pulse-test.")
        var profile: String = "offgrid-day"
        @Option(name: .customLong("profile-csv"), help: "Recorded profile (columns time_s, power_W; + = charging) instead of --profile.")
        var profileCSV: String?
        @Option(help: "Simulated days (fractions allowed).")
        var days: Double?
        @Option(help: "Simulated duration, e.g. 30h, 2d (instead of --days).")
        var duration: String?
        @Option(help: "Random seed: same seed, same run.")
        var seed: UInt64 = 1
        @Option(help: "Step length, e.g. 1s, 100ms.")
        var step: String = "1s"
        @Option(help: "Interval of the recorded rows (CSV, plot), e.g. 60s.")
        var sample: String = "60s"
        @Option(help: "Mean ambient temperature, e.g. 25C.")
        var ambient: String = "25C"
        @Option(name: .customLong("ambient-swing"), help: "Daily ambient swing around the mean, ± K.")
        var ambientSwing: Float = 0
        @Option(name: .customLong("initial-soc"), help: "True SOC at the start, 0-1.")
        var initialSOC: Float = 0.5
        @Option(help: "BMS configuration file (JSON); default: the chemistry's preset.")
        var config: String?
        @Option(help: "Inject a fault: KIND[:N]@TIME (repeatable).")
        var fault: [String] = []
        @Option(help: "Write the time series to this CSV file.")
        var out: String?
        @Option(help: "Draw the run into this SVG file.")
        var plot: String?
        @Flag(help: "Run as a virtual device in real time (see --speed) until --days/--duration, or until interrupted.")
        var realtime = false
        @Option(help: "With --realtime: simulated seconds per second of wall time.")
        var speed: Double = 1
        @Option(name: .customLong("thingset-tcp"), help: "With --realtime: serve ThingSet (binary mode) on TCP at HOST:PORT, e.g. 127.0.0.1:9001.")
        var thingsetTCP: String?
        @Option(name: .customLong("payg-state"), help: "With --realtime and --payg-key: keep the PAYG record (credit, used tokens, clock) in this file, as the device keeps it in flash; read at the start if it exists.")
        var paygState: String?
        @Flag(name: .customLong("thingset-slcan-pty"), help: "With --realtime: the device's CAN bus through an slcan adapter on a pseudo-terminal (its path is printed): ThingSet binary mode over ISO-TP, node address 0x14 claimed.")
        var thingsetSlcanPTY = false
        @Flag(name: .customLong("thingset-pty"), help: "With --realtime: serve ThingSet text mode on a pseudo-terminal (its path is printed), as on a serial port.")
        var thingsetPTY = false
        @Option(name: .customLong("expert-token"), help: "With --thingset-tcp: the xAuth token of the expert role (writes settings).")
        var expertToken = "expert"
        @Option(name: .customLong("manufacturer-token"), help: "With --thingset-tcp: the xAuth token of the manufacturer role (writes calibration).")
        var manufacturerToken = "manufacturer"
        @Option(name: .customLong("active-balancer"), help: "Fit an active-balancer board whose converters carry this many amperes per cell (90 % efficient) instead of bleeding, e.g. 2.")
        var activeBalancer: Double?
        @Option(help: "Put an inverter on the battery's CAN bus speaking this profile: pylon, victron or sma (frames in the summary; with --can-log, every frame).")
        var inverter: String?
        @Option(name: .customLong("inverter-name"), help: "With --inverter: the battery name sent to the inverter (0x35E; Victron also 0x370/0x371 and 0x382), 1-16 ASCII characters; default PYLON for pylon, FLEXBMS otherwise.")
        var inverterName: String?
        @Option(name: .customLong("can-log"), help: "With --inverter: write every frame on the inverter bus to this file in candump log format.")
        var canLog: String?
        @Flag(name: .customLong("inverter-slcan-pty"), help: "With --realtime and --inverter: the inverter's CAN bus through an slcan adapter on a pseudo-terminal (its path is printed): the battery's frames out, the inverter's keep-alive in.")
        var inverterSlcanPTY = false
        @Option(name: .customLong("inverter-slcan"), help: "With --realtime and --inverter: the inverter's CAN bus through a real slcan adapter at this device, e.g. /dev/ttyACM0, opened at 500 kbit/s: the virtual battery on a real inverter.")
        var inverterSlcan: String?
        @Flag(name: .customLong("pylontech-rs485-pty"), help: "With --realtime: answer the Pylontech RS485 protocol on a pseudo-terminal (its path is printed), as a pack on an inverter's RS485 port.")
        var pylontechRS485PTY = false
        @Option(name: .customLong("pylontech-rs485"), help: "With --realtime: answer the Pylontech RS485 protocol on this serial device, e.g. /dev/ttyUSB0 (an RS485 adapter).")
        var pylontechRS485: String?
        @Option(name: .customLong("rs485-baud"), help: "The RS485 bit rate: 9600 (most inverters) or 115200.")
        var rs485Baud: Int = 9600
        @Option(name: .customLong("pylontech-address"), help: "The pack's RS485 address: 2 for the first (master) pack, 3... for the next, + 16 x group.")
        var pylontechAddress: Int = 2
        @Option(help: "Packs in parallel on one bus, each with its own BMS, 1-8. With 2 or more and neither --pack-capacity nor --pack-spread, the last pack is second-life at 80 % of --capacity.")
        var packs: Int = 1
        @Option(name: .customLong("pack-capacity"), help: "With --packs: each pack's capacity in Ah, comma-separated, e.g. 100,100,80.")
        var packCapacity: String?
        @Option(name: .customLong("pack-spread"), help: "With --packs: each pack's cell spread, comma-separated, e.g. new,new,second-life.")
        var packSpread: String?
        @Option(name: .customLong("pack-soc"), help: "With --packs: each pack's true SOC at the start, 0-1, comma-separated (default: --initial-soc for all).")
        var packSOC: String?
        @Option(name: .customLong("join-difference"), help: "With --packs: the largest pack-to-bus voltage difference at which a pack connects, V.")
        var joinDifference: Float = 1.0
        @Option(name: .customLong("bank-policy"), help: "With --packs: strict (a pack blocking a direction for a fault stops the bank's) or lenient (the others go on).")
        var bankPolicy: String = "strict"
        @Flag(help: "Print the summary as JSON on stdout.")
        var json = false
        @Flag(name: .customLong("list-faults"), help: "List the faults that can be injected, and exit.")
        var listFaults = false
        @Option(name: .customLong("payg-key"), help: "Pay-as-you-go: the device's secret key (32 hex digits); with --payg-starting-code the unit starts without credit.")
        var paygKey: String?
        @Option(name: .customLong("payg-starting-code"), help: "Pay-as-you-go: the device's starting code.")
        var paygStartingCode: UInt32?
        @Option(name: .customLong("payg-divider"), help: "Pay-as-you-go: the time divider (value units per day).")
        var paygDivider: UInt8 = 1
        @Option(name: .customLong("payg-token"), help: "Pay-as-you-go: enter TOKEN at TIME of the run, TOKEN@TIME, e.g. 123456789@36h (repeatable).")
        var paygToken: [String] = []

        func run() throws {
            if listFaults {
                for kind in InjectedFaultKind.allCases {
                    let index = kind.target == nil ? "" : (kind.target == .cell ? ":CELL" : ":SENSOR")
                    print("\("\(kind.name)\(index)".padding(toLength: 28, withPad: " ", startingAt: 0)) \(kind.summary)")
                }
                return
            }
            let plan = try SimulationPlan(self)
            if realtime {
                try runRealtime(plan)
                return
            }
            guard thingsetTCP == nil && !thingsetPTY && !thingsetSlcanPTY && !pylontechRS485PTY && pylontechRS485 == nil
                    && !inverterSlcanPTY && inverterSlcan == nil else {
                throw CLIError("--thingset-tcp, --thingset-pty, --thingset-slcan-pty, --pylontech-rs485-pty, --pylontech-rs485, --inverter-slcan-pty and --inverter-slcan need --realtime")
            }
            var progress = ProgressBar()
            if !plan.bank.isEmpty {
                guard case .standard(let kind) = plan.profile else { throw CLIError("--packs runs a built-in --profile") }
                var bankConfig = plan.config
                bankConfig.pack.capacityAh = plan.bank.reduce(0) { $0 + $1.setup.capacityAh }
                let report = try plan.runBank(profile: StandardProfile(kind, config: bankConfig, seed: plan.setup.seed),
                                              name: "\(kind.name)", progress: &progress)
                progress.finish()
                try writeBank(report)
                return
            }
            let report: SimulationReport
            switch plan.profile {
            case .standard(let kind):
                let p = StandardProfile(kind, config: plan.config, seed: plan.setup.seed)
                report = try plan.run(profile: p, name: "\(kind.name)", progress: &progress)
            case .csv(let path):
                let p: CSVProfile
                do {
                    // A charger set to the BMS's over-current limit would trip it with the
                    // first noisy reading: the recorded source is capped at 0.5 C and 80 %
                    // of the limit.
                    p = try CSVProfile(path: path,
                                       voltageLimit: plan.config.cellVoltage.chargeTarget * Float(plan.setup.cells),
                                       currentLimit: min(0.5 * plan.setup.capacityAh,
                                                         0.8 * plan.config.current.chargeOvercurrent))
                } catch {
                    throw CLIError(error.description)
                }
                report = try plan.run(profile: p, name: "csv:\((path as NSString).lastPathComponent)", progress: &progress)
            }
            progress.finish()
            try write(report)
        }

        /// The virtual device: real time, events on stdout, ThingSet on TCP if asked.
        func runRealtime(_ plan: SimulationPlan) throws {
            // Runs until interrupted: SIGINT and SIGTERM must end it even when the parent
            // started it with them blocked (Foundation's Process passes its signal mask on).
            var signals = sigset_t()
            sigemptyset(&signals)
            sigaddset(&signals, SIGINT)
            sigaddset(&signals, SIGTERM)
            pthread_sigmask(SIG_UNBLOCK, &signals, nil)
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
            guard speed > 0 && speed <= 100_000 else { throw CLIError("--speed must be above 0 and at most 100000, got \(speed)") }
            guard out == nil && plot == nil && !json else { throw CLIError("--realtime prints events as they come; --out, --plot and --json are for batch runs") }
            guard case .standard(let kind) = plan.profile else { throw CLIError("--realtime runs a built-in --profile") }
            guard plan.bank.isEmpty else { throw CLIError("--packs runs in batch only for now; the virtual device is one pack") }
            var server: ThingSetTCPServer?
            if let address = thingsetTCP {
                let parts = address.split(separator: ":")
                guard parts.count == 2, let port = UInt16(parts[1]) else {
                    throw CLIError("--thingset-tcp must be HOST:PORT, e.g. 127.0.0.1:9001, got \(address)")
                }
                do {
                    server = try ThingSetTCPServer(host: String(parts[0]), port: port)
                } catch {
                    throw CLIError("--thingset-tcp: \(error)")
                }
                print("ThingSet TCP on \(parts[0]):\(server!.port)")
            }
            var pty: TerminalPort?
            if thingsetPTY {
                do { pty = try TerminalPort() } catch { throw CLIError("--thingset-pty: \(error)") }
                print("ThingSet serial on \(pty!.path)")
            }
            var inverterCAN: (any CANPort)?
            guard !(inverterSlcanPTY && inverterSlcan != nil) else { throw CLIError("give --inverter-slcan-pty or --inverter-slcan, not both") }
            if inverterSlcanPTY || inverterSlcan != nil {
                guard plan.inverter != nil else { throw CLIError("--inverter-slcan-pty and --inverter-slcan need --inverter pylon|victron|sma") }
            }
            if inverterSlcanPTY {
                do {
                    let port = try SLCANPort()
                    inverterCAN = port
                    print("Inverter CAN (slcan) on \(port.path)")
                } catch {
                    throw CLIError("--inverter-slcan-pty: \(error)")
                }
            } else if let device = inverterSlcan {
                do {
                    inverterCAN = try SLCANHostPort(path: device)
                    print("Inverter CAN through the slcan adapter at \(device), 500 kbit/s")
                } catch TerminalPort.Failure.open(let why) {
                    throw CLIError("--inverter-slcan: cannot open \(why)")
                }
            }
            var rs485: TerminalPort?
            guard !(pylontechRS485PTY && pylontechRS485 != nil) else { throw CLIError("give --pylontech-rs485-pty or --pylontech-rs485, not both") }
            guard rs485Baud == 9600 || rs485Baud == 115_200 else { throw CLIError("--rs485-baud must be 9600 or 115200, got \(rs485Baud)") }
            guard (2...0x7F).contains(pylontechAddress) && pylontechAddress & 0xF >= 2 else {
                throw CLIError("--pylontech-address must be 2-15 plus 16 x group (0-7), got \(pylontechAddress)")
            }
            if pylontechRS485PTY {
                do { rs485 = try TerminalPort() } catch { throw CLIError("--pylontech-rs485-pty: \(error)") }
                print("Pylontech RS485 on \(rs485!.path)")
            } else if let device = pylontechRS485 {
                do {
                    rs485 = try TerminalPort(device: device, baud: rs485Baud == 9600 ? speed_t(B9600) : speed_t(B115200))
                } catch {
                    throw CLIError("--pylontech-rs485: \(error)")
                }
                print("Pylontech RS485 on \(device) at \(rs485Baud) bit/s")
            }
            var slcan: SLCANPort?
            if thingsetSlcanPTY {
                do { slcan = try SLCANPort() } catch { throw CLIError("--thingset-slcan-pty: \(error)") }
                print("ThingSet CAN (slcan) on \(slcan!.path)")
            }
            var simulation: Simulation<StandardProfile>
            do {
                simulation = try Simulation(setup: plan.setup, profile: StandardProfile(kind, config: plan.config, seed: plan.setup.seed))
            } catch {
                throw CLIError("cannot start the simulation: \(error.description)")
            }
            for f in plan.faults { simulation.schedule(f) }
            if let board = plan.activeBalancer { simulation.setActiveBalancer(board) }
            let tokens = Array(expertToken.utf8).withUnsafeBufferPointer { e in
                Array(manufacturerToken.utf8).withUnsafeBufferPointer { m in AuthTokens(expert: e, manufacturer: m) }
            }
            var device = VirtualDevice(simulation: simulation, tokens: tokens, configPath: config)
            if rs485 != nil || plan.inverter != nil {
                do {
                    var bus = try SimulatedInverterBus(settings: plan.inverter ?? InverterSettings(profile: .pylon),
                                                       logPath: plan.canLog, canInverter: plan.inverter != nil)
                    bus.flushEachStep = true
                    bus.externalInverter = inverterCAN != nil
                    bus.setRS485Address(UInt8(pylontechAddress))
                    bus.setSerialNumber(device.nodeIDText)
                    device.inverter = bus
                } catch {
                    throw CLIError(error.description)
                }
            }
            if let payg = plan.payg {
                guard payg.schedule.isEmpty else {
                    throw CLIError("--payg-token is for batch runs; with --realtime enter tokens over ThingSet (PAYG/xPaygToken)")
                }
                device.payg = payg.device
                if let path = paygState {
                    do {
                        if let stored = try PAYGFiles.read(path: path) {
                            device.payg = PAYGDevice(provisioning: payg.device.provisioning, state: stored.state)
                            device.paygClockStart = stored.clock
                        }
                    } catch {
                        throw CLIError("--payg-state: \(error)")
                    }
                    device.paygStatePath = path
                }
            } else if paygState != nil {
                throw CLIError("--payg-state needs --payg-key and --payg-starting-code")
            }
            let setup = plan.setup
            print("virtual device: \(setup.cells)S \(setup.chemistry.name) \(fixed(Double(setup.capacityAh), 1)) Ah (\(kind.name), seed \(setup.seed)), \(speed == 1 ? "real time" : "\(fixed(speed, 0)) × real time")")
            fflush(nil)
            let forever = days == nil && duration == nil
            device.run(speed: speed, server: server, pty: pty, slcan: slcan, rs485: rs485, inverterCAN: inverterCAN,
                       durationMs: forever ? nil : plan.durationMs) { line in
                print(line)
                fflush(nil)
            }
        }

        func writeBank(_ report: BankReport) throws {
            if json {
                print(report.summaryJSON(), terminator: "")
                return
            }
            print("simulated \(fixed(report.simulatedSeconds / 3600, 1)) h of \(report.packs.count) packs in parallel (\(report.profileName), inverter \(report.inverterProfile), seed \(report.seed)) in \(fixed(report.wallSeconds, 1)) s")
            for p in report.packs {
                print("  pack \(p.number): \(fixed(p.capacityAh, 1)) Ah \(p.spread), SOC \(fixed(p.socTrueFinal * 100, 1)) % (BMS \(p.socEstimatedFinal.map { fixed($0 * 100, 1) } ?? "-") %), max \(fixed(p.stats.maxCharge, 1)) A in / \(fixed(p.stats.maxDischarge, 1)) A out, \(p.trips) trips, over its own limit \(fixed(p.stats.secondsOverLimit, 0)) s, leader \(fixed(p.leaderSeconds / 3600, 1)) h")
            }
            print("  unserved load \(fixed(report.unservedLoadWh, 1)) Wh; leaders: " + report.leaderChanges.map { "pack \($0.address) from \(fixed($0.seconds, 0)) s" }.joined(separator: ", "))
            for e in report.events where e.record.kind == "trip" || e.record.kind == "bank_fault" || e.record.kind == "pack_left" {
                print("  t=\(fixed(e.record.seconds, 1)) s pack \(e.pack) \(e.record.kind)\(e.about.map { " about pack \($0)" } ?? "")\(e.record.fault.map { " \($0)" } ?? "")\(e.record.cell.map { " cell \($0)" } ?? "")")
            }
        }

        func write(_ report: SimulationReport) throws {
            if let out { try writeText(report.csv(), to: out) }
            if let plot { try writeText(report.svg(), to: plot) }
            if json {
                print(report.summaryJSON(), terminator: "")
                return
            }
            let s = report.stats
            print("simulated \(fixed(report.simulatedSeconds / 3600, 1)) h of \(report.setup.cells)S \(report.setup.chemistry.name) \(fixed(Double(report.setup.capacityAh), 1)) Ah (\(report.profileName), seed \(report.setup.seed)) in \(fixed(report.wallSeconds, 1)) s")
            print("cells \(fixed(s.minCellVoltage, 3))…\(fixed(s.maxCellVoltage, 3)) V, hottest cell \(fixed(Double(s.maxCellTemperature), 1)) °C, charged \(fixed(s.energyChargedWh, 1)) Wh, discharged \(fixed(s.energyDischargedWh, 1)) Wh, unserved load \(fixed(s.unservedLoadWh, 1)) Wh")
            let estimate = report.finalEstimatedSOC.map { "\(fixed(Double($0 * 100), 1)) %" } ?? "none"
            print("SOC at the end: true \(fixed(Double(report.finalSOC * 100), 1)) %, BMS estimate \(estimate) (error over the run: RMS \(String(format: "%.2f", report.estimateRMSEPercent)), max \(String(format: "%.2f", report.estimateMaxErrorPercent)) points)")
            let trips = report.events.filter { $0.kind == "trip" }
            if let h = report.health {
                let w = h.weakCells
                let why = w.emptiesFirstCauses.names.map { $0.replacingOccurrences(of: "_", with: " ") }
                print("health: SOH \(fixed(Double(h.sohEstimated * 100), 1)) % (true \(fixed(Double(h.sohTrue * 100), 1)) %), \(fixed(Double(h.remainingWh), 0)) Wh left, cell \(w.emptiesFirst + 1) empties first" + (why.isEmpty ? "" : " (\(why.joined(separator: ", ")))") + ", lowest capacity cell \(w.lowestCapacity + 1) at \(fixed(Double(w.lowestCapacityRatio * 100), 0)) % of the median")
            }
            if s.balancingEnergyWh > 0 || s.socSpreadAtFull != nil {
                print("balancing: SOC spread \(fixed(Double(s.socSpreadStart) * 100, 1)) % at the start, " + (s.socSpreadAtFull.map { "\(fixed(Double($0) * 100, 1)) % at the last full charge" } ?? "never full") + ", \(fixed(s.balancingEnergyWh, 1)) Wh \(activeBalancer == nil ? "bled" : "lost in the active balancer"), board up to \(fixed(Double(s.maxBoardTemperature), 1)) °C")
            }
            print("\(trips.count) trip(s)" + (trips.isEmpty ? "" : ": " + trips.prefix(8).map { "\($0.fault ?? "?")\($0.cell.map { " cell \($0)" } ?? "") at \(fixed($0.seconds / 3600, 1)) h" }.joined(separator: ", ") + (trips.count > 8 ? ", …" : "")))
            if s.secondsOverVoltage + s.secondsUnderVoltage + s.secondsOverTemperature > 0 {
                print("LIMITS EXCEEDED WITH CURRENT FLOWING: \(Int(s.secondsOverVoltage)) s over-voltage, \(Int(s.secondsUnderVoltage)) s under-voltage, \(Int(s.secondsOverTemperature)) s over-temperature (beyond the trip plus margin)")
            }
            let payg = report.events.filter { $0.kind.hasPrefix("payg_") }
            if !payg.isEmpty {
                print("pay-as-you-go: " + payg.map { e in
                    let what = e.kind == "payg_entry"
                        ? "token \((e.outcome ?? "?").replacingOccurrences(of: "_", with: " "))"
                        : e.kind.replacingOccurrences(of: "payg_", with: "")
                    return "\(what) at \(fixed(e.seconds / 3600, 1)) h"
                }.joined(separator: ", "))
            }
            for (path, what) in [(out, "time series"), (plot, "plot")] { if let path { print("wrote \(what) to \(path)") } }
        }
    }
}

/// The validated parameters of a `sim` run.
struct SimulationPlan {
    enum ProfileChoice { case standard(StandardProfile.Kind), csv(String) }
    var setup: SimulationSetup
    var config: BMSConfig
    var profile: ProfileChoice
    var durationMs: UInt64
    var sampleMs: UInt64
    var faults: [ScheduledFault]
    var payg: SimulatedPAYG?
    var activeBalancer: ActiveBalancerBoard?
    var inverter: InverterSettings?
    var canLog: String?
    /// Several packs: each one's setup and faults; empty for a single pack.
    var bank: [(setup: SimulationSetup, faults: [ScheduledFault])] = []
    var joinDifference: Float = 1
    var bankPolicy = BankPolicy.strict

    init(_ o: FlexBMS.Sim) throws {
        var config: BMSConfig?
        if let path = o.config {
            do {
                config = try ConfigFile.read(path: path).config
            } catch {
                throw CLIError("\(path): \(error)")
            }
            let violations = config!.validate()
            guard violations.isEmpty else {
                throw CLIError("\(path) is invalid: " + violations.map { "\($0)" }.joined(separator: "; "))
            }
        }
        let chemistry = o.chemistry?.chemistry ?? config?.pack.chemistry ?? .lfp
        let cells = o.cells ?? config.map { Int($0.pack.seriesCells) } ?? 16
        let capacity = o.capacity ?? config?.pack.capacityAh ?? 280
        guard (3...16).contains(cells) else { throw CLIError("--cells must be 3 to 16, got \(cells)") }
        if let parallel = o.parallel, !(1...64).contains(parallel) {
            throw CLIError("--parallel must be 1 to 64, got \(parallel)")
        }
        guard capacity.isFinite, capacity >= 1, capacity <= 5000 else {
            throw CLIError("--capacity must be 1 to 5000 Ah, got \(capacity)")
        }
        guard CellParameters.of(chemistry) != nil else {
            throw CLIError("the simulator has no cell model for chemistry \(chemistry.name); use lfp, nmc, nca or lto")
        }
        if let c = config {
            if Int(c.pack.seriesCells) != cells || c.pack.chemistry != chemistry && c.pack.chemistry != .custom {
                throw CLIError("the configuration is for \(c.pack.seriesCells) \(c.pack.chemistry.name) cells, the pack has \(cells) \(chemistry.name) cells")
            }
            if c.pack.capacityAh != capacity {
                throw CLIError("the configuration is for \(format(c.pack.capacityAh)) Ah, --capacity says \(format(capacity)) Ah")
            }
        }
        guard let spread = SpreadPreset(name: o.spread) else {
            throw CLIError("--spread must be new or second-life, got \(o.spread)")
        }
        guard o.initialSOC.isFinite, o.initialSOC >= 0, o.initialSOC <= 1 else {
            throw CLIError("--initial-soc must be 0 to 1, got \(o.initialSOC)")
        }
        guard let ambient = Quantity.temperature(o.ambient) else {
            throw CLIError("--ambient: \"\(o.ambient)\" is not a temperature (e.g. 25C)")
        }
        guard o.ambientSwing.isFinite, o.ambientSwing >= 0, o.ambientSwing <= 30 else {
            throw CLIError("--ambient-swing must be 0 to 30 K, got \(o.ambientSwing)")
        }
        guard let stepMs = Quantity.duration(o.step), stepMs >= 10, stepMs <= 60_000 else {
            throw CLIError("--step must be 10ms to 60s, got \(o.step)")
        }
        guard let sampleMs = Quantity.duration(o.sample), sampleMs >= stepMs else {
            throw CLIError("--sample must be a duration of at least the step (\(o.step)), got \(o.sample)")
        }
        if o.days != nil && o.duration != nil { throw CLIError("give --days or --duration, not both") }
        var durationMs: UInt64 = 86_400_000
        if let d = o.days {
            guard d.isFinite, d > 0, d <= 3660 else { throw CLIError("--days must be above 0 and at most 3660, got \(d)") }
            durationMs = UInt64((d * 86_400_000).rounded())
        } else if let d = o.duration {
            guard let ms = Quantity.duration(d), ms > 0 else { throw CLIError("--duration: \"\(d)\" is not a duration (e.g. 30h, 2d)") }
            durationMs = ms
        }
        guard durationMs >= stepMs else { throw CLIError("the run is shorter than one step") }

        var setup = SimulationSetup(chemistry: chemistry, cells: cells, capacityAh: capacity)
        setup.parallel = o.parallel ?? config.map { Int($0.pack.parallelCells) } ?? 1
        setup.spread = spread
        setup.initialSOC = o.initialSOC
        setup.ambient = ambient
        setup.ambientSwing = o.ambientSwing
        setup.stepMilliseconds = stepMs
        setup.seed = o.seed
        setup.config = config
        guard let resolved = setup.bmsConfig else { throw CLIError("no preset for \(chemistry.name)") }
        self.config = resolved
        self.setup = setup

        if let path = o.profileCSV {
            profile = .csv(path)
        } else if let kind = StandardProfile.Kind(name: o.profile) {
            profile = .standard(kind)
        } else {
            throw CLIError("--profile must be one of " + StandardProfile.Kind.allCases.map { "\($0.name)" }.joined(separator: ", ") + ", got \(o.profile)")
        }
        var faults: [ScheduledFault] = []
        let sensors = min(cells, 4) + 2
        guard (1...8).contains(o.packs) else { throw CLIError("--packs must be 1 to 8, got \(o.packs)") }
        var packFaults = [[ScheduledFault]](repeating: [], count: o.packs)
        for text in o.fault {
            switch FaultSpec.parse(text) {
            case .failure(let error): throw CLIError("--fault \(error)")
            case .success(let spec):
                guard spec.pack >= 1 && spec.pack <= o.packs else {
                    throw CLIError("--fault \(text): pack \(spec.pack), but \(o.packs == 1 ? "one pack is" : "\(o.packs) packs are") simulated (see --packs)")
                }
                if o.packs > 1 {
                    switch spec.fault.kind {
                    case .inverterSilent:
                        throw CLIError("--fault \(text): inverter-silent is for single-pack runs; in a bank the inverter stays")
                    case .coldAmbient, .hotAmbient:
                        for k in 0..<o.packs { packFaults[k].append(spec.fault) }  // one room
                    case .chargerOvervoltage, .loadShort, .overload:
                        packFaults[0].append(spec.fault)  // the bank's bus reads them from pack 1
                    default:
                        packFaults[spec.pack - 1].append(spec.fault)
                    }
                } else if spec.fault.kind == .canSilent {
                    throw CLIError("--fault \(text): can-silent needs --packs 2 or more")
                }
                if spec.fault.kind.target == .cell && spec.fault.index >= cells {
                    throw CLIError("--fault \(text): cell \(spec.fault.index + 1), but the pack has \(cells) cells")
                }
                if spec.fault.kind.target == .sensor && spec.fault.index >= sensors {
                    throw CLIError("--fault \(text): thermistor \(spec.fault.index + 1), but the pack has \(sensors) (\(sensors - 2) on cells, then MOSFET, board)")
                }
                faults.append(spec.fault)
            }
        }
        guard faults.count <= 16 else { throw CLIError("at most 16 --fault options") }
        payg = try SimulatedPAYG(o)
        if let amps = o.activeBalancer {
            guard amps >= 0.05 && amps <= 10 else {
                throw CLIError("--active-balancer must be 0.05 to 10 A per cell, got \(amps)")
            }
            activeBalancer = ActiveBalancerBoard(maximumCurrent: Float(amps))
        }
        if let name = o.inverter {
            guard let profile = InverterProfile.allCases.first(where: { "\($0.name)" == name }) else {
                throw CLIError("--inverter must be one of " + InverterProfile.allCases.map { "\($0.name)" }.joined(separator: ", ") + ", got \(name)")
            }
            var settings = InverterSettings(profile: profile)
            if let text = o.inverterName {
                let ok = Array(text.utf8).withUnsafeBufferPointer { settings.setName(bytes: $0) }
                guard ok else { throw CLIError("--inverter-name must be 1 to 16 printable ASCII characters, got \"\(text)\"") }
            }
            inverter = settings
        } else if o.inverterName != nil || o.canLog != nil {
            throw CLIError("--inverter-name and --can-log need --inverter")
        }
        if faults.contains(where: { $0.kind == .inverterSilent }) && inverter == nil {
            throw CLIError("--fault inverter-silent needs --inverter")
        }
        canLog = o.canLog
        if o.packs > 1 {
            guard o.out == nil && o.plot == nil else { throw CLIError("--out and --plot are for single-pack runs; with --packs use --json") }
            guard payg == nil && activeBalancer == nil else {
                throw CLIError("--payg-… and --active-balancer are for single-pack runs")
            }
            func list<T>(_ text: String?, _ option: String, _ parse: (String) -> T?) throws -> [T]? {
                guard let text else { return nil }
                let items = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
                guard items.count == o.packs else {
                    throw CLIError("--\(option) needs \(o.packs) comma-separated values (one per pack), got \(items.count)")
                }
                return try items.map { item in
                    guard let v = parse(item) else { throw CLIError("--\(option): \"\(item)\" is not valid") }
                    return v
                }
            }
            let defaults = o.packCapacity == nil && o.packSpread == nil
            let capacities = try list(o.packCapacity, "pack-capacity") { Float($0).flatMap { $0.isFinite && $0 >= 1 && $0 <= 5000 ? $0 : nil } }
                ?? (0..<o.packs).map { defaults && $0 == o.packs - 1 ? capacity * 0.8 : capacity }
            let spreads = try list(o.packSpread, "pack-spread") { SpreadPreset(name: $0) }
                ?? (0..<o.packs).map { defaults && $0 == o.packs - 1 ? .secondLife : spread }
            let socs = try list(o.packSOC, "pack-soc") { Float($0).flatMap { $0.isFinite && $0 >= 0 && $0 <= 1 ? $0 : nil } }
                ?? [Float](repeating: o.initialSOC, count: o.packs)
            guard o.joinDifference.isFinite && o.joinDifference >= 0.05 && o.joinDifference <= 10 else {
                throw CLIError("--join-difference must be 0.05 to 10 V, got \(o.joinDifference)")
            }
            joinDifference = o.joinDifference
            switch o.bankPolicy {
            case "strict": bankPolicy = .strict
            case "lenient": bankPolicy = .lenient
            default: throw CLIError("--bank-policy must be strict or lenient, got \(o.bankPolicy)")
            }
            for k in 0..<o.packs {
                var s = setup
                s.capacityAh = capacities[k]
                s.spread = spreads[k]
                s.initialSOC = socs[k]
                s.seed = setup.seed &+ UInt64(k) &* 7919
                if var c = setup.config {
                    c.pack.capacityAh = capacities[k]
                    s.config = c
                }
                guard packFaults[k].count <= 16 else { throw CLIError("at most 16 --fault options per pack") }
                bank.append((s, packFaults[k]))
            }
        } else if o.packCapacity != nil || o.packSpread != nil || o.packSOC != nil {
            throw CLIError("--pack-capacity, --pack-spread and --pack-soc need --packs 2 or more")
        }
        self.faults = faults
        self.durationMs = durationMs
        self.sampleMs = sampleMs
    }

    func runBank<P: PowerProfile>(profile: P, name: String, progress: inout ProgressBar) throws -> BankReport {
        var packs: [Simulation<NoDemand>] = []
        for (k, member) in bank.enumerated() {
            do {
                var sim = try Simulation(setup: member.setup, profile: NoDemand())
                for f in member.faults { sim.schedule(f) }
                packs.append(sim)
            } catch {
                throw CLIError("cannot start pack \(k + 1): \(error.description)")
            }
        }
        let settings = inverter ?? InverterSettings(profile: .pylon)
        var run: SimulatedBank<P>
        do {
            run = try SimulatedBank(sim: ParallelSimulation(packs: packs, profile: profile), inverter: settings,
                                    joinDifference: joinDifference, policy: bankPolicy, logPath: canLog)
        } catch {
            throw CLIError(error.description)
        }
        var report = withUnsafeMutablePointer(to: &progress) { bar in
            BankRunner.run(&run, durationMs: durationMs, profileName: name, progress: { bar.pointee.update($0) })
        }
        do { try run.finish() } catch { throw CLIError(error.description) }
        report.inverterProfile = "\(settings.profile.name)"
        return report
    }

    func run<P: PowerProfile>(profile: P, name: String, progress: inout ProgressBar) throws -> SimulationReport {
        var simulation: Simulation<P>
        do {
            simulation = try Simulation(setup: setup, profile: profile)
        } catch {
            throw CLIError("cannot start the simulation: \(error.description)")
        }
        for f in faults { simulation.schedule(f) }
        if let board = activeBalancer { simulation.setActiveBalancer(board) }
        var payg = self.payg
        let hook: ((inout Simulation<P>) -> Void)? = payg == nil ? nil : { sim in payg!.step(&sim) }
        var bus: SimulatedInverterBus?
        if let settings = inverter {
            do {
                bus = try SimulatedInverterBus(settings: settings, logPath: canLog)
            } catch {
                throw CLIError(error.description)
            }
        }
        let after: ((inout Simulation<P>, StepRecord) -> Void)? = bus == nil ? nil : { sim, record in bus!.afterStep(&sim, record) }
        var report = withUnsafeMutablePointer(to: &progress) { bar in
            SimulationRunner.run(&simulation, durationMs: durationMs, sampleMs: sampleMs,
                                 profileName: name, beforeStep: hook, afterStep: after,
                                 progress: { bar.pointee.update($0) })
        }
        if var bus {
            do {
                try bus.finish()
            } catch {
                throw CLIError(error.description)
            }
            report.inverter = InverterRunSummary(bus)
        }
        return report
    }
}

/// A failure found while running a command (as opposed to `ValidationError`, which is for
/// arguments rejected before `run()` and prints the usage): the message only.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A progress bar on stderr, shown only on a terminal and only once a run has taken a second.
struct ProgressBar {
    let start = Date()
    let enabled = isatty(2) == 1
    var shown = false

    mutating func update(_ fraction: Double) {
        guard enabled, Date().timeIntervalSince(start) > 1 else { return }
        shown = true
        let width = 40
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r[\(bar)] \(Int(fraction * 100))%".utf8))
    }

    func finish() {
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}

func writeText(_ text: String, to path: String) throws {
    do {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw CLIError("cannot write \(path): \((error as NSError).localizedDescription)")
    }
}


/// Pay-as-you-go in the virtual device: the token decoder beside the BMS, as the firmware
/// will have it — the credit handed to the core every step, scheduled tokens entered at their
/// time and logged. The device clock is the simulated time.
struct SimulatedPAYG {
    var device: PAYGDevice
    /// Tokens to enter, by simulated second, in time order.
    var schedule: [(second: UInt64, text: String)]

    init?(_ o: FlexBMS.Sim) throws {
        guard o.paygKey != nil || o.paygStartingCode != nil || !o.paygToken.isEmpty else { return nil }
        guard let hex = o.paygKey, let code = o.paygStartingCode else {
            throw CLIError("pay-as-you-go needs both --payg-key and --payg-starting-code")
        }
        let key: SipHashKey
        do { key = try PAYGFiles.key(hex: hex) } catch { throw CLIError("--payg-key: \(error)") }
        guard code >= 1 && code <= TokenChain.maximumToken else {
            throw CLIError("--payg-starting-code must be 1 … 999999999, got \(code)")
        }
        guard o.paygDivider >= 1 else { throw CLIError("--payg-divider must be 1 … 255") }
        device = PAYGDevice(provisioning: PAYGProvisioning(chain: TokenChain(key: key, startingCode: code),
                                                           timeDivider: o.paygDivider))
        schedule = try o.paygToken.map { text in
            let parts = text.split(separator: "@", maxSplits: 1)
            guard parts.count == 2, let ms = Quantity.duration(String(parts[1])) else {
                throw CLIError("--payg-token must be TOKEN@TIME, e.g. 123456789@36h, got \(text)")
            }
            return (ms / 1000, String(parts[0]))
        }.sorted { $0.second < $1.second }
    }

    mutating func step<P: PowerProfile>(_ sim: inout Simulation<P>) {
        let now = sim.time.milliseconds / 1000
        while let next = schedule.first, next.second <= now {
            schedule.removeFirst()
            switch device.enter(Array(next.text.utf8).span, now: now) {
            case .accepted(_, let value, _): sim.recordPAYGEntry(.accepted, value: Float(value))
            case .alreadyUsed: sim.recordPAYGEntry(.alreadyUsed, value: 0)
            case .invalid: sim.recordPAYGEntry(.invalid, value: 0)
            case .lockedOut: sim.recordPAYGEntry(.lockedOut, value: 0)
            }
        }
        sim.updateCredit(PAYGCredit(enforced: device.state.enabled, secondsLeft: device.secondsLeft(now: now),
                                    secondsExpired: device.secondsExpired(now: now)))
    }
}
