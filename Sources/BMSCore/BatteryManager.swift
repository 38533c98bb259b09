/// The output of one control step: what the switches must do.
public struct Command: Equatable, Sendable {
    public var switches: SwitchCommand
    public var state: BMSState
    /// Cells to bleed (passive balancing), bit n = cell n.
    public var balanceMask: UInt16 = 0
}

/// The battery core: configuration, protection, end-of-charge detection and switch control,
/// as one value with no I/O.
///
/// Each control cycle the firmware reads the AFE and calls `step(_:now:)`, then writes the
/// returned command to the switches and drains `nextEvent()`:
///
/// ```swift
/// var bms = try BatteryManager(config: BMSConfig.preset(.lfp, cells: 16, capacityAh: 100)!)
/// let command = bms.step(measurement, now: clock.now)
/// afe.setSwitches(command.switches)
/// while let event = bms.nextEvent() { log(event) }
/// ```
public struct BatteryManager: Sendable {
    /// The configuration in force: always one that passed `validate()`.
    public private(set) var config: BMSConfig
    /// The enable inputs in force (`wChgEnable`, `wDisEnable`).
    public var inputs: EnableInputs
    /// The directions the bank lets this pack connect in (its pre-connect check, `JoinGate`);
    /// both for a pack on its own.
    public var bankDirections = Directions.both
    public private(set) var protection = Protection()
    public private(set) var switching = SwitchControl()
    public private(set) var fullDetector = FullDetector()
    /// Pay-as-you-go: whether the credit allows discharge.
    public private(set) var payg = PAYGGate()
    /// What stands at the terminals while a switch is open (charger, load, short).
    public private(set) var terminal = TerminalMonitor()
    /// Passive balancing: which cells bleed.
    public private(set) var balancer = Balancer()
    /// What the AFE allows the balancer (reported by the AFE driver), and the board's bleed
    /// resistance, Ω (for the bled-charge estimate).
    public var balancingLimits = BalancingLimits()
    public var bleedResistance: Float = 33
    /// The active-balancer board, if one is fitted: the balancer then plans transfers for it
    /// (`activeBalancerCommand`) instead of bleeding through the AFE.
    public var activeBalancer: ActiveBalancerBoard?
    /// The faults of the board's last status (`takeActiveBalancerStatus`): while any is
    /// reported, the board is commanded off.
    public private(set) var activeBalancerFaults: ActiveBalancerFaults = []
    public private(set) var activeBalancerFaultedCells: UInt16 = 0
    /// The current sensor's zero learned with both switches open, on top of the stored offset.
    public private(set) var currentZero = CurrentZero()
    /// SOC of every cell and of the pack.
    public private(set) var estimator: PackEstimator
    /// The limits for a charger or an inverter, from the last fresh measurement.
    public private(set) var limits = ChargeLimits()
    /// Pack power of the last fresh measurement, W (+ = charging).
    public private(set) var power: Float = 0
    /// The last measurement stepped on, with the board's calibration applied: what the BMS
    /// judged, and what it reports (to an inverter, over ThingSet).
    public private(set) var lastMeasurement: Measurement?
    var events = EventQueue()

    /// Starts with `config`, or throws `.invalid` with every violation.
    public init(config: BMSConfig) throws(ConfigError) {
        let violations = config.validate()
        guard violations.isEmpty else { throw .invalid(violations) }
        self.config = config
        self.inputs = config.inputs
        self.estimator = PackEstimator(config: config)
    }

    /// Replaces the configuration if it is valid; otherwise throws `.invalid` with every
    /// violation and keeps running on the configuration it had.
    public mutating func apply(_ newConfig: BMSConfig, at time: Timestamp) throws(ConfigError) {
        let violations = newConfig.validate()
        guard violations.isEmpty else { throw .invalid(violations) }
        let old = config.pack, new = newConfig.pack
        if old.seriesCells != new.seriesCells || old.capacityAh != new.capacityAh
            || old.chemistry != new.chemistry || PackEstimator.curve(for: config) != PackEstimator.curve(for: newConfig)
            || config.hasOCVTable != newConfig.hasOCVTable || !config.cellModel.isSame(as: newConfig.cellModel) {
            // Another pack or another curve: the estimators start again from the next
            // measurement.
            estimator = PackEstimator(config: newConfig)
        }
        config = newConfig
        events.append(BMSEvent(kind: .configApplied, time: time, state: switching.state))
    }

