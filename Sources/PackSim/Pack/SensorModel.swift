/// What the AFE's measurements add to the truth: gain and offset errors fixed per run, white
/// noise per sample, and ADC quantisation.
///
/// Defaults follow the sensor model of the ground-truth data in ../shared/data/soc: current
/// gain error within ±0.4 %, offset within ±0.002 C, white noise 0.002 C (1 σ); cell
/// voltage 2 mV noise and 1 mV resolution. Temperatures: 0.2 K noise, 0.1 K resolution
/// (assumption, typical of a 10 kΩ NTC on a 12-bit ADC).
public struct SensorModel: Sendable {
    public var currentGainError: Float
    public var currentOffset: Float
    public var currentNoise: Float
    public var currentResolution: Float = 0.001
    public var voltageNoise: Float = 0.002
    public var voltageResolution: Float = 0.001
    public var temperatureNoise: Float = 0.2
    public var temperatureResolution: Float = 0.1

    /// A sensor set for a pack of `capacityAh`, with its fixed errors drawn from `random`.
    public init(capacityAh: Float, random: inout SimRandom) {
        currentGainError = random.uniform(-0.004, 0.004)
        currentOffset = random.uniform(-0.002, 0.002) * capacityAh
        currentNoise = 0.002 * capacityAh
    }

    /// A perfect sensor set (tests that need exact readings).
    public static var ideal: SensorModel {
        var r = SimRandom(seed: 0)
        var s = SensorModel(capacityAh: 0, random: &r)
        s.currentGainError = 0
        s.currentOffset = 0
        s.currentNoise = 0
        s.voltageNoise = 0
        s.temperatureNoise = 0
        return s
    }

    static func quantise(_ x: Float, _ step: Float) -> Float {
        SimMath.round(x * (1 / step)) * step
    }

    func current(_ truth: Float, _ random: inout SimRandom) -> Float {
        let noisy = truth * (1 + currentGainError) + currentOffset
            + (currentNoise > 0 ? currentNoise * random.gaussian() : 0)
        return SensorModel.quantise(noisy, currentResolution)
    }

    func voltage(_ truth: Float, _ random: inout SimRandom) -> Float {
        let noisy = voltageNoise > 0 ? truth + voltageNoise * random.gaussian() : truth
        return max(0, SensorModel.quantise(noisy, voltageResolution))
    }

    func temperature(_ truth: Float, _ random: inout SimRandom) -> Float {
        let noisy = temperatureNoise > 0 ? truth + temperatureNoise * random.gaussian() : truth
        return SensorModel.quantise(noisy, temperatureResolution)
    }
}
