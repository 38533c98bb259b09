import Foundation
import Testing
@testable import PackSim

@Suite struct SimMathTests {
    @Test func expMatchesLibm() {
        var x: Float = -80
        while x <= 80 {
            let expected = Foundation.exp(Double(x))
            let relative = abs(Double(SimMath.exp(x)) - expected) / expected
            #expect(relative < 5e-7, "exp(\(x))")
            x += 0.37
        }
        #expect(SimMath.exp(-100) == 0)
        #expect(SimMath.exp(100) == .infinity)
    }

    @Test func logMatchesLibm() {
        for x: Float in [1e-30, 1e-6, 0.01, 0.5, 0.7071, 1, 1.4142, 2, 3.35, 10, 280, 1e6, 1e30] {
            #expect(abs(Double(SimMath.log(x)) - Foundation.log(Double(x))) < 2e-6, "log(\(x))")
        }
        #expect(SimMath.log(0) == -.infinity)
        #expect(SimMath.log(-1).isNaN)
    }

    @Test func powForTheSurfaceScaling() {
        let p = SimMath.pow(280 / 3.35, 2.0 / 3.0)
        #expect(abs(Double(p) - Foundation.pow(280 / 3.35, 2.0 / 3.0)) < 1e-3)
    }

    @Test func roundHalvesAwayFromZero() {
        #expect(SimMath.round(2.5) == 3)
        #expect(SimMath.round(-2.5) == -3)
        #expect(SimMath.round(2.49) == 2)
        #expect(SimMath.round(-0.4) == 0)
        #expect(SimMath.round(1e9) == 1e9)
    }
}

@Suite struct SimRandomTests {
    @Test func sameSeedSameNumbersDifferentSeedDifferent() {
        var a = SimRandom(seed: 42), b = SimRandom(seed: 42), c = SimRandom(seed: 43)
        let xs = (0..<100).map { _ in a.next() }
        #expect(xs == (0..<100).map { _ in b.next() })
        #expect(xs != (0..<100).map { _ in c.next() })
    }

    @Test func uniformAndGaussianHaveTheirMoments() {
        var r = SimRandom(seed: 7)
        let n = 200_000
        var sum: Double = 0, sumG: Double = 0, sumG2: Double = 0
        var lo: Float = 1, hi: Float = 0
        for _ in 0..<n {
            let u = r.unit()
            lo = min(lo, u); hi = max(hi, u)
            sum += Double(u)
            let g = Double(r.gaussian())
            sumG += g
            sumG2 += g * g
        }
        #expect(abs(sum / Double(n) - 0.5) < 0.005)
        #expect(lo >= 0 && hi < 1)
        #expect(abs(sumG / Double(n)) < 0.01)
        #expect(abs(sumG2 / Double(n) - 1) < 0.02)
    }

    @Test func forksAreIndependentOfEachOther() {
        let root = SimRandom(seed: 1)
        var a = root.fork(1), b = root.fork(2), a2 = root.fork(1)
        #expect(a.next() == a2.next())
        #expect(a.next() != b.next())
    }
}
