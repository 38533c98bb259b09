import AFE
import BMSCore
import Inverter
import ThingSet

/// The periodic tasks of the device: the control step every 100 ms (at once when the AFE
/// raises ALERT: the fast protection path), the slow tasks (persistence, the chip's new limits)
/// every second. Cooperative: a task runs to its end; a late task runs once, not to catch up.
public struct Scheduler: Sendable {
    public static let controlPeriodMs: UInt32 = 100
    public static let slowPeriodMs: UInt32 = 1000

    var nextControl: UInt32 = 0
    var nextSlow: UInt32 = 0
    /// Control steps that started more than a period late.
    public private(set) var overruns: UInt32 = 0
    public private(set) var controlSteps: UInt32 = 0

    public init(start: UInt32) {
        nextControl = start
        nextSlow = start
    }

    /// Whether the control step is due at `now`; advances its schedule when it is.
    public mutating func controlDue(_ now: UInt32, alert: Bool) -> Bool {
        let late = Int32(bitPattern: now &- nextControl)
        guard late >= 0 || alert else { return false }
        if late >= Int32(Scheduler.controlPeriodMs) { overruns += 1 }
        nextControl = late >= Int32(Scheduler.controlPeriodMs) || alert ? now &+ Scheduler.controlPeriodMs
                                                                         : nextControl &+ Scheduler.controlPeriodMs
        controlSteps += 1
        return true
    }

    public mutating func slowDue(_ now: UInt32) -> Bool {
        let late = Int32(bitPattern: now &- nextSlow)
        guard late >= 0 else { return false }
        nextSlow = late >= Int32(Scheduler.slowPeriodMs) ? now &+ Scheduler.slowPeriodMs : nextSlow &+ Scheduler.slowPeriodMs
        return true
    }
}

/// The device application: AFE → BMSCore → AFE every 100 ms, the console (ThingSet text and
/// PAYG tokens) on a serial port, the inverter's CAN frames, settings and state in flash. Generic over the hardware, so
/// the same code runs on the MCU, in QEMU and in host tests.
public struct DeviceApplication<Chip: AFEDriver, Flash: FlashMemory> {
    public var chip: Chip
    /// Settings and state, each in a pair of pages (`RecordStore`): pages 0–1 the settings,
    /// 2–3 the estimator state.
    public private(set) var flash: Flash
    static var settingsPage: Int { 0 }
    static var statePage: Int { 2 }
    /// The estimator state is saved this often, and by `saveState()` (before a planned
    /// shutdown). Hourly: a 2 KiB page holds four records, so each page of the pair is erased
    /// about three times a day (10 000 erase cycles: nine years).
    public static var statePeriodMs: UInt32 { 3_600_000 }
    var lastStateSave: UInt32
    /// The estimator state came back from flash at boot.
    public private(set) var stateRestored = false
    public var node: ThingSetNode<BMSObjects>
    public var console = Console()
    /// The inverter on the CAN bus, when one is configured: the low-voltage CAN frames of its
    /// profile, its keep-alive watched.
    public var inverter: InverterBridge?
    public var scheduler: Scheduler
    /// The limits the AFE enforces by itself, as it realised them.
    public private(set) var chipProtection: AFEProtection?
    /// Consecutive failed AFE reads; the safe state holds from the first, and BMSCore trips
    /// `afeSilent` after its measurement timeout.
    public private(set) var afeFailures: UInt32 = 0
    public private(set) var afeStarted = false
    /// Where the settings came from at boot.
    public private(set) var settingsSource = SettingsSource.defaults
    /// What the board must do with the FET-off lines (true = force off).
    public private(set) var forceChargeOff = true
    public private(set) var forceDischargeOff = true
    public private(set) var lastReading: AFEReading?
    var lastMeasurement: Measurement
    var lineBuffer = InlineArray<256, UInt8>(repeating: 0)
    var lineCount = 0
    var lastCommand: Command?
    /// The chip's limits were (re)configured: say on the console if one lies below the
    /// firmware's own, where the chip would trip first.
    var chipLimitsToReport = false
    /// When the last `mLive` report went out.
    var lastReport: UInt32 = 0

    public enum SettingsSource: Sendable { case defaults, flash, flashRejected }

