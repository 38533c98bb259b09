import PackSim

/// `KIND[:N]@TIME` or, for several packs, `KIND:PACK:N@TIME`, as typed after `--fault`.
/// N counts from 1 (cell or thermistor number as printed on the board).
public struct FaultSpec: Equatable, CustomStringConvertible {
    public var fault: ScheduledFault
    public var pack: Int

    public var description: String {
        let index = fault.kind.target == nil ? "" : ":\(fault.index + 1)"
        return "\(fault.kind.name)\(index)@\(fault.atMilliseconds)ms"
    }

    /// Parses `text`; the error says what is wrong with it.
    public static func parse(_ text: String) -> Result<FaultSpec, FaultSpecError> {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return .failure(.syntax(text)) }
        guard let at = Quantity.duration(String(parts[1])) else {
            return .failure(.badTime(text, String(parts[1])))
        }
        let head = parts[0].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let kind = InjectedFaultKind(name: head[0]) else { return .failure(.unknownKind(head[0])) }
        var numbers: [Int] = []
        for part in head.dropFirst() {
            guard let n = Int(part), n >= 1 else { return .failure(.badIndex(text, part)) }
            numbers.append(n)
        }
        var pack = 1
        let index: Int
        switch (kind.target, numbers.count) {
        case (nil, 0): index = 0
        case (nil, 1): pack = numbers[0]; index = 0
        case (nil, _): return .failure(.tooManyIndices(text))
        case (_, 0): return .failure(.missingIndex(text, kind))
        case (_, 1): index = numbers[0] - 1
        case (_, 2): pack = numbers[0]; index = numbers[1] - 1
        case (_, _): return .failure(.tooManyIndices(text))
        }
        return .success(FaultSpec(fault: ScheduledFault(kind: kind, index: index, atMilliseconds: at),
                                  pack: pack))
    }
}

public enum FaultSpecError: Error, Equatable, CustomStringConvertible {
    case syntax(String)
    case badTime(String, String)
    case unknownKind(String)
    case badIndex(String, String)
    case missingIndex(String, InjectedFaultKind)
    case tooManyIndices(String)

    public var description: String {
        switch self {
        case .syntax(let t): "\(t): expected KIND[:N]@TIME, e.g. cell-short:7@2d"
        case .badTime(let t, let time): "\(t): \"\(time)\" is not a time (use e.g. 90s, 15m, 30h, 2d)"
        case .unknownKind(let k):
            "unknown fault \"\(k)\"; one of " + InjectedFaultKind.allCases.map { "\($0.name)" }.joined(separator: ", ")
        case .badIndex(let t, let n): "\(t): \"\(n)\" is not a number from 1"
        case .missingIndex(let t, let kind):
            "\(t): \(kind.name) needs the \(kind.target == .cell ? "cell" : "thermistor") number, e.g. \(kind.name):3@1h"
        case .tooManyIndices(let t): "\(t): too many numbers; use KIND:N@TIME or KIND:PACK:N@TIME"
        }
    }
}
