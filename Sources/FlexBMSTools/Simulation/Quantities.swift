import Foundation

/// Parsing of the quantities typed on the command line.
public enum Quantity {
    /// A duration: `90`, `90s`, `500ms`, `15m`, `30h`, `2d`, `1.5h`. Returns milliseconds.
    public static func duration(_ text: String) -> UInt64? {
        let units: [(String, Double)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000),
                                         ("d", 86_400_000)]
        var number = text.trimmingCharacters(in: .whitespaces)
        var scale: Double = 1000
        for (suffix, factor) in units where number.hasSuffix(suffix) {
            let head = String(number.dropLast(suffix.count))
            // "ms" must not be read as "m" + "s": take the longest suffix that leaves a number.
            if Double(head) != nil {
                number = head
                scale = factor
                break
            }
        }
        guard let value = Double(number), value.isFinite, value >= 0 else { return nil }
        let ms = value * scale
        guard ms < 1e15 else { return nil }
        return UInt64(ms.rounded())
    }

    /// A temperature: `25`, `25C`, `-10C`. Returns °C.
    public static func temperature(_ text: String) -> Float? {
        var t = text.trimmingCharacters(in: .whitespaces)
        if t.hasSuffix("°C") { t = String(t.dropLast(2)) } else if t.hasSuffix("C") || t.hasSuffix("c") { t = String(t.dropLast()) }
        guard let value = Float(t), value.isFinite, value > -100, value < 200 else { return nil }
        return value
    }
}