    public init(chip: Chip, flash: Flash, defaults: BMSConfig, nodeID: InlineArray<16, UInt8>, tokens: AuthTokens,
                now: UInt32, inverter: InverterSettings? = nil) throws(ConfigError) {
        self.chip = chip
        self.inverter = inverter.map { InverterBridge(settings: $0) }
        self.flash = flash
        let (config, source) = Self.loadSettings(from: flash, over: defaults)
        settingsSource = source
        // Built in place: every intermediate copy of the 14 kB node is stack on the MCU.
        node = ThingSetNode(model: BMSObjects(bms: try BatteryManager(config: config), tokens: tokens, nodeID: nodeID,
                                              firmwareVersion: "0.7.0", now: Timestamp(milliseconds: now)))
        scheduler = Scheduler(start: now)
        lastMeasurement = Measurement(timestamp: Timestamp(milliseconds: now))
        lastStateSave = now
        restoreState()
    }

    /// The newest valid settings record over `defaults`, and where the settings came from.
    static func loadSettings(from flash: Flash, over defaults: BMSConfig) -> (BMSConfig, SettingsSource) {
        let store = RecordStore(flash: flash, firstPage: settingsPage, kind: 1)
        guard let record = store.newest() else { return (defaults, .defaults) }
        var payload = InlineArray<1024, UInt8>(repeating: 0)
        let n = withUnsafeMutableBytes(of: &payload) { raw in store.read(record, into: raw) }
        let loaded: BMSConfig? = withUnsafeBytes(of: &payload) { raw in
            record.version == SettingsRecord.version
                ? SettingsRecord.decode(UnsafeRawBufferPointer(rebasing: raw[0..<n]), over: defaults) : nil
        }
        if let loaded { return (loaded, .flash) }
        return (defaults, .flashRejected)
    }

    /// Takes the newest valid estimator state from flash, if it fits this pack.
    mutating func restoreState() {
        let store = RecordStore(flash: flash, firstPage: Self.statePage, kind: 2)
        guard let record = store.newest(), record.version == 1 else { return }
        var payload = InlineArray<456, UInt8>(repeating: 0)
        let n = withUnsafeMutableBytes(of: &payload) { raw in store.read(record, into: raw) }
        guard n == 456, let snapshot = try? EstimatorSnapshot(bytes: payload.span) else { return }
        stateRestored = (try? node.model.bms.restoreEstimator(snapshot)) != nil
    }

    public var bms: BatteryManager { node.model.bms }

    /// Starts the AFE and gives it the protection limits; retried by `poll` while it fails.
    public mutating func startAFE() -> Bool {
        do {
            try chip.start()
            chipProtection = try chip.configure(AFEProtection(backingUp: node.model.bms.config))
            chipLimitsToReport = true
            var balancing = AFEBalancing()
            balancing.automatic = false
            _ = try chip.configure(balancing)
            afeStarted = true
        } catch {
            afeStarted = false
        }
        return afeStarted
    }

    /// Runs what is due at `now` (ms uptime). `alert` is the AFE's ALERT line: a protection
    /// event in the chip, handled at once. Returns true when the control step ran on fresh
    /// data or none was due (false: the AFE did not answer).
    public mutating func poll(now: UInt32, alert: Bool, output: (UnsafeRawBufferPointer) -> Void) -> Bool {
        var healthy = true
        if scheduler.controlDue(now, alert: alert) {
            healthy = controlStep(now: now, output: output)
        }
        if scheduler.slowDue(now) {
            slowTasks(now: now)
        }
        report(now: now, output: output)
        return healthy
    }

    /// One pass of the main loop on `board`: the console's received bytes, the tasks due, the
    /// FET-off lines, the status LED (on for 100 ms each second; always on while a switch is
    /// forced off), the watchdog. The watchdog guards the loop itself: a silent AFE is handled
    /// by the safe state, and a reset would not bring it back.
    public mutating func pass<Board: DeviceBoard>(on board: inout Board) {
        while let byte = board.read() {
            receive(byte) { board.write($0) }
        }
        let now = board.milliseconds
        _ = poll(now: now, alert: board.afeAlert) { board.write($0) }
        if inverter != nil { serveInverter(on: &board, now: now) }
        board.forceFETsOff(charge: forceChargeOff, discharge: forceDischargeOff)
        board.setLED(forceChargeOff && forceDischargeOff || now % 1000 < 100)
        board.kick()
    }

