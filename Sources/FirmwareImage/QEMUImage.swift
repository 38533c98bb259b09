// The FlexBMS firmware image for QEMU (DeviceImage.swift is the board's, built with
// -DFLEXBMS_DEVICE): the device application (Sources/Firmware) with the
// real BQ76952 driver, whose I2C bus is the emulated board (PackSim.EmulatedBoard: the
// virtual pack behind a register-level BQ76952). Console, flash, watchdog, clock and the
// FET-off lines are the board's (Sources/Board). Time is the simulation's: each 10 ms poll
// advances the pack by 10 ms, as fast as the emulated CPU runs.
//
// The first word of the command line is the scenario, the second the flash file:
//   offgrid         2 h of the off-grid day from 60 %: no trip, the switches stay closed
//   overvoltage     one cell far ahead while charging: the firmware trips cell over-voltage,
//                   the charge FET opens, and the trip releases once the cell relaxes
//   short           a short across the terminals: the chip cuts it, the firmware holds it
//   afe-silent      the AFE stops answering: afe_silent, FETs off through the FET-off lines
//   settings        run 2 s with console input (ThingSet text on the UART), save, exit
//   boot            boot and print where the settings came from and sCellOvervoltage_V
//   inverter        a Victron inverter on the CAN bus (frames printed as `#can` lines), a
//                   short at 6 s: the discharge limit goes to zero
//   bench           instructions per control step, with QEMU's -icount shift=0
//                   (FIRMWARE_ICOUNT=1): 1 ms of the board clock = 10^6 instructions
// Exit code 0 is a pass; 1 a failed check (the line before says which).
import AFE
import BMSCore
import Board
import Firmware
import Inverter
import PackSim
import ThingSet

#if !FLEXBMS_DEVICE
typealias ImageBoard = EmulatedBoard<StandardProfile, BQ76952Emulator>
typealias ImageApp = DeviceApplication<BQ76952Driver<ImageBoard>, BoardFlash>

enum Scenario { case offgrid, overvoltage, short, afeSilent, settings, boot, bench, inverter }

