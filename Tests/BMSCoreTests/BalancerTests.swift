import Testing
@testable import BMSCore

@Suite struct BalancerTests {
    /// LFP 16S at the top of charge (all cells at 3.45 V, charging at 5 A) with cell 3 higher.
    func top(_ cell3: Float, current: Float = 5, at ms: UInt32 = 0) -> Measurement {
        var m = sample(at: ms, cell: 3.45, current: current)
        m.setCell(3, to: cell3)
        return m
    }

    @Test func startsAboveTheTargetAndStopsAtHalfOfIt() {
        var rig = Rig()        // sBalTargetVoltageDiff_V 0.01
        #expect(rig.step(at: 0) { top(3.459, at: $0) }.balanceMask == 0)
        #expect(rig.step(at: 1000) { top(3.4605, at: $0) }.balanceMask == 1 << 3)
        // Hysteresis: keeps bleeding down to 5 mV above the lowest, stops at it.
        #expect(rig.step(at: 2000) { top(3.4551, at: $0) }.balanceMask == 1 << 3)
        #expect(rig.step(at: 3000) { top(3.4549, at: $0) }.balanceMask == 0)
    }

    @Test func notOnThePlateauNotUnderHeavyLoadNotBelowTheMinimumNotWithAFault() {
        // Mid-plateau (highest cell below the 3.35 V recharge level) while charging: voltages
        // do not compare cells there.
        var plateau = Rig()
        #expect(plateau.step(at: 0) { t in var m = sample(at: t, cell: 3.28, current: 5); m.setCell(3, to: 3.32); return m }.balanceMask == 0)
        // Heavy discharge (beyond C/5 of 100 Ah).
        var heavy = Rig()
        #expect(heavy.step(at: 0) { top(3.48, current: -25, at: $0) }.balanceMask == 0)
        #expect(heavy.step(at: 1000) { top(3.48, current: -15, at: $0) }.balanceMask == 1 << 3)
        // A cell under sBalMinVoltage_V (3.30 V) is never bled, even far above the lowest.
        var low = Rig()
        let m = low.step(at: 0) { t in var m = sample(at: t, cell: 3.0, current: 5); m.setCell(3, to: 3.29); m.setCell(4, to: 3.36); return m }
        #expect(m.balanceMask == 1 << 4)
        // Any fault (here over-temperature of a cell) stops it.
        var hot = Rig()
        hot.run(until: 3000, period: 100) { t in var m = top(3.48, at: t); m.temperatures[0] = 60; return m }
        #expect(hot.isActive(.chargeOvertemperature))
        #expect(hot.bms.command.balanceMask == 0)
    }

    @Test func theAFEsLimitsAndTheBoardsTemperature() {
        var rig = Rig()
        rig.bms.balancingLimits = BalancingLimits(maximumCells: 3, adjacentAllowed: false)
        // Cells 4–9 high, 9 highest: 9, then 7 (8 is its neighbour), then 5.
        let mask = rig.step(at: 0) { t in
            var m = sample(at: t, cell: 3.45, current: 5)
            for i in 4...9 { m.setCell(i, to: 3.46 + Float(i) * 0.001) }
            return m
        }.balanceMask
        #expect(mask == (1 << 9) | (1 << 7) | (1 << 5))
        // Board within twice the warning margin (5 K) of its 85 °C limit: half the cells;
        // within the margin: none.
        func board(_ celsius: Float) -> UInt16 {
            var r = Rig()
            return r.step(at: 0) { t in
                var m = sample(at: t, cell: 3.45, current: 5)
                for i in 0..<8 { m.setCell(i, to: 3.47) }
                m.temperatures[2] = celsius
                return m
            }.balanceMask
        }
        #expect(board(74.9).nonzeroBitCount == 8)
        #expect(board(75).nonzeroBitCount == 8)     // 16 allowed, half of that is still 8
        #expect(board(80).nonzeroBitCount == 0)
        var few = Rig()
        few.bms.balancingLimits = BalancingLimits(maximumCells: 4)
        let derated = few.step(at: 0) { t in
            var m = sample(at: t, cell: 3.45, current: 5)
            for i in 0..<8 { m.setCell(i, to: 3.47) }
            m.temperatures[2] = 76
            return m
        }.balanceMask
        #expect(derated.nonzeroBitCount == 2)
    }

    @Test func restingCountsAfterTheIdleDelayWhereTheCurveIsSteep() {
        // NMC at rest at 3.90 V (about 0.8 V per unit SOC), cell 3 15 mV higher.
        var rig = Rig(BMSConfig.preset(.nmc, cells: 16, capacityAh: 100)!)    // sBalIdleDelay_s 1800
        rig.run(until: 1_799_000, period: 60_000) { t in var m = sample(at: t, cell: 3.90); m.setCell(3, to: 3.915); return m }
        #expect(rig.bms.command.balanceMask == 0)
        rig.step(at: 1_800_000) { t in var m = sample(at: t, cell: 3.90); m.setCell(3, to: 3.915); return m }
        #expect(rig.bms.command.balanceMask == 1 << 3)
        // LFP at rest on its plateau: 20 mV between cells is not a difference of charge.
        var lfp = Rig()
        lfp.run(until: 2_000_000, period: 60_000) { t in var m = sample(at: t, cell: 3.30); m.setCell(3, to: 3.32); return m }
        #expect(lfp.bms.command.balanceMask == 0)
    }
}
