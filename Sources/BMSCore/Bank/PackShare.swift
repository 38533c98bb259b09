/// What one pack of a bank tells the others about itself (over CAN, as ThingSet reports),
/// once a second and at once when its faults change. Everything the leader needs to present
/// the bank to the inverter as one battery and to name the pack and cell behind an alarm.
///
/// Current is positive when charging; limits are magnitudes.
public struct PackShare: Sendable, Equatable {
    /// The pack's node address on the bus (from the CAN address claim).
    public var address: UInt8
    /// Terminal voltage and current.
    public var voltage: Float = 0
    public var current: Float = 0
    /// State of charge and health, 0–1; nominal capacity, Ah.
    public var stateOfCharge: Float = 0
    public var stateOfHealth: Float = 1
    public var capacity: Float = 0
    /// Open-circuit voltage and internal resistance, V and Ω: how a current divides.
    public var openCircuitVoltage: Float = 0
    public var resistance: Float = 0
    /// The pack's own limits (its `ChargeLimits`).
    public var chargeVoltageLimit: Float = 0
    public var dischargeVoltageLimit: Float = 0
    public var chargeCurrentLimit: Float = 0
    public var dischargeCurrentLimit: Float = 0
    /// Directions it allows, and whether its switches connect it to the bus now.
    public var allowed = Directions.none
    public var connected = false
    /// At the end of its range: full (charge stops until the recharge level) or empty (the
    /// discharge cutoff). Not a fault: the bank goes on with the other packs.
    public var full = false
    public var empty = false
    /// A direction its join check holds back (the bus too far from its own voltage for that
    /// switch to close): like full or empty, it only drops out of that direction's sum.
    public var chargeHeld = false
    public var dischargeHeld = false
    /// Faults in force and pre-alarms (`rErrorFlags` bits).
    public var faults = FaultSet()
    public var warnings = FaultSet()
    /// The fault in force it names (the last trip while it lasts), as fault number + 1, and
    /// its cell or sensor numbered from 1; 0 when none.
    public var lastTripFault: UInt8 = 0
    public var lastTripLocation: UInt8 = 0
    /// Cell temperatures: average, lowest, highest, °C.
    public var temperature: Float = 25
    public var minTemperature: Float = 25
    public var maxTemperature: Float = 25
    /// Lowest and highest cell voltage, V, and which cells (from 1).
    public var minCellVoltage: Float = 0
    public var maxCellVoltage: Float = 0
    public var minCell: UInt8 = 0
    public var maxCell: UInt8 = 0

    public init(address: UInt8) { self.address = address }
}

extension PackShare {
    /// This pack's share, from its BMS after a step; `nil` before the first measurement.
    public init?(_ bms: BatteryManager, address: UInt8) {
        guard let m = bms.lastMeasurement else { return nil }
        self.init(address: address)
        let c = bms.config
        let cells = Int(c.pack.seriesCells)
        var sum: Float = 0
        minCellVoltage = m.cellVoltages[0]
        maxCellVoltage = m.cellVoltages[0]
        minCell = 1
        maxCell = 1
        for i in 0..<cells {
            let v = m.cellVoltages[i]
            sum += v
            if v < minCellVoltage { minCellVoltage = v; minCell = UInt8(i + 1) }
            if v > maxCellVoltage { maxCellVoltage = v; maxCell = UInt8(i + 1) }
        }
        voltage = m.packVoltage ?? m.stackVoltage ?? sum
        current = m.current
        stateOfCharge = bms.packSOC ?? 0
        stateOfHealth = bms.stateOfHealth ?? 1
        capacity = c.pack.capacityAh
        openCircuitVoltage = bms.estimator.packOCV ?? (m.stackVoltage ?? sum)
        resistance = bms.estimator.packResistance ?? 0
        let limits = bms.limits
        chargeVoltageLimit = limits.chargeVoltage
        dischargeVoltageLimit = limits.dischargeVoltage
        chargeCurrentLimit = limits.chargeCurrent
        dischargeCurrentLimit = limits.dischargeCurrent
        allowed = bms.allowedDirections
        full = bms.fullDetector.isFull
        empty = bms.protection.active.contains(.dischargeCutoff)
        chargeHeld = !bms.bankDirections.contains(.charge)
        dischargeHeld = !bms.bankDirections.contains(.discharge)
        let switches = bms.command.switches
        connected = switches.chargeOn || switches.dischargeOn
        let protection = bms.protection
        faults = protection.active
        warnings = protection.warnings
        // The fault to name: the last trip while it lasts, else any fault in force.
        var named = protection.lastTripped.flatMap { faults.contains($0) ? $0 : nil }
        if named == nil {
            for fault in Fault.allCases where faults.contains(fault) {
                named = fault
                break
            }
        }
        if let fault = named {
            lastTripFault = fault.rawValue + 1
            lastTripLocation = protection.location(of: fault).map { $0 + 1 } ?? 0
        }
        var tSum: Float = 0, tCount = 0
        for i in 0..<m.temperatureCount where m.temperatureRoles[i] == .cell {
            let t = m.temperatures[i]
            guard t > c.plausibility.thermistorMinimum && t < c.plausibility.thermistorMaximum else { continue }
            if tCount == 0 || t < minTemperature { minTemperature = t }
            if tCount == 0 || t > maxTemperature { maxTemperature = t }
            tSum += t
            tCount += 1
        }
        if tCount > 0 { temperature = tSum / Float(tCount) }
    }
}