    /// The inverter's side of a pass: its keep-alives in (`inverter_heard` after a silence),
    /// `inverter_silent` when they stop, and the frames that have fallen due out.
    mutating func serveInverter<Board: DeviceBoard>(on board: inout Board, now: UInt32) {
        let time = Timestamp(milliseconds: now)
        while let frame = board.receiveFrame() {
            if inverter!.receive(frame, now: time) == .heard { node.model.bms.recordInverter(heard: true, at: time) }
        }
        if inverter!.pollKeepAlive(now: time) == .silent {
            let seconds = Float(Int(inverter!.keepAlive.timeoutMs)) / 1000
            node.model.bms.recordInverter(heard: false, silentSeconds: seconds, at: time)
        }
        while let (frame, _) = inverter!.nextFrame(now: time) { board.send(frame, at: now) }
    }

    /// One control step: read, decide, command.
    mutating func controlStep(now: UInt32, output: (UnsafeRawBufferPointer) -> Void) -> Bool {
        if !afeStarted { _ = startAFE() }
        var fresh = false
        if afeStarted, let reading = try? chip.read() {
            lastReading = reading
            lastMeasurement = measurement(from: reading, at: now)
            afeFailures = 0
            fresh = true
        } else {
            afeFailures += 1
        }
        node.model.now = Timestamp(milliseconds: now)
        node.model.measurement = lastMeasurement
        let command = node.model.bms.step(lastMeasurement, now: Timestamp(milliseconds: now))
        inverter?.update(node.model.bms, now: Timestamp(milliseconds: now))
        // The FET-off lines back up the I2C command: asserted whenever a switch must be open,
        // and the only way to open them while the AFE does not answer.
        forceChargeOff = !command.switches.chargeOn
        forceDischargeOff = !command.switches.dischargeOn
        if fresh, let reading = lastReading {
            // Sent when the command changes, and again while the chip's FETs differ from it:
            // some chips (bq769x0) clear a FET on their own trip and only the host sets it
            // again. After a failed write nothing is assumed: everything is sent next step.
            let wanted = AFESwitches(charge: command.switches.chargeOn, discharge: command.switches.dischargeOn)
            var written = true
            if lastCommand?.switches != command.switches || reading.switches != wanted {
                written = (try? chip.setSwitches(wanted)) != nil
            }
            if lastCommand?.balanceMask != command.balanceMask {
                written = (try? chip.balance(command.balanceMask)) != nil && written
            }
            lastCommand = written ? command : nil
        } else {
            lastCommand = nil
        }
        while let e = node.model.bms.nextEvent() {
            node.model.log.append(e)
            printEvent(e, output: output)
        }
        if chipLimitsToReport, let realised = chipProtection {
            chipLimitsToReport = false
            let c = node.model.bms.config.current
            printLimitWarning("chg_overcurrent", chip: realised.chargeOvercurrent, config: c.chargeOvercurrent, output: output)
            printLimitWarning("dis_overcurrent", chip: realised.dischargeOvercurrent, config: c.dischargeOvercurrent,
                              output: output)
            printLimitWarning("short_circuit", chip: realised.shortCircuit, config: c.shortCircuit, output: output)
        }
        return fresh
    }

    /// The `mLive` report on the console, as the reference firmware sends it (ThingSet text
    /// mode with its CRC, spec §9.4): every `_Reporting/mLive` period (at least 100 ms) while
    /// enabled, and not while a shell-style client is on the port.
    mutating func report(now: UInt32, output: (UnsafeRawBufferPointer) -> Void) {
        guard node.model.reportEnable, console.unsolicitedOutputAllowed,
              now &- lastReport >= max(100, node.model.reportPeriodMs) else { return }
        lastReport = now
        var buffer = InlineArray<1024, UInt8>(repeating: 0)
        let n = withUnsafeMutableBytes(of: &buffer) { raw -> Int in
            let out = raw.bindMemory(to: UInt8.self)
            var n = node.report(0x31, text: true, into: UnsafeMutableBufferPointer(rebasing: out[0..<(out.count - 11)]))
            guard n > 0 else { return 0 }
            let crc = ThingSetCRC.crc32(UnsafeBufferPointer(rebasing: out[0..<n]))
            let digits: StaticString = "0123456789ABCDEF"
            out[n] = UInt8(ascii: " ")
            for k in 0..<8 { out[n + 1 + k] = digits.utf8Start[Int((crc >> UInt32(28 - 4 * k)) & 0xF)] }
            out[n + 9] = UInt8(ascii: "#")
            out[n + 10] = 0x0A
            n += 11
            return n
        }
        guard n > 0 else { return }
        withUnsafeBytes(of: &buffer) { raw in output(UnsafeRawBufferPointer(rebasing: raw[0..<n])) }
    }

