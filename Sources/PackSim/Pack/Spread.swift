/// How much the cells of a pack differ from each other.
public enum SpreadPreset: UInt8, CaseIterable, Sendable {
    /// New cells from one batch: capacity ±1 %, resistance ±5 %, SOC ±0.5 % (uniform).
    case new
    /// Second-life cells: capacity ±15 %, resistance ±40 %, SOC ±5 %, and one weak cell in
    /// one group (60 % capacity, 2.5 × resistance, 5 × self-discharge).
    case secondLife

    public var name: StaticString {
        switch self {
        case .new: "new"
        case .secondLife: "second-life"
        }
    }

    var capacity: Float { self == .new ? 0.01 : 0.15 }
    var resistance: Float { self == .new ? 0.05 : 0.40 }
    var soc: Float { self == .new ? 0.005 : 0.05 }
}

/// The factors of one physical cell relative to the chemistry's nominal cell.
struct CellDraw {
    var capacity: Float
    var resistance: Float
    var selfDischarge: Float
}

extension SpreadPreset {
    /// Draws one cell; `weak` makes it the pack's weak cell.
    func draw(_ random: inout SimRandom, weak: Bool) -> CellDraw {
        var cell = CellDraw(capacity: 1 + random.uniform(-capacity, capacity),
                            resistance: 1 + random.uniform(-resistance, resistance),
                            selfDischarge: 1)
        if weak {
            cell.capacity *= 0.6
            cell.resistance *= 2.5
            cell.selfDischarge = 5
        }
        return cell
    }
}