    /// One control step on `measurement`, evaluated at `now` (the uptime when the step runs;
    /// a measurement older than `sMeasTimeout_ms` puts the pack in the safe state).
    public mutating func step(_ rawMeasurement: Measurement, now: Timestamp) -> Command {
        let firstNew = events.count
        let measurement = calibrated(rawMeasurement, now: now)
        lastMeasurement = measurement
        let summary = protection.update(measurement, now: now, config: config,
                                        commanded: switching.command, state: switching.state,
                                        events: &events)
        let fresh = !protection.active.contains(.afeSilent)
        // While over-voltage is active the pack is full, whatever the cells read: with NMC's
        // presets the over-voltage release (4.05 V) lies below the recharge level (4.10 V),
        // and judging full there would mark and clear it at every step.
        if protection.active.contains(.cellOvervoltage) {
            if let change = fullDetector.markFull() {
                events.append(BMSEvent(kind: change, time: now, state: switching.state))
            }
        } else if fresh, let summary, summary.hasPlausibleCell, let change = fullDetector.update(
            maxCell: summary.maxCell, current: measurement.current,
            at: measurement.timestamp, config: config) {
            events.append(BMSEvent(kind: change, time: now, state: switching.state))
        }
        if fresh, let kind = terminal.update(measurement, commanded: switching.command,
                                             idleCurrent: config.balancing.idleCurrent,
                                             reviving: protection.active.contains(.cellUndervoltage)) {
            events.append(BMSEvent(kind: kind, time: now, value: measurement.packVoltage ?? 0, state: switching.state))
        }
        let allowed = BatteryManager.allowed(active: protection.active, terminal: terminal, full: fullDetector.isFull,
                                             inputs: inputs, paygLocked: payg.locked, bank: bankDirections)
        if switching.update(allowed: allowed, current: fresh ? measurement.current : 0,
                            idealDiode: config.current.idealDiodeCurrent) {
            events.append(BMSEvent(kind: .stateChange, time: now, state: switching.state))
        }
        if fresh, let summary {
            estimate(measurement, summary, newEvents: firstNew)
            limits = ChargeLimits.compute(config: config, summary: summary, allowed: allowed,
                                          full: fullDetector.isFull, packSOC: estimator.packSOC,
                                          resistance: estimator.resistanceLimits)
            power = summary.cellSum * measurement.current
            let suspects = balancer.update(measurement, summary, config: config, faults: protection.active,
                                           limits: balancingLimits, bleedResistance: bleedResistance,
                                           curve: estimator.curve, board: activeBalancer)
            if suspects != 0 {
                for i in 0..<Int(config.pack.seriesCells) where suspects & (1 << UInt16(i)) != 0 {
                    events.append(BMSEvent(kind: .selfDischarge, time: now, index: UInt8(i),
                                           value: balancer.selfDischarge.excessAhPerDay(cell: i), state: switching.state))
                }
            }
        } else {
            // No fresh data: nothing may flow; keep the voltages for the protocols.
            power = 0
            balancer.stop()
            limits.chargeCurrent = 0
            limits.dischargeCurrent = 0
            limits.chargeReasons.insert(.blocked)
            limits.dischargeReasons.insert(.blocked)
        }
        // Every event of this step reports the state the step ended in.
        var i = firstNew
        while i < events.count {
            events[i].state = switching.state
            i += 1
        }
        return command
    }

    /// The sample with the board's calibration applied, after letting the current zero learn
    /// from it while both switches are open (as commanded, and as read back where the board
    /// reads them back).
    private mutating func calibrated(_ raw: Measurement, now: Timestamp) -> Measurement {
        let stored = config.calibration
        let command = switching.command
        let bothOpen = !command.chargeOn && !command.dischargeOn
            && raw.chargeSwitchReadback != true && raw.dischargeSwitchReadback != true
        // More than 2 % of what the board carries (at least 0.5 A) with both switches open is
        // current that flows, not an offset.
        let limit = max(0.5, 0.02 * config.current.boardMaximum)
        if let learned = currentZero.update(rawCurrent: raw.current - stored.currentOffset, bothOpen: bothOpen,
                                            at: raw.timestamp, limit: limit) {
            events.append(BMSEvent(kind: .currentZeroed, time: now, value: learned, state: switching.state))
        }
        var m = raw
        stored.apply(to: &m, cells: Int(config.pack.seriesCells), extraCurrentOffset: currentZero.correction)
        return m
    }