    mutating func slowTasks(now: UInt32) {
        if now &- lastStateSave >= Self.statePeriodMs {
            lastStateSave = now
            saveState()
        }
        if node.model.configChanged {
            node.model.configChanged = false
            saveSettings()
            if afeStarted {
                chipProtection = try? chip.configure(AFEProtection(backingUp: node.model.bms.config))
                chipLimitsToReport = true
            }
        }
    }

    /// Writes the settings record now.
    @discardableResult
    public mutating func saveSettings() -> Bool {
        var payload = InlineArray<1024, UInt8>(repeating: 0)
        let config = node.model.bms.config
        let n = withUnsafeMutableBytes(of: &payload) { raw in SettingsRecord.encode(config, into: raw) }
        guard n > 0 else { return false }
        return withUnsafeBytes(of: &payload) { raw in
            save(UnsafeRawBufferPointer(rebasing: raw[0..<n]), page: Self.settingsPage, kind: 1,
                 version: SettingsRecord.version)
        }
    }

    /// Writes the estimator state now (each cell's SOC, capacity and resistance learned):
    /// on an LFP plateau a reset could not find the SOC again from the voltage.
    @discardableResult
    public mutating func saveState() -> Bool {
        guard let snapshot = node.model.bms.estimatorSnapshot else { return false }
        var payload = snapshot.encoded()
        return withUnsafeBytes(of: &payload) { raw in save(raw, page: Self.statePage, kind: 2, version: 1) }
    }

    mutating func save(_ payload: UnsafeRawBufferPointer, page: Int, kind: UInt8, version: UInt8) -> Bool {
        var store = RecordStore(flash: flash, firstPage: page, kind: kind)
        let saved = (try? store.save(payload, version: version)) != nil
        flash = store.flash
        return saved
    }

    /// A received console byte; a complete line is answered through `output`.
    public mutating func receive(_ byte: UInt8, output: (UnsafeRawBufferPointer) -> Void) {
        if byte == 0x0A {
            var answer = InlineArray<512, UInt8>(repeating: 0)
            let count = lineCount
            lineCount = 0
            let n = withUnsafeMutableBytes(of: &lineBuffer) { line in
                withUnsafeMutableBytes(of: &answer) { out in
                    console.process(line.bindMemory(to: UInt8.self), count: count, node: &node,
                                    into: out.bindMemory(to: UInt8.self))
                }
            }
            if n > 0 {
                answer[min(n, 511)] = 0x0A
                withUnsafeBytes(of: &answer) { raw in output(UnsafeRawBufferPointer(rebasing: raw[0..<min(n + 1, 512)])) }
            }
            return
        }
        if lineCount < 256 { lineBuffer[lineCount] = byte; lineCount += 1 }
    }

    /// The AFE's reading as BMSCore's measurement.
    func measurement(from r: AFEReading, at now: UInt32) -> Measurement {
        var m = Measurement(timestamp: Timestamp(milliseconds: now))
        for k in 0..<min(r.cellCount, 16) { m.cellVoltages[k] = r.cellVoltages[k] }
        m.stackVoltage = r.stackVoltage
        m.packVoltage = r.packVoltage
        m.current = r.current
        for k in 0..<r.temperatureCount { m.addTemperature(r.temperatures[k], role: .cell) }
        m.addTemperature(r.internalTemperature, role: .board)
        if r.status.tripped.contains(.shortCircuit) { m.afeFlags.insert(.shortCircuit) }
        if r.status.tripped.contains(.dischargeOvercurrent) { m.afeFlags.insert(.dischargeOvercurrent) }
        if r.status.tripped.contains(.chargeOvercurrent) { m.afeFlags.insert(.chargeOvercurrent) }
        // A FET the chip's own protection holds off is not a failed switch: the readback
        // counts only while the chip has nothing tripped.
        if r.status.tripped.isEmpty {
            m.chargeSwitchReadback = r.switches.charge
            m.dischargeSwitchReadback = r.switches.discharge
        }
        return m
    }

