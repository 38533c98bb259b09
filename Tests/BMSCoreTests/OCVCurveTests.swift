import Testing
@testable import BMSCore

@Suite struct OCVCurveTests {
    @Test(arguments: [Chemistry.lfp, .nmc, .nca, .lto])
    func presetsRiseWithSOCAndInvert(_ chemistry: Chemistry) {
        let curve = OCVCurve.preset(chemistry)!
        #expect(curve.isMonotonic)
        for k in 0...100 {
            let soc = Float(k) / 100
            let back = curve.soc(atVoltage: curve.voltage(atSOC: soc))
            #expect(abs(back - soc) < 1e-4, "\(chemistry) at \(soc): \(back)")
        }
    }

    @Test func endsAndSlopes() {
        let lfp = OCVCurve.preset(.lfp)!
        #expect(lfp.voltage(atSOC: 0) == 2.833)
        #expect(lfp.voltage(atSOC: 1) == 3.392)
        #expect(lfp.voltage(atSOC: -0.2) == 2.833)           // clamped
        #expect(lfp.soc(atVoltage: 2.5) == 0)
        #expect(lfp.soc(atVoltage: 3.5) == 1)
        // 50–55 %: 3.265 → 3.268 V, i.e. 0.06 V per unit of SOC: the LFP plateau.
        #expect(abs(lfp.slope(atSOC: 0.52) - 0.06) < 1e-4)
        #expect(abs(lfp.voltage(atSOC: 0.525) - 3.2665) < 1e-5)
    }

    @Test func aFallingCurveIsNotMonotonic() {
        var curve = OCVCurve.preset(.nmc)!
        curve.volts[10] = 3.5
        #expect(!curve.isMonotonic)
        #expect(OCVCurve.preset(.custom) == nil)
    }
}