    /// Runs the SOC estimators and pins them where this step's events say where a cell is:
    /// full (the highest cell is at its end) and the discharge cutoff (that cell is empty).
    private mutating func estimate(_ m: Measurement, _ summary: MeasurementSummary, newEvents: Int) {
        var changed = estimator.update(m, summary, config: config,
                                       cellCurrents: balancer.cellCurrents(m, cells: Int(config.pack.seriesCells),
                                                                           bleedResistance: bleedResistance,
                                                                           board: activeBalancer))
        var i = newEvents
        while i < events.count {
            let e = events[i]
            i += 1
            if e.kind == .full && summary.hasPlausibleCell {
                estimator.markFull(cell: Int(summary.maxCellIndex))
                changed = true
            } else if e.kind == .trip, e.fault == .dischargeCutoff, let cell = e.index {
                estimator.markEmpty(cell: Int(cell), volts: e.value, current: m.current)
                changed = true
            }
        }
        if changed { estimator.refresh(config: config) }
    }

    /// The pack's state of charge (0…1) as a user reads it, or `nil` before the first
    /// measurement.
    public var packSOC: Float? { estimator.packSOC }

    /// Charge and energy to empty and to full, or `nil` before the first measurement.
    public var energy: PackEnergy? { estimator.energy(cells: Int(config.pack.seriesCells)) }

    /// Seconds to empty at the present discharge power, `nil` when not discharging.
    public var secondsToEmpty: Float? { energy?.secondsToEmpty(dischargePower: -power) }

    /// Seconds to full at the present charge power, `nil` when not charging.
    public var secondsToFull: Float? { energy?.secondsToFull(chargePower: power) }

    /// The cells that limit the pack and why, or `nil` before the first measurement.
    public var weakCells: WeakCellReport? { estimator.weakCells(cells: Int(config.pack.seriesCells)) }

    /// State of health by capacity (0…1): the weakest cell's learned capacity over the
    /// label — a series pack gives no more than its smallest cell. `nil` before the first
    /// measurement.
    public var stateOfHealth: Float? {
        guard estimator.isRunning else { return nil }
        var lowest = Float.infinity
        for i in 0..<Int(config.pack.seriesCells) {
            lowest = min(lowest, estimator.cells[i].capacity.capacityAh)
        }
        return lowest / config.pack.capacityAh
    }

    /// What the estimators must keep across a reset (the firmware stores it in flash), or
    /// `nil` before the first measurement.
    public var estimatorSnapshot: EstimatorSnapshot? { estimator.snapshot(cells: Int(config.pack.seriesCells)) }

    /// Takes a stored estimator state back: the estimators restart from it at the next
    /// measurement. A record of another pack throws `.doesNotFitPack` and changes nothing.
    public mutating func restoreEstimator(_ snapshot: EstimatorSnapshot) throws(EstimatorSnapshotError) {
        try estimator.restore(snapshot, cells: Int(config.pack.seriesCells), labelAh: config.pack.capacityAh)
    }

    /// The directions the pack may carry now: not blocked by an active fault, charging not
    /// after full, each enabled by its input and by the bank's join check, and discharge only
    /// with pay-as-you-go credit.
    /// Each of these can only take a direction away: none overrides protection.
    public var allowedDirections: Directions {
        BatteryManager.allowed(active: protection.active, terminal: terminal, full: fullDetector.isFull,
                               inputs: inputs, paygLocked: payg.locked, bank: bankDirections)
    }

    /// `allowedDirections` from the parts it reads. Static, and called with the parts from the
    /// step: a mutating method that calls a non-mutating one on `self` copies all of `self`
    /// (10.8 kB on the MCU's stack) for the call.
    static func allowed(active: FaultSet, terminal: TerminalMonitor, full: Bool, inputs: EnableInputs,
                        paygLocked: Bool, bank: Directions) -> Directions {
        var allowed = Directions.both
        var blocking = active
        blocking.remove(.cellUndervoltage)
        allowed.subtract(blocking.blockedDirections)
        // The full cutoff opens both switches; a charger at the terminals may still charge the
        // pack back up (every other fault that blocks charging still does).
        if active.contains(.cellUndervoltage) {
            allowed.remove(.discharge)
            if !terminal.chargerPresent { allowed.remove(.charge) }
        }
        // A short at the terminals: discharge stays open whatever the faults' recovery says.
        if terminal.shortPresent { allowed.remove(.discharge) }
        if full || !inputs.chargeEnable { allowed.remove(.charge) }
        if !inputs.dischargeEnable || paygLocked { allowed.remove(.discharge) }
        allowed.formIntersection(bank)
        return allowed
    }

