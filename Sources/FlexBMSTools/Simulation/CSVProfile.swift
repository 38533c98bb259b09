import Foundation
import PackSim

/// A recorded terminal profile from a CSV file: columns `time_s` and `power_W`, power
/// positive when a source charges the pack and negative when a load draws from it; linear
/// between rows, the last row held after the end. The source regulates to
/// `voltageLimit` (CV) with at most `currentLimit` A, like a charge controller.
public struct CSVProfile: PowerProfile {
    let times: [Double]
    let powers: [Float]
    let voltageLimit: Float
    let currentLimit: Float
    var cursor = 0

    public init(path: String, voltageLimit: Float, currentLimit: Float) throws(CSVProfileError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadable(path, (error as NSError).localizedDescription)
        }
        // (line number, text) of the lines that hold data, so errors name the real line.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated()
            .map { ($0.offset + 1, $0.element.trimmingCharacters(in: .whitespacesAndNewlines)) }
            .filter { !$0.1.isEmpty && !$0.1.hasPrefix("#") }
        guard let header = lines.first?.1 else { throw .empty(path) }
        let columns = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let t = columns.firstIndex(of: "time_s"), let p = columns.firstIndex(of: "power_W") else {
            throw .missingColumns(path, columns)
        }
        lines.removeFirst()
        var times: [Double] = [], powers: [Float] = []
        for (lineNumber, line) in lines {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count > max(t, p), let time = Double(cells[t]), time.isFinite,
                  let power = Float(cells[p]), power.isFinite else {
                throw .badRow(path, lineNumber, line)
            }
            if let last = times.last, time <= last { throw .notIncreasing(path, lineNumber, time) }
            times.append(time)
            powers.append(power)
        }
        guard !times.isEmpty else { throw .empty(path) }
        self.times = times
        self.powers = powers
        self.voltageLimit = voltageLimit
        self.currentLimit = currentLimit
    }

    /// Power at `seconds` (linear between rows; first/last row held outside).
    mutating func power(at seconds: Double) -> Float {
        if seconds <= times[0] { return powers[0] }
        while cursor + 1 < times.count && times[cursor + 1] <= seconds { cursor += 1 }
        guard cursor + 1 < times.count else { return powers[powers.count - 1] }
        let f = Float((seconds - times[cursor]) / (times[cursor + 1] - times[cursor]))
        return powers[cursor] + (powers[cursor + 1] - powers[cursor]) * f
    }

    public mutating func demand(at time: SimTime) -> TerminalDemand {
        let w = power(at: Double(time.milliseconds) / 1000)
        var d = TerminalDemand()
        if w >= 0 {
            d.sourceW = w
            d.sourceVoltageLimit = voltageLimit
            d.sourceCurrentLimit = currentLimit
        } else {
            d.loadW = -w
        }
        return d
    }
}

public enum CSVProfileError: Error, CustomStringConvertible {
    case unreadable(String, String)
    case empty(String)
    case missingColumns(String, [String])
    case badRow(String, Int, String)
    case notIncreasing(String, Int, Double)

    public var description: String {
        switch self {
        case .unreadable(let p, let why): "cannot read profile \(p): \(why)"
        case .empty(let p): "profile \(p) has no data rows"
        case .missingColumns(let p, let found):
            "profile \(p) needs the columns time_s and power_W; found " + found.joined(separator: ", ")
        case .badRow(let p, let line, let text): "profile \(p), line \(line): not two numbers: \(text)"
        case .notIncreasing(let p, let line, let t): "profile \(p), line \(line): time_s \(t) does not increase"
        }
    }
}
