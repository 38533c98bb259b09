import BMSCore
import Testing
@testable import PackSim

/// One group of a nominal cell of `chemistry` at `capacityAh`, prepared for 1 s steps.
func group(_ chemistry: Chemistry = .lfp, capacityAh: Float = 100, soc: Float = 0.5,
           temperature: Float = 25) -> (CellGroup, CellParameters) {
    let p = CellParameters.of(chemistry)!
    var g = CellGroup(parameters: p, capacityAh: capacityAh, resistanceFactor: 1,
                      selfDischargeFactor: 1, soc: soc, temperature: temperature)
    g.prepare(stepSeconds: 1)
    return (g, p)
}

extension CellGroup {
    /// Runs `seconds` 1 s steps at `current` in a 25 °C ambient with neighbours at 25 °C.
    mutating func run(_ seconds: Int, current: Float, _ p: CellParameters, ambient: Float = 25) {
        for _ in 0..<seconds {
            _ = step(current: current, bleed: 0, ambient: ambient, neighbours: 50,
                     neighbourCount: 2, parameters: p)
        }
    }
}

@Suite struct CellGroupTests {
    @Test func coulombCountingWithChargeEfficiency() {
        var (g, p) = group(capacityAh: 100, soc: 0.2)
        g.run(3600, current: 50, p)                          // 50 Ah in
        #expect(abs(g.soc - (0.2 + 0.5 * 0.999)) < 2e-4)
        g.run(3600, current: -50, p)                         // 50 Ah out, no efficiency loss
        #expect(abs(g.soc - (0.2 + 0.5 * 0.999 - 0.5)) < 2e-4)
    }

    @Test(arguments: [Chemistry.lfp, .nmc, .nca, .lto])
    func restVoltageSettlesOnTheOCVTable(_ chemistry: Chemistry) {
        var (g, p) = group(chemistry, soc: 0.6)
        g.run(600, current: -30, p)
        g.run(3 * 3600, current: 0, p)                       // RC pairs relax (τ2 ≤ 246 s)
        let ocv = p.openCircuitVoltage(soc: g.soc) + g.hysteresisVoltage
        #expect(abs(g.voltage - ocv) < 0.0005)
    }

    @Test func currentStepShowsR0AtOnceAndTheRCPairsOverTime() {
        // 0.1 C keeps the self-heating (and so the Arrhenius factor) negligible.
        var (g, p) = group(.nmc, capacityAh: 5, soc: 0.5)
        g.run(10, current: 0, p)
        let rest = g.voltage
        let start = g.soc
        g.run(1, current: -0.5, p)
        let r0 = p.r0 * p.referenceCapacityAh / 5
        let first = rest - g.voltage - (p.openCircuitVoltage(soc: start) - p.openCircuitVoltage(soc: g.soc))
        // R0 plus the first second of both RC pairs.
        let firstExpected = 0.5 * (r0 + p.r1 * (1 - SimMath.exp(-1 / p.tau1))
                                   + p.r2 * (1 - SimMath.exp(-1 / p.tau2)))
        #expect(abs(first - firstExpected) < 0.0002)
        g.run(1800, current: -0.5, p)                        // 7 τ1, 7.3 τ2
        let ocvDrop = p.openCircuitVoltage(soc: start) - p.openCircuitVoltage(soc: g.soc)
        let polarisation = rest - g.voltage - ocvDrop
        #expect(abs(polarisation - 0.5 * (r0 + p.r1 + p.r2)) < 0.0005)
    }

    @Test func resistanceDoublesFromWarmToFreezing() {
        let factor = CellGroup.arrheniusFactor(20_000, 0)
        #expect(factor > 2.0 && factor < 2.2)
        #expect(abs(CellGroup.arrheniusFactor(20_000, 25) - 1) < 1e-5)
    }

    @Test func selfDischargeOfAMonthIsNotLostToRounding() {
        var (g, p) = group(.lfp, capacityAh: 280, soc: 1.0)
        g.run(30 * 86_400, current: 0, p)
        // 1.5 %/month of the charge present; tiny per second, kept by the Kahan sum.
        #expect(g.soc < 0.990 && g.soc > 0.980)
    }

    @Test func lfpHysteresisFollowsTheLastDirection() {
        var (g, p) = group(.lfp, soc: 0.5)
        // γ = 20: moving 10 % of the capacity brings h to 1 − e⁻² = 86 % of its way.
        g.run(1800, current: 20, p)
        #expect(abs(g.hysteresisVoltage - 0.00865) < 0.0002)
        g.run(1800, current: 20, p)
        #expect(abs(g.hysteresisVoltage - 0.010) < 0.0003)
        g.run(3600, current: -20, p)
        #expect(abs(g.hysteresisVoltage + 0.010) < 0.0005)
        var (n, pn) = group(.nmc, soc: 0.5)
        n.run(600, current: 20, pn)
        #expect(n.hysteresisVoltage == 0)
    }

    @Test func jouleHeatingReachesItsSteadyStateRise() {
        var (g, p) = group(.lfp, capacityAh: 100, soc: 0.5)
        // Alternate ±50 A so SOC stays put; the heat is I²R either way.
        for _ in 0..<(20 * 3600 / 120) {
            g.run(60, current: 50, p)
            g.run(60, current: -50, p)
        }
        #expect(g.temperature > 25.2)
        #expect(g.temperature < 40)
    }

    @Test func chargingPastFullDrivesTheVoltageUpAndRestBringsItBack() {
        var (g, p) = group(.lfp, capacityAh: 100, soc: 0.97)
        g.run(600, current: 50, p)                           // ~8 % more than room for
        #expect(g.voltage > 3.8)
        g.run(3 * 3600, current: 0, p)
        #expect(g.voltage < 3.5)
    }
}
