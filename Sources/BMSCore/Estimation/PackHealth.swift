/// Charge and energy left in the pack, and the room to full (see `PackEstimator.energy`).
public struct PackEnergy: Sendable, Equatable {
    /// Ah the pack can still give before its first cell is empty, and take before its first
    /// cell is full.
    public var remainingAh: Float
    public var roomAh: Float
    /// The same as energy at the cells' open-circuit voltage, Wh.
    public var remainingWh: Float
    public var roomWh: Float

    public init(remainingAh: Float, roomAh: Float, remainingWh: Float, roomWh: Float) {
        self.remainingAh = remainingAh
        self.roomAh = roomAh
        self.remainingWh = remainingWh
        self.roomWh = roomWh
    }

    /// Seconds to empty at `power` W drawn from the pack; `nil` below 1 W (not discharging).
    public func secondsToEmpty(dischargePower power: Float) -> Float? {
        power >= 1 ? remainingWh * 3600 / power : nil
    }

    /// Seconds to full at `power` W into the pack; `nil` below 1 W (not charging). A charger
    /// tapers in its absorption stage, so the true time is longer near the top.
    public func secondsToFull(chargePower power: Float) -> Float? {
        power >= 1 ? roomWh * 3600 / power : nil
    }
}

/// Why a cell limits the pack.
public struct WeakCellCauses: OptionSet, Sendable, Equatable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Its learned capacity is 3 % or more below the median cell's.
    public static var lowCapacity: WeakCellCauses { WeakCellCauses(rawValue: 1 << 0) }
    /// Its learned resistance is 30 % or more above the median cell's: it reaches a voltage
    /// limit first under load.
    public static var highResistance: WeakCellCauses { WeakCellCauses(rawValue: 1 << 1) }
    /// Its SOC stands more than 2 % from the median (below it for the cell that empties
    /// first, above for the one that fills first): balancing, not the cell, is the cure.
    public static var imbalance: WeakCellCauses { WeakCellCauses(rawValue: 1 << 2) }
}

/// The cells that limit the pack, and why (see `PackEstimator.weakCells`). Indexes are
/// 0-based; an empty cause set means the pack is even and some cell has to be first.
public struct WeakCellReport: Sendable, Equatable {
    /// The cell with the least charge left: it ends every discharge.
    public var emptiesFirst: UInt8 = 0
    public var emptiesFirstCauses: WeakCellCauses = []
    /// The cell with the least room left: it ends every charge.
    public var fillsFirst: UInt8 = 0
    public var fillsFirstCauses: WeakCellCauses = []
    /// The cell of the lowest capacity, and its capacity over the median's.
    public var lowestCapacity: UInt8 = 0
    public var lowestCapacityRatio: Float = 1
    /// The cell of the highest resistance, and its resistance over the median's.
    public var highestResistance: UInt8 = 0
    public var highestResistanceRatio: Float = 1

    public init() {}
}
