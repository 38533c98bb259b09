/// The board's own measurement errors, corrected before anything else sees a sample: current
/// gain and offset, each cell channel's gain and offset, each thermistor's offset. Written at
/// production or by a technician with `flexbms calibrate current|cells|temperatures`, stored
/// with the settings (the `p` items: protected, manufacturer role once ThingSet has roles).
///
/// The model is the one a two-point calibration measures: the corrected value is
/// `gain × (raw − offset)`, so the offset is what the channel reads when the truth is zero
/// (the current sensor with both switches open), in the channel's raw units. Identity: gain 1,
/// offset 0.
public struct MeasurementCalibration: Sendable {
    /// Current sensor: `pCurrentGain`, `pCurrentOffset_A`.
    public var currentGain: Float = 1
    public var currentOffset: Float = 0
    /// Cell channels (index 0 = cell 1): `pCellVoltageGain`, `pCellVoltageOffset_V`.
    public var cellGain: InlineArray<16, Float> = InlineArray(repeating: 1)
    public var cellOffset: InlineArray<16, Float> = InlineArray(repeating: 0)
    /// Thermistor inputs in the order the AFE reports them: `pThermistorOffset_K`, subtracted.
    public var temperatureOffset: InlineArray<8, Float> = InlineArray(repeating: 0)

    public init() {}

    /// Corrects `m` in place; `extraCurrentOffset` is the offset learned at run time with both
    /// switches open (`CurrentZero`), on top of the stored one. The stack and terminal voltages
    /// are left as measured: they have their own dividers, not the cell channels' errors.
    public func apply(to m: inout Measurement, cells: Int, extraCurrentOffset: Float = 0) {
        m.current = currentGain * (m.current - currentOffset - extraCurrentOffset)
        for i in 0..<min(cells, 16) {
            m.cellVoltages[i] = cellGain[i] * (m.cellVoltages[i] - cellOffset[i])
        }
        for k in 0..<m.temperatureCount {
            m.temperatures[k] -= temperatureOffset[k]
        }
    }
}

/// Learns the current sensor's zero while both switches are open: no current can flow then
/// (the two MOSFETs' body diodes face each other), so whatever the sensor reads is its offset.
///
/// After the switches have been open for `settleMilliseconds` (the current decays and the
/// shunt amplifier settles), it averages the raw readings (minus the stored offset); once
/// `minimumSamples` are in, the mean becomes the correction on top of the stored offset, and
/// keeps improving while the switches stay open. A mean larger than `limit` is not taken:
/// then something does flow — a switch that did not open, or the BMS's own supply drawn
/// through the shunt — and the stored calibration is the better guess.
public struct CurrentZero: Sendable {
    public static let settleMilliseconds: UInt32 = 5_000
    public static let minimumSamples: Int32 = 20
    /// After this many samples the mean becomes a moving average, so a drifting offset is
    /// followed during long open periods.
    static let memory: Int32 = 1_000

    /// The learned correction, A in raw units (0 until learned).
    public private(set) var correction: Float = 0
    /// Whether a correction has been learned since start.
    public private(set) var learned = false
    var openSince: Timestamp?
    var sum: Float = 0
    var count: Int32 = 0
    var reported = false
    var lastSample: Timestamp?

    public init() {}

    /// Takes one sample; returns the correction when it is first learned in an open period
    /// (worth an event; the refinements after it are not), otherwise `nil`. `bothOpen` is the commanded state confirmed by the read-back
    /// where the board has one; `rawCurrent` is the reading with only the stored offset and no
    /// gain applied.
    mutating func update(rawCurrent: Float, bothOpen: Bool, at time: Timestamp, limit: Float) -> Float? {
        // A silent AFE repeats its last sample: count each sample once.
        if let last = lastSample, last == time { return nil }
        lastSample = time
        guard bothOpen else {
            openSince = nil
            sum = 0
            count = 0
            reported = false
            return nil
        }
        guard let since = openSince else {
            openSince = time
            return nil
        }
        guard time.milliseconds(since: since) >= CurrentZero.settleMilliseconds else { return nil }
        if count >= CurrentZero.memory {
            sum -= sum / Float(count)
        } else {
            count += 1
        }
        sum += rawCurrent
        guard count >= CurrentZero.minimumSamples else { return nil }
        let mean = sum / Float(count)
        guard abs(mean) <= limit else { return nil }
        correction = mean
        learned = true
        if reported { return nil }
        reported = true
        return mean
    }
}