@main struct FirmwareImage {
    static func main() {
        board_init()
        var line = InlineArray<128, UInt8>(repeating: 0)
        let count = withUnsafeMutableBytes(of: &line) { raw in
            raw.withMemoryRebound(to: CChar.self) { board_command_line($0.baseAddress, $0.count) }
        }
        let scenario: Scenario? = withUnsafeBytes(of: &line) { raw in
            let words = UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[0..<count])
            if firstWord(words, is: "offgrid") { return .offgrid }
            if firstWord(words, is: "overvoltage") { return .overvoltage }
            if firstWord(words, is: "short") { return .short }
            if firstWord(words, is: "afe-silent") { return .afeSilent }
            if firstWord(words, is: "settings") { return .settings }
            if firstWord(words, is: "boot") { return .boot }
            if firstWord(words, is: "bench") { return .bench }
            if firstWord(words, is: "inverter") { return .inverter }
            return nil
        }
        guard let scenario else {
            print("unknown scenario; one of: offgrid overvoltage short afe-silent settings boot bench inverter")
            exit(2)
        }
        print("FlexBMS firmware 0.7.0, 16s LFP 100 Ah on an emulated BQ76952")
        let verdict = run(scenario)
        print("stack used after start-up: ", terminator: "")
        putDecimal(board_stack_used())
        print("")
        print(verdict ? "PASS" : "FAIL")
        exit(verdict ? 0 : 1)
    }

    static func run(_ scenario: Scenario) -> Bool {
        let defaults = BMSConfig.preset(.lfp, cells: 16, capacityAh: 100)!
        var setup = SimulationSetup(chemistry: .lfp, cells: 16, capacityAh: 100)
        setup.stepMilliseconds = 10
        setup.seed = 3
        switch scenario {
        case .overvoltage: setup.initialSOC = 0.8
        default: setup.initialSOC = 0.6
        }
        let kind: StandardProfile.Kind = scenario == .overvoltage ? .cccvCharge : .offgridDay
        guard var board = try? ImageBoard(setup: setup, profile: StandardProfile(kind, config: defaults, seed: 3)) else {
            print("cannot build the emulated board")
            return false
        }
        if scenario == .overvoltage { board.setSOC(0.995, group: 6) }
        var id = InlineArray<16, UInt8>(repeating: 0x30)
        id[15] = 0x31
        guard let app = try? ImageApp(chip: BQ76952Driver(bus: board, shuntResistance: 0.0003), flash: BoardFlash(),
                                      defaults: defaults, nodeID: id,
                                      tokens: AuthTokens(expert: "expert", manufacturer: "maker"), now: 0,
                                      inverter: scenario == .inverter ? InverterSettings(profile: .victron) : nil) else {
            print("the settings do not make a valid configuration")
            return false
        }
        switch app.settingsSource {
        case .defaults: print("settings: defaults")
        case .flash: print("settings: from flash")
        case .flashRejected: print("settings: flash record rejected, defaults")
        }
        print(app.stateRestored ? "state: restored" : "state: none")
        board_watchdog_start(2000)
        var run = Runner(app: app)
        print("stack used by start-up: ", terminator: "")
        putDecimal(board_stack_used())
        print("")
        board_stack_repaint()
        switch scenario {
        case .offgrid:
            run.until(2 * 3600 * 1000)
            let ok = run.app.bms.protection.active.isEmpty && run.chargeFET && run.dischargeFET
            report("offgrid: 2 h, SOC ", run.app.bms.packSOC ?? -1)
            return check(ok, "no fault and both switches closed after 2 h")
        case .overvoltage:
            run.until(600_000) { $0.tripped(.cellOvervoltage) }
            guard check(run.app.bms.protection.active.contains(.cellOvervoltage), "cell over-voltage tripped") else {
                return false
            }
            report("tripped at s ", Float(Int(run.now)) / 1000)
            guard check(!run.chargeFET && run.dischargeFET, "charge FET open, discharge closed") else { return false }
            let tripAt = run.now
            run.until(tripAt + 60_000) { !$0.app.bms.protection.active.contains(.cellOvervoltage) }
            report("released at s ", Float(Int(run.now)) / 1000)
            return check(!run.app.bms.protection.active.contains(.cellOvervoltage), "released")
        case .short:
            run.until(5000)
            guard check(run.dischargeFET, "discharge closed before the short") else { return false }
            run.app.chip.bus.loadShort = true
            let at = run.now
            run.until(at + 200)
            guard check(!run.dischargeFET, "the chip opened discharge") else { return false }
            guard check(run.app.bms.protection.active.contains(.shortCircuit), "firmware knows: short_circuit") else {
                return false
            }
            run.until(at + 15_000)
            return check(!run.dischargeFET, "held open after the chip's own recovery time")
        case .afeSilent:
            run.until(5000)
            run.app.chip.bus.chip.silent = true
            let at = run.now
            run.until(at + run.app.bms.config.plausibility.measurementTimeoutMs + 500)
            guard check(run.app.bms.protection.active.contains(.afeSilent), "afe_silent") else { return false }
            guard check(board_afe_fets_off_state() == 3, "both FET-off lines asserted") else { return false }
            return check(!run.chargeFET && !run.dischargeFET, "both FETs open without I2C")
        case .settings:
            run.until(2000)
            guard check(run.app.saveSettings(), "settings saved") else { return false }
            guard check(run.app.saveState(), "estimator state saved") else { return false }
            report("sCellOvervoltage_V now ", run.app.bms.config.cellVoltage.overvoltage)
            return true
        case .boot:
            run.until(1000)
            report("sCellOvervoltage_V ", run.app.bms.config.cellVoltage.overvoltage)
            return true
        case .bench:
            run.until(2000)
            return bench(&run.app)
        case .inverter:
            run.until(6000)
            guard check(run.dischargeFET, "discharge closed before the short") else { return false }
            run.app.chip.bus.loadShort = true
            run.until(12_000)
            return check(!run.dischargeFET, "the chip opened discharge; the frames tell the inverter")
        }
    }

    /// Instructions of 1000 control steps (the pack standing still), and of 1000 AFE reads
    /// alone; both include the chip emulator answering the I2C transfers on this CPU.
    @inline(never)
    static func bench(_ app: inout ImageApp) -> Bool {
        let steps: UInt32 = 1000
        var now: UInt32 = 10_000
        var start = board_millis()
        for _ in 0..<steps {
            now += 100
            _ = app.poll(now: now, alert: false) { _ in }
        }
        let stepMs = board_millis() &- start
        start = board_millis()
        var failures: UInt32 = 0
        for _ in 0..<steps where (try? app.chip.read()) == nil { failures += 1 }
        let readMs = board_millis() &- start
        // 1 ms of virtual time is 10^6 instructions; per step that is ms × 1000 / steps.
        report("instructions per control step (thousands): ", Float(Int(stepMs)))
        report("instructions per AFE read with the emulator (thousands): ", Float(Int(readMs)))
        return check(failures == 0 && stepMs > 0, "measured")
    }

    static func check(_ ok: Bool, _ what: StaticString) -> Bool {
        print(ok ? "ok: " : "FAILED: ", terminator: "")
        print(what)
        return ok
    }

    /// `label` then a number with three decimals (no Float printing in the image).
    static func report(_ label: StaticString, _ value: Float) {
        print(label, terminator: "")
        if value < 0 { print("-", terminator: "") }
        let milli = UInt32(abs(value) * 1000 + 0.5)
        putDecimal(milli / 1000)
        print(".", terminator: "")
        let frac = milli % 1000
        if frac < 100 { print("0", terminator: "") }
        if frac < 10 { print("0", terminator: "") }
        putDecimal(frac)
        print("")
    }

    static func exit(_ code: Int32) -> Never { board_exit(code) }

    /// Whether the command line's first word is `word`.
    static func firstWord(_ line: UnsafeBufferPointer<UInt8>, is word: StaticString) -> Bool {
        word.withUTF8Buffer { w in
            if line.count < w.count { return false }
            if line.count > w.count && line[w.count] != UInt8(ascii: " ") { return false }
            for i in 0..<w.count where line[i] != w[i] { return false }
            return true
        }
    }

    static func putDecimal(_ value: UInt32) {
        var divisor: UInt32 = 1
        while value / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            _ = putchar(Int32(48 + (value / divisor) % 10))
            divisor /= 10
        }
    }
}

/// The main loop: a pass of the application every 10 ms of simulated time, the pack following,
/// the FET-off lines and ALERT between the board and the emulated chip.
struct Runner {
    var app: ImageApp
    var now: UInt32 = 0

    var chargeFET: Bool { app.chip.bus.chip.chargeFET }
    var dischargeFET: Bool { app.chip.bus.chip.dischargeFET }

    func tripped(_ fault: Fault) -> Bool { app.bms.protection.active.contains(fault) }

    mutating func until(_ end: UInt32, stop: (Runner) -> Bool = { _ in false }) {
        var board = MCUBoard()
        while now < end && !stop(self) {
            now += 10
            app.chip.bus.advance(to: UInt64(now))
            // The board's lines to the emulated chip's pins, and its ALERT back.
            let lines = board_afe_fets_off_state()
            app.chip.bus.chip.chargeOffPin = lines & 1 != 0
            app.chip.bus.chip.dischargeOffPin = lines & 2 != 0
            board_set_afe_alert(app.chip.bus.chip.alert ? 1 : 0)
            board.simulatedTime = now
            app.pass(on: &board)
        }
    }
}
#endif
