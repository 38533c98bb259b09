import AFE
import Inverter
import BMSCore
import FlexBMSTools
import PackSim
import Testing
import ThingSet
@testable import Firmware

/// The device application on the emulated board: the same code as the firmware image, with
/// the pack behind a BQ76952 emulator and the flash in RAM.
struct DeviceApplicationTests {
    typealias Board = EmulatedBoard<StandardProfile, BQ76952Emulator>
    typealias App = DeviceApplication<BQ76952Driver<Board>, RAMFlash>

    static var defaults: BMSConfig { BMSConfig.preset(.lfp, cells: 16, capacityAh: 100)! }

    static func board(_ kind: StandardProfile.Kind, soc: Float) throws -> Board {
        var setup = SimulationSetup(chemistry: .lfp, cells: 16, capacityAh: 100)
        setup.initialSOC = soc
        setup.stepMilliseconds = 100
        return try Board(setup: setup, profile: StandardProfile(kind, config: defaults, seed: 3))
    }

    static func app(_ board: Board, flash: RAMFlash = RAMFlash()) throws -> App {
        var id = InlineArray<16, UInt8>(repeating: 0x30)
        id[15] = 0x31
        return try App(chip: BQ76952Driver(bus: board, shuntResistance: 0.0003), flash: flash, defaults: defaults,
                       nodeID: id, tokens: AuthTokens(expert: "expert", manufacturer: "maker"), now: 0)
    }

    /// Runs the app for `ms` at 10 ms polls, the pack following; collects console output.
    static func run(_ app: inout App, from start: UInt32, ms: UInt32, output: inout String) {
        var t = start
        while t < start + ms {
            t += 10
            app.chip.bus.advance(to: UInt64(t))
            app.chip.bus.chip.chargeOffPin = app.forceChargeOff
            app.chip.bus.chip.dischargeOffPin = app.forceDischargeOff
            var text = output
            _ = app.poll(now: t, alert: app.chip.bus.chip.alert) { bytes in text += String(decoding: bytes, as: UTF8.self) }
            output = text
        }
    }

    static func send(_ app: inout App, _ line: String) -> String {
        var answer = ""
        for b in (line + "\n").utf8 { app.receive(b) { answer += String(decoding: $0, as: UTF8.self) } }
        return answer
    }

    @Test func bootsOnDefaultsAndClosesTheSwitches() throws {
        var app = try Self.app(Self.board(.offgridDay, soc: 0.6))
        #expect(app.settingsSource == .defaults)
        var out = ""
        Self.run(&app, from: 0, ms: 3000, output: &out)
        #expect(app.afeStarted)
        #expect(app.chip.bus.chip.chargeFET && app.chip.bus.chip.dischargeFET)
        #expect(abs(app.lastReading!.cellVoltages[3] - app.chip.bus.pack.groups[3].voltage) < 0.002)
        #expect(app.chipProtection.map { abs($0.cellOvervoltage - 3.8448) < 0.001 } ?? false, "3.75 V + 50 mV → 76 steps")
        #expect(app.scheduler.controlSteps == 31, "at 10 ms, then every 100 ms to 3000")
        #expect(app.scheduler.overruns == 0)
    }

    @Test func overvoltageTripsInFirmwareAndOpensTheChargeFET() throws {
        // One cell far ahead of the others: it reaches its limit long before the pack is full.
        var board = try Self.board(.cccvCharge, soc: 0.80)
        board.setSOC(0.995, group: 6)
        var app = try Self.app(board)
        var out = ""
        var t: UInt32 = 0
        while !out.contains("trip cell_overvoltage") && t < 600_000 {
            Self.run(&app, from: t, ms: 100, output: &out)
            t += 100
        }
        #expect(out.contains("trip cell_overvoltage cell 7"), "\(out)")
        #expect(!app.chip.bus.chip.chargeFET && app.chip.bus.chip.dischargeFET, "opened in the step that tripped")
        #expect(app.lastReading!.status.tripped.isEmpty)
        // With the current gone the cell relaxes below its reset voltage: released.
        Self.run(&app, from: t, ms: 5000, output: &out)
        #expect(out.contains("release cell_overvoltage cell 7"))
    }

