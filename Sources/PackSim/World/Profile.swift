import BMSCore

/// What the world asks of the pack terminals at one instant.
public struct TerminalDemand: Sendable {
    /// Power drawn by the loads, W (≥ 0).
    public var loadW: Float = 0
    /// Power the source (PV, charger, grid) can deliver, W (≥ 0).
    public var sourceW: Float = 0
    /// The source's current limit, A, and the voltage it regulates the terminals to (CV), V.
    public var sourceCurrentLimit: Float = 0
    public var sourceVoltageLimit: Float = 0

    public init() {}
}

/// A source of terminal demands over time: the built-in profiles and recorded ones (a CSV
/// file on the host) conform. Called once per step, in time order.
extension TerminalDemand {
    /// The source's current into the terminals, A, with `loadA` drawn there: what it offers
    /// (`sourceW` at the terminal voltage `volts`), within its current limit, and no more than
    /// holds the terminals at its voltage limit across the pack's Thevenin source.
    func sourceCurrent(loadA: Float, emf: Float, resistance: Float, volts: Float) -> Float {
        guard sourceW > 0 else { return 0 }
        let holdingA = (sourceVoltageLimit - emf) / resistance + loadA
        return max(0, min(sourceW / volts, min(sourceCurrentLimit + loadA, holdingA)))
    }
}

public protocol PowerProfile {
    mutating func demand(at time: SimTime) -> TerminalDemand
}

/// The built-in world profiles, scaled to the pack: powers are fractions of "1 C", the
/// nominal capacity times the nominal pack voltage.
public struct StandardProfile: PowerProfile, Sendable {
    public enum Kind: UInt8, CaseIterable, Sendable {
        /// PV (0.10 C peak) with clouds, household loads, a fridge, inverter standby.
        case offgridDay
        /// `offgridDay` plus a milling machine: 2.5 C for 20 s every 6–10 min, 17:00–21:00.
        case milling
        /// A CC/CV charger at 0.5 C (at most 80 % of the charge over-current limit) up to the
        /// charge target; no load.
        case cccvCharge
        /// A constant 0.5 C load (at most 80 % of the discharge over-current limit); no source.
        case constantDischarge
        /// A hybrid inverter charging from the grid at 0.2 C from 00:00 to 06:00, household
        /// loads, no PV.
        case hybridGrid
        /// A pulse test for `flexbms calibrate model`, hour by hour: a 30 s discharge pulse of
        /// 0.8 C (at most 80 % of the discharge over-current limit), 29.5 min rest, 12 min
        /// at 0.5 C (10 % of the capacity), 18 min rest. Start it full (`--initial-soc`).
        case pulseTest

        public var name: StaticString {
            switch self {
            case .offgridDay: "offgrid-day"
            case .milling: "milling"
            case .cccvCharge: "cccv-charge"
            case .constantDischarge: "constant-discharge"
            case .hybridGrid: "hybrid-grid"
            case .pulseTest: "pulse-test"
            }
        }
    }

    public let kind: Kind
    /// 1 C in W and in A.
    let oneCWatts: Float
    let oneCAmps: Float
    /// Voltage the PV controller / grid charger regulates to (absorption), and the CC/CV
    /// charger's target, V.
    let absorptionVoltage: Float
    let chargeTargetVoltage: Float
    /// The test instruments (CC/CV charger, constant load, grid charger) stay at 80 % of the
    /// BMS's over-current limits, A: a 0.5 C charger on a 280 Ah pack behind a 100 A board
    /// would only show the protection doing its job. The PV and the milling machine are not
    /// capped: they are what they are, and a pack too small for them trips.
    let chargeCurrentCap: Float
    let dischargeCurrentCap: Float
    /// Pack voltage at the discharge cutoff: a constant-power load draws its most current
    /// there, so its cap is a power at this voltage.
    let cutoffPackVoltage: Float
    let seed: UInt64
    var nextMillPulseMs: UInt64 = 0
    var millPulseEndMs: UInt64 = 0
    var millRandom: SimRandom

    /// A profile for `cells` cells of `chemistry` with `capacityAh`, protected by `config`;
    /// clouds and pulse timing from `seed`.
    public init(_ kind: Kind, config: BMSConfig, seed: UInt64) {
        let chemistry = config.pack.chemistry
        let cells = Int(config.pack.seriesCells)
        let capacityAh = config.pack.capacityAh
        let chargeTargetPerCell = config.cellVoltage.chargeTarget
        chargeCurrentCap = 0.8 * config.current.chargeOvercurrent
        dischargeCurrentCap = 0.8 * config.current.dischargeOvercurrent
        cutoffPackVoltage = config.cellVoltage.dischargeCutoff * Float(cells)
        self.kind = kind
        let nominal = StandardProfile.nominalCellVoltage(chemistry) * Float(cells)
        oneCAmps = capacityAh
        oneCWatts = capacityAh * nominal
        absorptionVoltage = StandardProfile.absorptionPerCell(chemistry, chargeTargetPerCell) * Float(cells)
        chargeTargetVoltage = chargeTargetPerCell * Float(cells)
        self.seed = seed
        millRandom = SimRandom(seed: seed ^ 0x6D69_6C6C)
    }

