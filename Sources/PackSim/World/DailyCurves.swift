/// Shapes of a day as hourly tables (24 values, hour 0 = midnight), interpolated linearly.
/// Tables, not trigonometry, so the portable line needs no libm.
enum DailyCurves {
    /// Clear-sky irradiance as a fraction of noon: sunrise 06:30, sunset 19:30, a sine bell
    /// sampled at each hour (the shape of the ground-truth data's PV profile).
    static var clearSky: InlineArray<24, Float> {
        [0, 0, 0, 0, 0, 0, 0, 0.121, 0.355, 0.568, 0.749, 0.885, 0.971, 1, 0.971, 0.885,
         0.749, 0.568, 0.355, 0.121, 0, 0, 0, 0]
    }

    /// Ambient temperature swing, −1 at 05:00 … +1 at 15:00: half-cosines rising over 10 h
    /// and falling over 14 h, sampled hourly.
    static var ambientSwing: InlineArray<24, Float> {
        [-0.434, -0.623, -0.782, -0.901, -0.975, -1.000, -0.951, -0.809, -0.588, -0.309, 0,
         0.309, 0.588, 0.809, 0.951, 1.000, 0.975, 0.901, 0.782, 0.623, 0.434, 0.223, 0, -0.223]
    }

    /// Household load beyond the base load, as a fraction of its evening peak: morning
    /// 06–08, low daytime, the evening peak 18–22 (lights, cooking, TV).
    static var household: InlineArray<24, Float> {
        [0.05, 0.05, 0.05, 0.05, 0.05, 0.10, 0.35, 0.40, 0.25, 0.15, 0.15, 0.20, 0.25, 0.20,
         0.15, 0.15, 0.20, 0.45, 0.80, 1.00, 0.95, 0.70, 0.35, 0.10]
    }

    /// `table` at `secondsOfDay` (0 ..< 86 400), linear between hours.
    static func value(_ table: InlineArray<24, Float>, at secondsOfDay: Float) -> Float {
        let h = secondsOfDay / 3600
        let i = min(max(Int(h), 0), 23)
        let f = h - Float(i)
        let next = table[(i + 1) % 24]
        return table[i] + (next - table[i]) * f
    }
}
