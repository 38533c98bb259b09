import BMSCore
import Testing
@testable import PackSim

/// Passive balancing in closed loop with the virtual pack.
@Suite struct BalancingScenarioTests {
    /// A 16S second-life LFP pack (capacities ±15 %, one weak group) assembled from cells
    /// charged to different levels — near the top, ±5 % SOC (about 8 % from lowest to
    /// highest) — on off-grid days.
    func secondLifePack(seed: UInt64, limits: BalancingLimits = BalancingLimits()) throws -> Simulation<StandardProfile> {
        var setup = SimulationSetup(chemistry: .lfp, cells: 16, capacityAh: 100)
        setup.spread = .secondLife
        setup.seed = seed
        setup.initialSOC = 0.9
        var sim = try Simulation(setup: setup, profile: StandardProfile(.offgridDay, config: setup.bmsConfig!, seed: seed))
        sim.setBalancingLimits(limits)
        return sim
    }

    @Test func secondLifeLFPReachesTwoPercentWithinFourteenDays() throws {
        var sim = try secondLifePack(seed: 3)
        var worstOverBleed: Float = 0
        var selfDischarge = 0
        for _ in 0..<(14 * 86_400) {
            let r = sim.step()
            while let e = sim.nextEvent() { if e.kind == .selfDischarge { selfDischarge += 1 } }
            // Never a bleeding cell below the balancing minimum (as the BMS reads it).
            for i in 0..<16 where r.command.balanceMask & (1 << UInt16(i)) != 0 {
                worstOverBleed = max(worstOverBleed, sim.bms.config.cellVoltage.balanceMinimum - r.measurement.cellVoltages[i])
            }
        }
        let s = sim.stats
        #expect(s.socSpreadStart > 0.07, "\(s.socSpreadStart)")
        #expect((s.socSpreadAtFull ?? 1) < 0.02, "\(String(describing: s.socSpreadAtFull))")
        #expect(s.balancingEnergyWh > 10)
        #expect(worstOverBleed <= 0)
        #expect(s.secondsOverVoltage == 0 && s.secondsUnderVoltage == 0)
        #expect(s.maxBoardTemperature < sim.bms.config.temperature.boardMaximum - sim.bms.config.warnings.temperature)
        // The cells assembled low are spared for days while the others come down: not a leak.
        #expect(selfDischarge == 0)
    }

    /// Another pack of the same kind (seed 7): the spread at full more than halves in 14 days,
    /// though it does not reach 2 % (3.6 %; seed 5: 2.9 %) — the target is met on the
    /// first pack only, so it is not claimed in general (docs/manual/balancing.md).
    @Test func anotherSecondLifePackAtLeastHalvesItsSpread() throws {
        var sim = try secondLifePack(seed: 7)
        var selfDischarge = 0
        for _ in 0..<(14 * 86_400) {
            sim.step()
            while let e = sim.nextEvent() { if e.kind == .selfDischarge { selfDischarge += 1 } }
        }
        #expect(selfDischarge == 0)
        let s = sim.stats
        #expect((s.socSpreadAtFull ?? 1) < s.socSpreadStart / 2, "\(s.socSpreadStart) → \(String(describing: s.socSpreadAtFull))")
        #expect(s.secondsOverVoltage == 0 && s.secondsUnderVoltage == 0)
    }

    /// The seed-7 pack that passive bleeding leaves at 3.6 %, with a 2 A active board (90 %
    /// efficient) instead: below 2 % at the last full charge within the same 14 days; no cell
    /// past a limit with current flowing, no converter beyond 2 A, the board below its limit.
    @Test func anActiveBoardBringsTheSamePackBelowTwoPercent() throws {
        var sim = try secondLifePack(seed: 7)
        sim.setActiveBalancer(ActiveBalancerBoard(maximumCurrent: 2))
        var largest: Float = 0, moved: Float = 0, bled = 0
        for _ in 0..<(14 * 86_400) {
            let r = sim.step()
            while sim.nextEvent() != nil {}
            if r.command.balanceMask != 0 { bled += 1 }
            for g in 0..<16 {
                largest = max(largest, abs(sim.pack.activeCurrents[g]))
                moved += abs(sim.pack.activeCurrents[g]) / 3600
            }
        }
        let s = sim.stats
        #expect((s.socSpreadAtFull ?? 1) < 0.02, "\(s.socSpreadStart) → \(String(describing: s.socSpreadAtFull))")
        #expect(moved > 10, "\(moved) Ah moved")
        #expect(bled == 0)
        #expect(largest <= 2)
        #expect(s.secondsOverVoltage == 0 && s.secondsUnderVoltage == 0)
        #expect(s.maxBoardTemperature < sim.bms.config.temperature.boardMaximum - sim.bms.config.warnings.temperature)
    }

