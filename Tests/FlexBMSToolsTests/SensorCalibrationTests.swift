import BMSCore
import Testing
@testable import FlexBMSTools

@Suite struct SensorCalibrationTests {
    typealias Channel = SensorCalibration.Channel
    typealias Point = SensorCalibration.Point

    /// A current sensor reading 1 % high with 0.05 A of offset: raw = 1.01·I + 0.05.
    func raw(_ truth: Double) -> Double { 1.01 * truth + 0.05 }

    @Test func twoPointsRecoverGainAndOffset() throws {
        let identity = Channel(gain: 1, offset: 0)
        let points = [Point(shown: raw(0), reference: 0), Point(shown: raw(20), reference: 20),
                      Point(shown: raw(-20), reference: -20)]
        let fit = try SensorCalibration.fit(points, old: identity, name: "current", minimumSpread: 2, unit: "A",
                                            gainFromOnePoint: true)
        #expect(fit.fitted == "gain and offset")
        #expect(abs(fit.channel.gain - 1 / 1.01) < 1e-12)
        #expect(abs(fit.channel.offset - 0.05) < 1e-12)
        #expect(fit.worstResidual < 1e-9)
        // Readings taken with that calibration in force fit to the same calibration, not to
        // a second correction stacked on the first.
        let again = [0.0, 20, -20].map { Point(shown: fit.channel.corrected(raw($0)), reference: $0) }
        let refit = try SensorCalibration.fit(again, old: fit.channel, name: "current", minimumSpread: 2, unit: "A",
                                              gainFromOnePoint: true)
        #expect(abs(refit.channel.gain - fit.channel.gain) < 1e-12 && abs(refit.channel.offset - 0.05) < 1e-12)
    }

    @Test func onePointFitsTheOffsetOrTheGain() throws {
        let old = Channel(gain: 1 / 1.01, offset: 0)
        // At zero: the offset only, gain kept.
        let zero = try SensorCalibration.fit([Point(shown: old.corrected(raw(0)), reference: 0)], old: old,
                                             name: "current", minimumSpread: 2, unit: "A", gainFromOnePoint: true)
        #expect(zero.fitted == "offset" && zero.channel.gain == old.gain && abs(zero.channel.offset - 0.05) < 1e-12)
        // Away from zero, with the offset known: the gain only.
        let known = Channel(gain: 1, offset: 0.05)
        let gain = try SensorCalibration.fit([Point(shown: known.corrected(raw(30)), reference: 30)], old: known,
                                             name: "current", minimumSpread: 2, unit: "A", gainFromOnePoint: true)
        #expect(gain.fitted == "gain" && abs(gain.channel.gain - 1 / 1.01) < 1e-12 && gain.channel.offset == 0.05)
        // A cell: one point is always an offset (3.300 V read as 3.312 V).
        let cell = try SensorCalibration.fit([Point(shown: 3.312, reference: 3.300)], old: Channel(gain: 1, offset: 0),
                                             name: "cell 1", minimumSpread: 0.2, unit: "V", gainFromOnePoint: false)
        #expect(cell.fitted == "offset" && abs(cell.channel.offset - 0.012) < 1e-12)
    }

    @Test func refusesPointsThatCannotSeparateGainFromOffset() {
        let points = [Point(shown: 3.30, reference: 3.29), Point(shown: 3.45, reference: 3.44)]
        do {
            _ = try SensorCalibration.fit(points, old: Channel(gain: 1, offset: 0), name: "cell 2", minimumSpread: 0.2,
                                          unit: "V", gainFromOnePoint: false)
            Issue.record("accepted two points 0.15 V apart")
        } catch {
            guard case .pointsTooClose(let channel, let spread, let needed, _) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(channel == "cell 2" && abs(spread - 0.15) < 1e-9 && needed == 0.2)
            #expect(error.description.contains("span 0.15 V, at least 0.2 V"))
        }
        #expect(throws: SensorCalibration.Failure.noSignal(channel: "current")) {
            try SensorCalibration.fit([Point(shown: 0, reference: 20)], old: Channel(gain: 1, offset: 0),
                                      name: "current", minimumSpread: 2, unit: "A", gainFromOnePoint: true)
        }
    }
}
