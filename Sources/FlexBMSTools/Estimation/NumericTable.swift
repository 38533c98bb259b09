import Foundation

/// A CSV file of numbers with a header row, read whole: the recorded data sets the
/// calibration and benchmark commands work on (`time_s,current_meas_A,voltage_meas_V,…`).
public struct NumericTable {
    public let path: String
    public let columns: [String]
    /// Rows of values in column order.
    public let rows: [[Double]]
    /// The file line of each row (1-based; comment and blank lines counted), for errors.
    public let lineNumbers: [Int]
    /// The cells as written, for error messages.
    let raw: [[String]]

    public init(path: String) throws(NumericTableError) {
        self.path = path
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
        guard !lines.isEmpty else { throw .empty(path) }
        columns = lines.removeFirst().1.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var rows: [[Double]] = []
        var raw: [[String]] = []
        var lineNumbers: [Int] = []
        rows.reserveCapacity(lines.count)
        for (lineNumber, line) in lines {
            lineNumbers.append(lineNumber)
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            guard cells.count == columns.count else {
                throw .badRow(path, lineNumber, "\(cells.count) fields, the header has \(columns.count)")
            }
            // Cells that are not numbers are kept as NaN: a column of notes or dates is fine
            // as long as nobody asks for it; `values(_:)` refuses it with the line.
            rows.append(cells.map { Double($0.trimmingCharacters(in: .whitespaces)) ?? .nan })
            raw.append(cells.map(String.init))
        }
        guard !rows.isEmpty else { throw .empty(path) }
        self.rows = rows
        self.raw = raw
        self.lineNumbers = lineNumbers
    }

    /// The index of `name`, or an error naming the columns that are there.
    public func column(_ name: String) throws(NumericTableError) -> Int {
        guard let index = columns.firstIndex(of: name) else { throw .missingColumn(path, name, columns) }
        return index
    }

    /// All values of column `name`; every one must be a finite number.
    public func values(_ name: String) throws(NumericTableError) -> [Double] {
        let c = try column(name)
        var values: [Double] = []
        values.reserveCapacity(rows.count)
        for (k, row) in rows.enumerated() {
            guard row[c].isFinite else {
                throw .badRow(path, lineNumbers[k], "\(name) is not a number: \"\(raw[k][c])\"")
            }
            values.append(row[c])
        }
        return values
    }
}

public enum NumericTableError: Error, CustomStringConvertible {
    case unreadable(String, String)
    case empty(String)
    case badRow(String, Int, String)
    case missingColumn(String, String, [String])
    case invalid(String, String)

    public var description: String {
        switch self {
        case .unreadable(let p, let why): "cannot read \(p): \(why)"
        case .empty(let p): "\(p) has no data rows"
        case .badRow(let p, let line, let why): "\(p), line \(line): \(why)"
        case .missingColumn(let p, let name, let found):
            "\(p) has no column \(name); found " + found.joined(separator: ", ")
        case .invalid(let p, let why): "\(p): \(why)"
        }
    }
}