    @Test func aShortIsCutByTheChipAndHeldByTheFirmware() throws {
        var board = try Self.board(.offgridDay, soc: 0.6)
        var app = try Self.app(board)
        var out = ""
        Self.run(&app, from: 0, ms: 2000, output: &out)
        #expect(app.chip.bus.chip.dischargeFET)
        board = app.chip.bus
        app.chip.bus.loadShort = true
        Self.run(&app, from: 2000, ms: 200, output: &out)
        #expect(!app.chip.bus.chip.dischargeFET)
        #expect(app.bms.protection.active.contains(.shortCircuit))
        #expect(app.chip.bus.current >= 0, "no current flows once the chip has cut it")
        // The chip retries after its recovery time; the firmware keeps discharge off.
        Self.run(&app, from: 2200, ms: 10_000, output: &out)
        #expect(!app.chip.bus.chip.dischargeFET)
        #expect(out.contains("trip short_circuit"))
        #expect(!out.contains("switch_failure"), "the chip holding a FET off is not a switch failure: \(out)")
    }

    @Test func aSilentAFEEndsInTheSafeStateThroughTheFETOffLines() throws {
        var app = try Self.app(Self.board(.offgridDay, soc: 0.6))
        var out = ""
        Self.run(&app, from: 0, ms: 2000, output: &out)
        app.chip.bus.chip.silent = true
        let timeout = app.bms.config.plausibility.measurementTimeoutMs
        Self.run(&app, from: 2000, ms: timeout + 200, output: &out)
        #expect(app.bms.protection.active.contains(.afeSilent))
        #expect(app.forceChargeOff && app.forceDischargeOff)
        #expect(!app.chip.bus.chip.chargeFET && !app.chip.bus.chip.dischargeFET, "opened by the pins, not by I2C")
        #expect(app.afeFailures > 0)
        var healthy = true
        _ = app.poll(now: 2000 + timeout + 300, alert: false) { _ in }
        healthy = app.poll(now: 2000 + timeout + 400, alert: false) { _ in }
        #expect(!healthy, "the main loop must not kick the watchdog on stale data")
    }

    @Test func settingsChangedOverTheConsoleSurviveAReset() throws {
        var app = try Self.app(Self.board(.offgridDay, soc: 0.6))
        var out = ""
        Self.run(&app, from: 0, ms: 1000, output: &out)
        #expect(Self.send(&app, "!xAuth \"expert\"").hasPrefix(":8"))
        let answer = Self.send(&app, "=Conf {\"sCellOvervoltage_V\":3.70}")
        #expect(answer.hasPrefix(":84") || answer.hasPrefix(":83") || answer.hasPrefix(":85"), "\(answer)")
        Self.run(&app, from: 1000, ms: 1100, output: &out)
        #expect(app.bms.config.cellVoltage.overvoltage == 3.70)
        #expect(app.chipProtection.map { abs($0.cellOvervoltage - 3.7436) < 0.001 } ?? false, "the chip follows")
        // Power cycle: a new application on the same flash.
        let reborn = try Self.app(Self.board(.offgridDay, soc: 0.6), flash: app.flash)
        #expect(reborn.settingsSource == .flash)
        #expect(reborn.bms.config.cellVoltage.overvoltage == 3.70)
        #expect(!reborn.stateRestored, "no state saved yet")
    }