    /// Logs the inverter going silent (after `silentSeconds` without its keep-alive) or being
    /// heard, so the event log shows when the inverter lost the battery.
    public mutating func recordInverter(heard: Bool, silentSeconds: Float = 0, at time: Timestamp) {
        events.append(BMSEvent(kind: heard ? .inverterHeard : .inverterSilent, time: time,
                               value: heard ? 0 : silentSeconds, state: switching.state))
    }

    /// Logs what the bank's leader learned of another pack: a fault it reports (with its
    /// cell or sensor, 0-based), or that it joined or left.
    public mutating func recordBank(_ kind: BMSEventKind, address: UInt8, fault: Fault? = nil, location: UInt8? = nil,
                                    at time: Timestamp) {
        events.append(BMSEvent(kind: kind, time: time, fault: fault, index: location, value: Float(Int(address)),
                               state: switching.state))
    }

    /// Logs a token entry (accepted or not) in the event stream.
    public mutating func recordPAYGEntry(_ outcome: PAYGEntryOutcome, value: Float, at time: Timestamp) {
        events.append(BMSEvent(kind: .paygEntry, time: time, index: outcome.rawValue, value: value, state: switching.state))
    }

    /// The pay-as-you-go credit at `time`, from the PAYG module (the firmware calls this every
    /// second): a warning before the credit runs out, discharge off after the grace period
    /// (`sPaygGrace_s`), back on with new credit. Takes effect at the next step.
    public mutating func updateCredit(_ credit: PAYGCredit, at time: Timestamp) {
        if let kind = payg.update(credit, config: config.payg) {
            events.append(BMSEvent(kind: kind, time: time, value: Float(credit.secondsLeft), state: switching.state))
        }
    }

    /// What to send to the active-balancer board after this step (`ActiveBalancerCommand.encoded()`
    /// gives the frame): enabled while any converter has a setpoint.
    public var activeBalancerCommand: ActiveBalancerCommand {
        var running = false
        for i in 0..<Int(config.pack.seriesCells) where balancer.transfers[i] != 0 { running = true }
        let healthy = activeBalancerFaults.isEmpty && activeBalancerFaultedCells == 0
        return ActiveBalancerCommand(enable: activeBalancer != nil && running && healthy,
                                     cells: Int(config.pack.seriesCells),
                                     setpoints: healthy ? balancer.transfers : InlineArray(repeating: 0))
    }

    /// Takes the board's status frame: a new fault (or faulted cell) is logged as a
    /// `balancerFault` event (`value` the fault bits, `index` the lowest faulted cell) and
    /// turns the board off until a status without faults comes back.
    public mutating func takeActiveBalancerStatus(_ status: ActiveBalancerStatus, at time: Timestamp) {
        let before = (activeBalancerFaults.rawValue, activeBalancerFaultedCells)
        activeBalancerFaults = status.faults
        activeBalancerFaultedCells = status.faultedCells
        let now = (status.faults.rawValue, status.faultedCells)
        guard now != before, now != (0, 0) else { return }
        var cell: UInt8?
        for i in 0..<16 where status.faultedCells & (1 << UInt16(i)) != 0 && cell == nil { cell = UInt8(i) }
        events.append(BMSEvent(kind: .balancerFault, time: time, index: cell, value: Float(status.faults.rawValue),
                               state: switching.state))
    }

    /// The command of the last step.
    public var command: Command {
        Command(switches: switching.command, state: switching.state, balanceMask: balancer.mask)
    }

    /// The manual fault reset (the documented action; `xResetFaults` on ThingSet later):
    /// unlatches latched faults and releases, at the next step, every active fault whose trip
    /// condition is gone. See `Protection.reset()`.
    public mutating func resetFaults(at time: Timestamp) {
        if protection.reset() {
            events.append(BMSEvent(kind: .latchCleared, time: time, state: switching.state))
        }
    }

    /// Switches both off for good (ship mode / power-off requested).
    public mutating func shutdown(at time: Timestamp) {
        if switching.shutdown() {
            events.append(BMSEvent(kind: .stateChange, time: time, state: .shutdown))
        }
    }

    /// The oldest event not yet taken, or `nil`.
    public mutating func nextEvent() -> BMSEvent? { events.removeFirst() }

    /// Events lost since start because the caller let the queue fill up.
    public var droppedEvents: Int { events.dropped }
}
