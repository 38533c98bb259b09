/// What limits a direction now — published with the limit, so a user sees why the inverter
/// was told less (a habit worth borrowing from dbus-serialbattery).
public struct LimitReasons: OptionSet, Sendable, Equatable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The direction is not allowed at all (a fault, full, an enable input).
    public static var blocked: LimitReasons { LimitReasons(rawValue: 1 << 0) }
    /// A cell temperature near the window's edge.
    public static var temperature: LimitReasons { LimitReasons(rawValue: 1 << 1) }
    /// The highest (charge) or lowest (discharge) cell near its end.
    public static var cellVoltage: LimitReasons { LimitReasons(rawValue: 1 << 2) }
    /// The pack SOC near full (charge) or empty (discharge).
    public static var stateOfCharge: LimitReasons { LimitReasons(rawValue: 1 << 3) }
    /// A cell's resistance: more current would take its terminal voltage past the charge
    /// target or below the discharge cutoff.
    public static var resistance: LimitReasons { LimitReasons(rawValue: 1 << 4) }
}

/// The limits a BMS hands to a charger or an inverter (CVL, CCL, DCL, DVL in the inverter
/// protocols), recomputed at every step.
///
/// - Currents start from the over-current limits less the pre-alarm margin (so an inverter
///   that obeys never raises even a warning) and are derated linearly, each factor 1 inside
///   its range and 0 at the edge, the smallest factor winning (foxBMS's "trapezoid"):
///   temperature over the last `2 × sTempWarnMargin_degC` before a window edge; charge by the
///   highest cell from the charge target (1) to the run-away level (0), so the charger holds
///   it at the target; discharge by the lowest cell from cutoff + 2 × `sVoltageWarnMargin_V`
///   (1) to the cutoff (0); charge by pack SOC from 90 % (1) to 100 % (the tail current);
///   discharge by pack SOC from 10 % (1) to 0 % (a fifth). A blocked direction gets 0.
/// - The charge voltage follows bulk/absorption (charge target × cells, held back by how far
///   the highest cell stands above the average, so the highest cell, not the average,
///   reaches the target) and float after full (recharge level × cells). It is never 0 (Victron reads
///   0 as over-voltage).
/// - The discharge voltage is the discharge cutoff × cells.
/// - Resistance: once cells' resistances are known (configured, or learned from three
///   current steps), neither current may exceed what keeps
///   every cell's terminal voltage (OCV ± I·R at its temperature) between the discharge
///   cutoff and the charge target — a cold or worn cell lowers the limits before its
///   voltage reaches them.
public struct ChargeLimits: Sendable, Equatable {
    /// Charge voltage limit (CVL), V at the pack.
    public var chargeVoltage: Float = 0
    /// Charge and discharge current limits (CCL, DCL), A, magnitudes.
    public var chargeCurrent: Float = 0
    public var dischargeCurrent: Float = 0
    /// Discharge voltage limit (DVL), V at the pack.
    public var dischargeVoltage: Float = 0
    public var chargeReasons: LimitReasons = []
    public var dischargeReasons: LimitReasons = []
    /// Float (after full) rather than bulk/absorption.
    public var floating = false
    /// The current limits before a blocked direction is set to 0: what the pack could carry
    /// that way were it allowed (a bank's join check weighs a switch it holds open by them).
    public var availableCharge: Float = 0
    public var availableDischarge: Float = 0

    public init() {}

    /// A linear factor: 1 at or beyond `full`, 0 at or beyond `zero` (either order).
    static func ramp(_ x: Float, full: Float, zero: Float) -> Float {
        guard full != zero else { return x == zero ? 0 : 1 }
        return min(max((x - zero) / (full - zero), 0), 1)
    }

    /// The limits for `summary` of a fresh measurement, the allowed directions, whether the
    /// pack is full, and its SOC (nil before the first estimate).
    static func compute(config c: BMSConfig, summary s: MeasurementSummary, allowed: Directions,
                        full: Bool, packSOC: Float?,
                        resistance: (charge: Float, discharge: Float)? = nil) -> ChargeLimits {
        var limits = ChargeLimits()
        let cells = Float(Int(c.pack.seriesCells))
        let v = c.cellVoltage, t = c.temperature
        let margin = 1 - c.warnings.currentPercent / 100
        var charge = min(c.current.chargeOvercurrent, c.current.boardMaximum) * margin
        var discharge = min(c.current.dischargeOvercurrent, c.current.boardMaximum) * margin

        func derate(_ value: inout Float, _ reasons: inout LimitReasons, _ factor: Float,
                    _ reason: LimitReasons, floor: Float = 0) {
            guard factor < 1 else { return }
            value = min(value, max(value * factor, floor))
            reasons.insert(reason)
        }
        let band = 2 * max(c.warnings.temperature, 1)
        if let cold = s.minCellTemperature, let hot = s.maxCellTemperature {
            let chargeFactor = min(ramp(cold, full: t.chargeMinimum + band, zero: t.chargeMinimum),
                                   ramp(hot, full: t.chargeMaximum - band, zero: t.chargeMaximum))
            let dischargeFactor = min(ramp(cold, full: t.dischargeMinimum + band, zero: t.dischargeMinimum),
                                      ramp(hot, full: t.dischargeMaximum - band, zero: t.dischargeMaximum))
            derate(&charge, &limits.chargeReasons, chargeFactor, .temperature)
            derate(&discharge, &limits.dischargeReasons, dischargeFactor, .temperature)
        }
        if s.hasPlausibleCell {
            derate(&charge, &limits.chargeReasons,
                   ramp(s.maxCell, full: v.chargeTarget, zero: FullDetector.runAwayLevel(c)), .cellVoltage)
            let lowFull = v.dischargeCutoff + 2 * c.warnings.voltage
            derate(&discharge, &limits.dischargeReasons,
                   ramp(s.minCell, full: lowFull, zero: v.dischargeCutoff), .cellVoltage)
        }
        if let soc = packSOC {
            derate(&charge, &limits.chargeReasons, ramp(soc, full: 0.9, zero: 1.0), .stateOfCharge,
                   floor: c.current.fullTailCurrent)
            derate(&discharge, &limits.dischargeReasons, ramp(soc, full: 0.1, zero: -0.025), .stateOfCharge)
        }
        if let r = resistance {
            if r.charge < charge { charge = r.charge; limits.chargeReasons.insert(.resistance) }
            if r.discharge < discharge { discharge = r.discharge; limits.dischargeReasons.insert(.resistance) }
        }
        limits.availableCharge = charge
        limits.availableDischarge = discharge
        if !allowed.contains(.charge) {
            charge = 0
            limits.chargeReasons.insert(.blocked)
        }
        if !allowed.contains(.discharge) {
            discharge = 0
            limits.dischargeReasons.insert(.blocked)
        }
        limits.chargeCurrent = charge
        limits.dischargeCurrent = discharge

        limits.floating = full
        if full {
            limits.chargeVoltage = v.recharge * cells
        } else if s.hasPlausibleCell {
            // Bulk/absorption: charge target × cells, less what the highest cell stands above
            // the average for every cell, so that at the limit the highest cell, not the
            // average, is at the target. Balanced cells get the full voltage.
            let average = s.cellSum / cells
            let excess = max(s.maxCell - average, 0)
            limits.chargeVoltage = max(cells * (v.chargeTarget - excess), v.dischargeCutoff * cells)
        } else {
            limits.chargeVoltage = v.chargeTarget * cells
        }
        limits.dischargeVoltage = v.dischargeCutoff * cells
        return limits
    }
}