    @Test func theEstimatorStateSurvivesAReset() throws {
        var app = try Self.app(Self.board(.offgridDay, soc: 0.6))
        var out = ""
        Self.run(&app, from: 0, ms: 2000, output: &out)
        // A pack that has learned something: cell 4 has 87 Ah, the others their label.
        var learned = app.bms.estimatorSnapshot!
        learned.cells[3].capacityAh = 87
        try app.node.model.bms.restoreEstimator(learned)
        Self.run(&app, from: 2000, ms: 1000, output: &out)
        let stored = app.saveState()
        #expect(stored)
        var reborn = try Self.app(Self.board(.offgridDay, soc: 0.6), flash: app.flash)
        #expect(reborn.stateRestored)
        Self.run(&reborn, from: 0, ms: 1000, output: &out)
        let capacity = reborn.bms.estimatorSnapshot!.cells[3].capacityAh
        #expect(abs(capacity - 87) < 0.5, "\(capacity)")
        // A fresh device on the same pack starts from the label.
        var fresh = try Self.app(Self.board(.offgridDay, soc: 0.6))
        Self.run(&fresh, from: 0, ms: 1000, output: &out)
        #expect(abs(fresh.bms.estimatorSnapshot!.cells[3].capacityAh - 100) < 0.5)
        // The settings pages are untouched by the state pages.
        #expect(reborn.settingsSource == .defaults)
    }

    @Test func stateIsSavedHourly() throws {
        var app = try Self.app(Self.board(.offgridDay, soc: 0.6))
        var out = ""
        Self.run(&app, from: 0, ms: App.statePeriodMs - 1000, output: &out)
        #expect(RecordStore(flash: app.flash, firstPage: 2, kind: 2).newest() == nil)
        Self.run(&app, from: App.statePeriodMs - 1000, ms: 2000, output: &out)
        #expect(RecordStore(flash: app.flash, firstPage: 2, kind: 2).newest() != nil)
    }
}

/// A board for `pass`: a console fed from a string, lines and LED recorded.
struct TestBoard: DeviceBoard {
    var milliseconds: UInt32 = 0
    var input: [UInt8] = []
    var output: [UInt8] = []
    var afeAlert = false
    var fetsOff = (charge: true, discharge: true)
    var led = false
    var ledOnPasses = 0
    var kicks = 0

    mutating func read() -> UInt8? { input.isEmpty ? nil : input.removeFirst() }
    mutating func write(_ bytes: UnsafeRawBufferPointer) { output += bytes }
    mutating func forceFETsOff(charge: Bool, discharge: Bool) { fetsOff = (charge, discharge) }
    mutating func setLED(_ on: Bool) { led = on; if on { ledOnPasses += 1 } }
    mutating func kick() { kicks += 1 }
    var sent: [(ms: UInt32, frame: InverterFrame)] = []
    var received: [InverterFrame] = []
    mutating func send(_ frame: InverterFrame, at milliseconds: UInt32) { sent.append((milliseconds, frame)) }
    mutating func receiveFrame() -> InverterFrame? { received.isEmpty ? nil : received.removeFirst() }
}

struct MainLoopTests {
    @Test func aPassServesTheConsoleDrivesTheLinesAndKicksTheWatchdog() throws {
        var app = try DeviceApplicationTests.app(DeviceApplicationTests.board(.offgridDay, soc: 0.6))
        var board = TestBoard()
        board.input = Array("?Meas/rBmsState\n".utf8)
        for t in stride(from: UInt32(10), through: 3000, by: 10) {
            board.milliseconds = t
            app.chip.bus.advance(to: UInt64(t))
            app.chip.bus.chip.chargeOffPin = board.fetsOff.charge
            app.chip.bus.chip.dischargeOffPin = board.fetsOff.discharge
            app.pass(on: &board)
        }
        let text = String(decoding: board.output, as: UTF8.self)
        #expect(text.contains(":85 "), "the GET is answered on the console: \(text)")
        #expect(text.contains("#event t=0.0 state") || text.contains("#event t=0."), "\(text)")
        #expect(board.kicks == 300, "one kick per pass")
        #expect(board.fetsOff.charge == false && board.fetsOff.discharge == false, "lines released once the BMS closes the switches")
        #expect(app.chip.bus.chip.chargeFET && app.chip.bus.chip.dischargeFET)
        // The mLive report once a second, with a CRC that checks.
        let reports = text.split(separator: "\n").filter { $0.hasPrefix("#mLive {") }
        #expect(reports.count == 3, "\(reports.count) reports in 3 s")
        if let line = reports.last, line.count > 10 {
            let body = Array(line.utf8.dropLast(10))
            let crc = body.withUnsafeBufferPointer { ThingSetCRC.crc32($0) }
            #expect(line.hasSuffix(String(crc, radix: 16, uppercase: true).leftPadded(to: 8) + "#"), "\(line)")
            #expect(line.contains("\"rBmsState\"") || line.contains("rSOC"), "\(line)")
        }
        // The LED: on for the first 100 ms of each second once running normally.
        #expect(board.ledOnPasses > 25 && board.ledOnPasses < 60, "\(board.ledOnPasses)")
    }
}