    /// Nominal cell voltage (datasheet class values): LFP 3.2, NMC 3.65, NCA 3.6, LTO 2.3 V.
    static func nominalCellVoltage(_ chemistry: Chemistry) -> Float {
        switch chemistry {
        case .lfp: 3.2
        case .nmc: 3.65
        case .nca: 3.6
        case .lto: 2.3
        case .custom: 3.2
        }
    }

    /// The absorption voltage a solar controller is set to for long life: below the charge
    /// target (LFP 3.45, NMC/NCA 4.10, LTO 2.70 V per cell), never above it.
    static func absorptionPerCell(_ chemistry: Chemistry, _ chargeTarget: Float) -> Float {
        let preferred: Float = switch chemistry {
        case .lfp: 3.45
        case .nmc, .nca: 4.10
        case .lto: 2.70
        case .custom: chargeTarget
        }
        return min(preferred, chargeTarget)
    }

    public mutating func demand(at time: SimTime) -> TerminalDemand {
        var d = TerminalDemand()
        let hour = time.secondsOfDay
        switch kind {
        case .offgridDay, .milling:
            d.sourceW = 0.10 * oneCWatts * DailyCurves.value(DailyCurves.clearSky, at: hour)
                * cloudFactor(time)
            d.sourceCurrentLimit = 0.3 * oneCAmps
            d.sourceVoltageLimit = absorptionVoltage
            d.loadW = householdW(time)
            if kind == .milling { d.loadW += millW(time) }
        case .cccvCharge:
            d.sourceW = 10 * oneCWatts
            d.sourceCurrentLimit = min(0.5 * oneCAmps, chargeCurrentCap)
            d.sourceVoltageLimit = chargeTargetVoltage
        case .constantDischarge:
            d.loadW = min(0.5 * oneCWatts, dischargeCurrentCap * cutoffPackVoltage)
        case .pulseTest:
            let second = (time.milliseconds / 1000) % 3600
            if second < 30 {
                d.loadW = min(0.8 * oneCWatts, dischargeCurrentCap * cutoffPackVoltage)
            } else if second >= 1800 && second < 2520 {
                d.loadW = min(0.5 * oneCWatts, dischargeCurrentCap * cutoffPackVoltage)
            }
        case .hybridGrid:
            d.loadW = householdW(time)
            if hour < 6 * 3600 {
                d.sourceW = 10 * oneCWatts
                d.sourceCurrentLimit = min(0.2 * oneCAmps, chargeCurrentCap)
                d.sourceVoltageLimit = absorptionVoltage
            }
        }
        return d
    }

    /// Base load 0.004 C, inverter standby 0.002 C, household curve up to 0.025 C, and a
    /// fridge compressor of 0.03 C running 10 min in every 50: about 0.47 C a day, so a pack
    /// sized for one day of autonomy (the common off-grid rule) cycles about half its
    /// capacity daily.
    func householdW(_ time: SimTime) -> Float {
        let fridgeOn = (time.milliseconds / 1000) % 3000 < 600
        return oneCWatts * (0.006 + 0.025 * DailyCurves.value(DailyCurves.household, at: time.secondsOfDay)
                            + (fridgeOn ? 0.03 : 0))
    }

    /// Clouds: each day draws a cloudiness (0 clear … 0.8 overcast), each 10-minute block a
    /// dimming of that day's cloudiness times 0.3–1. Drawn from the seed by day and block,
    /// so any instant is reproducible without replaying the run.
    func cloudFactor(_ time: SimTime) -> Float {
        var day = SimRandom(seed: seed ^ (time.day &* 0x9E37_79B9))
        let cloudiness = 0.8 * day.unit()
        var block = SimRandom(seed: seed ^ (time.milliseconds / 600_000 &* 0xC2B2_AE35) ^ 0x5A5A)
        return 1 - cloudiness * block.uniform(0.3, 1)
    }

    /// The milling machine: 2.5 C pulses of 20 s every 6–10 min between 17:00 and 21:00.
    mutating func millW(_ time: SimTime) -> Float {
        let hour = time.secondsOfDay
        guard hour >= 17 * 3600 && hour < 21 * 3600 else { return 0 }
        let now = time.milliseconds
        if now >= nextMillPulseMs {
            millPulseEndMs = now + 20_000
            nextMillPulseMs = now + UInt64(360_000 + millRandom.next() % 240_001)
        }
        return now < millPulseEndMs ? 2.5 * oneCWatts : 0
    }
}