    /// `#afe chg_overcurrent 12 A below the configured 100 A: the chip trips first` when the
    /// chip cannot hold a current limit as high as the firmware's (its table ends lower on this
    /// shunt), so a field engineer sees why the pack trips early; 5 % is the rounding allowed.
    func printLimitWarning(_ name: StaticString, chip: Float, config: Float, output: (UnsafeRawBufferPointer) -> Void) {
        guard chip < 0.95 * config else { return }
        var buffer = InlineArray<96, UInt8>(repeating: 0)
        let n = withUnsafeMutableBytes(of: &buffer) { raw in
            var text = TextLine(raw.bindMemory(to: UInt8.self))
            text.put("#afe ")
            text.put(name)
            text.put(" ")
            text.number(UInt64(max(0, chip)))
            text.put(" A below the configured ")
            text.number(UInt64(max(0, config)))
            text.put(" A: the chip trips first\n")
            return text.count
        }
        withUnsafeBytes(of: &buffer) { raw in output(UnsafeRawBufferPointer(rebasing: raw[0..<n])) }
    }

    /// `#event t=12.3 trip CellOvervoltage cell 7 (state)`: one line per event, no allocation.
    func printEvent(_ e: BMSEvent, output: (UnsafeRawBufferPointer) -> Void) {
        var buffer = InlineArray<96, UInt8>(repeating: 0)
        let n = withUnsafeMutableBytes(of: &buffer) { raw in
            var text = TextLine(raw.bindMemory(to: UInt8.self))
            text.put("#event t=")
            text.number(UInt64(e.time.milliseconds / 1000))
            text.put(".")
            text.number(UInt64(e.time.milliseconds % 1000 / 100))
            text.put(" ")
            text.put(e.kind.logName)
            if let f = e.fault { text.put(" "); text.put(f.logName) }
            if let i = e.index, e.fault?.concernsCell ?? false { text.put(" cell "); text.number(UInt64(i) + 1) }
            text.put("\n")
            return text.count
        }
        withUnsafeBytes(of: &buffer) { raw in output(UnsafeRawBufferPointer(rebasing: raw[0..<n])) }
    }
}

extension AFEProtection {
    /// The chip's limits as a backup of the firmware's: the same thresholds one chip step
    /// beyond, with a second more of delay, so the firmware (with its pre-alarms and recovery
    /// policy) decides first and the chip acts if the firmware does not. The short circuit
    /// is the chip's alone (microseconds): its threshold is the configured one.
    public init(backingUp c: BMSConfig) {
        self.init()
        cellOvervoltage = c.cellVoltage.overvoltage + 0.05
        cellOvervoltageRecovery = c.cellVoltage.overvoltageReset
        cellOvervoltageDelayMs = c.cellVoltage.overvoltageDelayMs + 1000
        cellUndervoltage = c.cellVoltage.undervoltage - 0.05
        cellUndervoltageRecovery = c.cellVoltage.undervoltageReset
        cellUndervoltageDelayMs = c.cellVoltage.undervoltageDelayMs + 1000
        chargeOvercurrent = c.current.chargeOvercurrent * 1.1
        chargeOvercurrentDelayMs = c.current.chargeOvercurrentDelayMs + 100
        dischargeOvercurrent = c.current.dischargeOvercurrent * 1.1
        dischargeOvercurrentDelayMs = c.current.dischargeOvercurrentDelayMs + 100
        shortCircuit = c.current.shortCircuit
        shortCircuitDelayMicroseconds = c.current.shortCircuitDelayUs
        chargeMaximumTemperature = c.temperature.chargeMaximum + 5
        chargeMinimumTemperature = c.temperature.chargeMinimum - 5
        dischargeMaximumTemperature = c.temperature.dischargeMaximum + 5
        dischargeMinimumTemperature = c.temperature.dischargeMinimum - 5
        temperatureHysteresis = c.temperature.hysteresis
    }
}