extension MainLoopTests {
    @Test func theInverterGetsItsFramesAndItsKeepAliveIsHeard() throws {
        var id = InlineArray<16, UInt8>(repeating: 0x30)
        id[15] = 0x31
        var app = try DeviceApplication(chip: BQ76952Driver(bus: DeviceApplicationTests.board(.offgridDay, soc: 0.6),
                                                            shuntResistance: 0.0003),
                                        flash: RAMFlash(), defaults: DeviceApplicationTests.defaults, nodeID: id,
                                        tokens: AuthTokens(expert: "expert", manufacturer: "maker"), now: 0,
                                        inverter: InverterSettings(profile: .pylon))
        var board = TestBoard()
        for t in stride(from: UInt32(10), through: 3000, by: 10) {
            board.milliseconds = t
            if t == 1500 { board.received.append(InverterFrame(id: 0x305, data: [0, 0, 0, 0, 0, 0, 0, 0])) }
            app.chip.bus.advance(to: UInt64(t))
            app.chip.bus.chip.forceOff(charge: board.fetsOff.charge, discharge: board.fetsOff.discharge)
            app.pass(on: &board)
        }
        let ids = Set(board.sent.map { $0.frame.id })
        #expect(ids == [0x351, 0x355, 0x356, 0x359, 0x35C, 0x35E], "the Pylon set: \(ids.sorted())")
        let limits = board.sent.filter { $0.frame.id == 0x351 }
        #expect(limits.count >= 2 && limits.count <= 4, "about one 0x351 a second: \(limits.count)")
        let text = String(decoding: board.output, as: UTF8.self)
        #expect(text.contains("inverter_heard"), "\(text)")
    }
}

/// The A/B record store: newest wins, a torn write loses only itself, a full page moves on.
struct RecordStoreTests {
    func save(_ store: inout RecordStore<RAMFlash>, _ value: UInt8, length: Int = 100) throws {
        let payload = [UInt8](repeating: value, count: length)
        let error = payload.withUnsafeBytes { p -> FlashError? in
            do { try store.save(p, version: 1); return nil } catch { return error as? FlashError ?? .failed }
        }
        if let error { throw error }
    }

    func newestValue(_ store: RecordStore<RAMFlash>) -> UInt8? {
        guard let r = store.newest() else { return nil }
        var buffer = [UInt8](repeating: 0, count: r.length)
        _ = buffer.withUnsafeMutableBytes { store.read(r, into: $0) }
        return buffer.first
    }

    @Test func newestRecordWinsAndPagesAlternate() throws {
        var store = RecordStore(flash: RAMFlash(), firstPage: 0, kind: 1)
        #expect(store.newest() == nil)
        for v in UInt8(1)...40 {
            try save(&store, v)
            #expect(newestValue(store) == v)
        }
        // 40 records of 116 bytes: 17 fit a 2 KiB page, so both pages have been used and erased.
        #expect(store.newest()!.sequence == 40)
    }

    @Test func aTornWriteKeepsThePreviousRecord() throws {
        var store = RecordStore(flash: RAMFlash(), firstPage: 0, kind: 1)
        try save(&store, 7)
        for cut in [0, 10, 60, 115] {
            store.flash.cutAfterBytes = cut
            var failed = false
            do { try save(&store, 8) } catch { failed = error as? FlashError == .failed }
            #expect(failed)
            store.flash.cutAfterBytes = nil
            #expect(newestValue(store) == 7, "cut after \(cut) bytes")
        }
        // The next save goes past the damage and wins.
        try save(&store, 9)
        #expect(newestValue(store) == 9)
    }