    /// A bq769x0-class AFE: never two neighbours, at most four cells at once; and a hot board
    /// (a 3 W budget in a small enclosure) makes the balancer back off before its limit.
    @Test func theAFEsLimitsAndTheBoardTemperatureAreKept() throws {
        var sim = try secondLifePack(seed: 8, limits: BalancingLimits(maximumCells: 4, adjacentAllowed: false))
        sim.setBoardThermalResistance(40)     // 0.33 W per cell lifts the board 13 K
        var most = 0, neighbours = false, balanced = false
        for _ in 0..<(2 * 86_400) {
            let r = sim.step()
            while sim.nextEvent() != nil {}
            let mask = r.command.balanceMask
            most = max(most, mask.nonzeroBitCount)
            if mask & (mask << 1) != 0 { neighbours = true }
            if mask != 0 { balanced = true }
        }
        #expect(balanced)
        #expect(most <= 4)
        #expect(!neighbours)
        let limit = sim.bms.config.temperature.boardMaximum
        #expect(sim.stats.maxBoardTemperature < limit, "\(sim.stats.maxBoardTemperature)")
    }
}

/// A charger at the terminals after the full cutoff (both switches open), in closed loop.
@Suite struct ChargerDetectionScenarioTests {
    @Test func aChargerAfterTheFullCutoffIsFoundWithinTwoSecondsAndCharges() throws {
        // An 8S LFP pack left empty (cells near 2.4 V) meets a CC/CV charger at once.
        var setup = SimulationSetup(chemistry: .lfp, cells: 8, capacityAh: 100)
        setup.initialSOC = 0.0
        setup.seed = 2
        // A full cutoff above the preset's, so that an empty cell (2.83 V) is below it.
        var config = setup.bmsConfig!
        config.cellVoltage.undervoltage = 2.95
        config.cellVoltage.dischargeCutoff = 3.0
        #expect(config.validate().isEmpty)
        setup.config = config
        var sim = try Simulation(setup: setup, profile: EmptyThenCharger(config: config, chargerFromSecond: 60))
        var cutoffAt: UInt64?, foundAt: UInt64?, chargingAt: UInt64?
        for _ in 0..<600 {
            let r = sim.step()
            while let e = sim.nextEvent() {
                if e.kind == .trip && e.fault == .cellUndervoltage { cutoffAt = cutoffAt ?? r.time.milliseconds }
                if e.kind == .chargerPresent { foundAt = foundAt ?? r.time.milliseconds }
            }
            if r.current > 1 && chargingAt == nil { chargingAt = r.time.milliseconds }
        }
        #expect(cutoffAt != nil && cutoffAt! < 60_000, "\(String(describing: cutoffAt))")
        // The charger comes at 60 s: found within 2 s, charging the next step after that.
        #expect(foundAt != nil && foundAt! - 60_000 <= 2000, "\(String(describing: foundAt))")
        #expect(chargingAt != nil && chargingAt! - 60_000 <= 3000, "\(String(describing: chargingAt))")
        // Discharge stays forbidden while the under-voltage lasts (the discharge switch may be
        // closed by the ideal diode while charge current flows, as after any cutoff).
        if sim.bms.protection.active.contains(.cellUndervoltage) {
            #expect(sim.bms.allowedDirections == .charge)
        }
    }
}

/// Nothing for a minute, then a CC/CV charger at C/5 to the charge target.
struct EmptyThenCharger: PowerProfile {
    let volts: Float, amps: Float, from: UInt64
    init(config: BMSConfig, chargerFromSecond: UInt64) {
        volts = config.cellVoltage.chargeTarget * Float(Int(config.pack.seriesCells))
        amps = 0.2 * config.pack.capacityAh
        from = chargerFromSecond * 1000
    }
    func demand(at time: SimTime) -> TerminalDemand {
        var d = TerminalDemand()
        if time.milliseconds >= from {
            d.sourceW = 2 * volts * amps
            d.sourceCurrentLimit = amps
            d.sourceVoltageLimit = volts
        }
        return d
    }
}