    @Test func aCorruptedRecordIsNotLoaded() throws {
        var store = RecordStore(flash: RAMFlash(), firstPage: 0, kind: 1)
        try save(&store, 1)
        try save(&store, 2)
        let r = store.newest()!
        store.flash.bytes[r.page * 2048 + r.offset + 16 + 5] ^= 0x10
        #expect(newestValue(store) == 1)
    }

    @Test func settingsRoundTripAndBadValuesAreRefused() throws {
        var config = BMSConfig.preset(.nmc, cells: 14, capacityAh: 50)!
        config.cellVoltage.overvoltage = 4.30
        config.setOCVTable(OCVCurve.preset(.nmc))
        var buffer = [UInt8](repeating: 0, count: SettingsRecord.capacity)
        let n = buffer.withUnsafeMutableBytes { SettingsRecord.encode(config, into: $0) }
        #expect(n > 0 && n % 6 == 0)
        let back = buffer.withUnsafeBytes { SettingsRecord.decode(UnsafeRawBufferPointer(rebasing: $0[0..<n]),
                                                                  over: DeviceApplicationTests.defaults) }
        #expect(back?.cellVoltage.overvoltage == 4.30 && back?.pack.seriesCells == 14 && back?.pack.chemistry == .nmc)
        #expect(back?.ocvPoints[5] == config.ocvPoints[5])
        // An unknown key is skipped; a value out of its range rejects the record.
        var extra = Array(buffer[0..<n]) + [0xFE, 0xFF, 1, 2, 3, 4]
        let withUnknown = extra.withUnsafeBytes { SettingsRecord.decode($0, over: DeviceApplicationTests.defaults) }
        #expect(withUnknown != nil)
        let key = ConfigField.cellOvervoltage.storageKey
        for k in stride(from: 0, to: n, by: 6) where UInt16(extra[k]) | UInt16(extra[k + 1]) << 8 == key {
            let bad = Float(-1).bitPattern
            for j in 0..<4 { extra[k + 2 + j] = UInt8(truncatingIfNeeded: bad >> UInt32(8 * j)) }
        }
        let withBad = extra.withUnsafeBytes { SettingsRecord.decode($0, over: DeviceApplicationTests.defaults) }
        #expect(withBad == nil)
    }

    @Test func storageKeysAreUniqueAndRoundTrip() {
        var seen = Set<UInt16>()
        ConfigField.forEach { field in
            let key = field.storageKey
            #expect(key != 0xFFFF)
            #expect(!seen.contains(key))
            seen.insert(key)
            #expect(ConfigField(storageKey: key) == field)
        }
    }
}

/// The scheduler's periods, to the millisecond.
struct SchedulerTests {
    @Test func controlEvery100msSlowEverySecondAlertAtOnce() {
        var s = Scheduler(start: 0)
        var control: [UInt32] = [], slow: [UInt32] = []
        for t in stride(from: UInt32(0), through: 1000, by: 10) {
            if s.controlDue(t, alert: false) { control.append(t) }
            if s.slowDue(t) { slow.append(t) }
        }
        #expect(control == Array(stride(from: UInt32(0), through: 1000, by: 100)))
        #expect(slow == [0, 1000])
        let atAlert = s.controlDue(1010, alert: true)
        #expect(atAlert, "ALERT runs the step at once")
        let next = s.controlDue(1020, alert: false)
        #expect(!next)
        let onPeriod = s.controlDue(1110, alert: false)
        #expect(onPeriod)
        // A 350 ms stall: one late step, counted, then back on period.
        let late = s.controlDue(1460, alert: false)
        #expect(late)
        #expect(s.overruns == 1)
        let early = s.controlDue(1500, alert: false)
        #expect(!early)
        let again = s.controlDue(1560, alert: false)
        #expect(again)
    }
}

extension String {
    func leftPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
