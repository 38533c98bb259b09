/// The wire protocol between the BMS and a stackable active-balancer board
/// (LTC3300/EMB1428-class: each cell's converter moves charge between that cell and the
/// stack), over whatever byte link the board has (I2C, SPI or UART). Small on purpose: one
/// command frame with a setpoint per cell, one status frame back.
///
/// Frames start with `0xAB`, then the type, a flags byte, the cell count N (1…16), N signed
/// 16-bit little-endian values in mA, type-specific bytes, and a CRC-8 (polynomial 0x07, the
/// SMBus PEC) over everything before it.
///
/// - Command `0x01`: flags bit 0 = enable; values = setpoints, + = charge that cell from the
///   stack, − = discharge it into the stack. No extra bytes.
/// - Status `0x81`: flags bit 0 = enabled; values = the currents the board runs now; then a
///   16-bit little-endian mask of faulted cells, a fault byte (`ActiveBalancerFaults`) and
///   the board temperature as a signed byte, °C.
public enum ActiveBalancerFrame {
    public static let start: UInt8 = 0xAB
    public static let commandType: UInt8 = 0x01
    public static let statusType: UInt8 = 0x81
    /// The largest frame: a status with 16 cells (the storage of `ActiveBalancerBytes`).
    public static let maximumLength = 4 + 2 * 16 + 4 + 1

    /// CRC-8, polynomial 0x07, initial 0, no reflection (SMBus PEC), of the first `count` bytes.
    static func crc8(_ frame: ActiveBalancerBytes, count: Int) -> UInt8 {
        var crc: UInt8 = 0
        for k in 0..<count {
            crc ^= frame.bytes[k]
            for _ in 0..<8 { crc = crc & 0x80 != 0 ? (crc << 1) ^ 0x07 : crc << 1 }
        }
        return crc
    }
}

/// A frame's bytes in fixed storage (no heap on the device).
public struct ActiveBalancerBytes: Sendable {
    public var bytes: InlineArray<41, UInt8> = InlineArray(repeating: 0)
    /// Bytes received or written; above 41 only counted (the decoder refuses such a frame).
    public private(set) var count: Int = 0

    public init() {}

    /// A received frame.
    public init(_ source: UnsafeBufferPointer<UInt8>) {
        for b in source { append(b) }
    }

    mutating func append(_ b: UInt8) {
        if count < 41 { bytes[count] = b }
        count += 1
    }

    mutating func appendInt16(_ v: Int16) {
        let u = UInt16(bitPattern: v)
        append(UInt8(truncatingIfNeeded: u))
        append(UInt8(truncatingIfNeeded: u >> 8))
    }

    func int16(at k: Int) -> Int16 {
        Int16(bitPattern: UInt16(bytes[k]) | UInt16(bytes[k + 1]) << 8)
    }
}

/// What is wrong with a received frame.
public enum ActiveBalancerFrameError: Error, Sendable, Equatable {
    case tooShort(Int)
    case tooLong(Int)
    case badStart(UInt8)
    case unknownType(UInt8)
    /// The cell count is 0 or above 16.
    case badCellCount(UInt8)
    /// The length does not match the cell count (expected, got).
    case lengthMismatch(expected: Int, got: Int)
    case badCRC(expected: UInt8, got: UInt8)
}

/// Faults the board reports besides per-cell ones.
public struct ActiveBalancerFaults: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// The board is too hot and has stopped (or limited) its converters.
    public static var overTemperature: ActiveBalancerFaults { ActiveBalancerFaults(rawValue: 1 << 0) }
    /// A cell outside the converter's working range.
    public static var cellVoltage: ActiveBalancerFaults { ActiveBalancerFaults(rawValue: 1 << 1) }
    /// A converter's current exceeded its limit.
    public static var overcurrent: ActiveBalancerFaults { ActiveBalancerFaults(rawValue: 1 << 2) }
    /// No command within the board's watchdog time: it stopped by itself.
    public static var watchdog: ActiveBalancerFaults { ActiveBalancerFaults(rawValue: 1 << 3) }
    /// A setpoint beyond the board's current limit was clamped.
    public static var setpointClamped: ActiveBalancerFaults { ActiveBalancerFaults(rawValue: 1 << 4) }
}

/// The command: enable and one setpoint per cell, A (+ = charge the cell from the stack).
public struct ActiveBalancerCommand: Sendable {
    public var enable: Bool
    public var cells: Int
    public var setpoints: InlineArray<16, Float>

    public init(enable: Bool, cells: Int, setpoints: InlineArray<16, Float> = InlineArray(repeating: 0)) {
        self.enable = enable
        self.cells = cells
        self.setpoints = setpoints
    }

    /// The frame, setpoints rounded to mA and held within ±32.767 A.
    public func encoded() -> ActiveBalancerBytes {
        var f = ActiveBalancerBytes()
        f.append(ActiveBalancerFrame.start)
        f.append(ActiveBalancerFrame.commandType)
        f.append(enable ? 1 : 0)
        let n = min(max(cells, 1), 16)
        f.append(UInt8(n))
        for i in 0..<n { f.appendInt16(milliamps(setpoints[i])) }
        f.append(ActiveBalancerFrame.crc8(f, count: f.count))
        return f
    }

    /// Decodes a command frame (the board's side, and tests).
    public init(decoding frame: ActiveBalancerBytes) throws(ActiveBalancerFrameError) {
        let n = try checkHeader(frame, type: ActiveBalancerFrame.commandType, extra: 0)
        enable = frame.bytes[2] & 1 != 0
        cells = n
        setpoints = InlineArray(repeating: 0)
        for i in 0..<n { setpoints[i] = Float(frame.int16(at: 4 + 2 * i)) / 1000 }
    }
}

/// The board's status: what it runs, and what went wrong.
public struct ActiveBalancerStatus: Sendable {
    public var enabled: Bool
    public var cells: Int
    /// The currents the converters run now, A (+ = into the cell).
    public var currents: InlineArray<16, Float>
    public var faultedCells: UInt16
    public var faults: ActiveBalancerFaults
    public var boardTemperature: Int8

    public init(enabled: Bool, cells: Int, currents: InlineArray<16, Float> = InlineArray(repeating: 0),
                faultedCells: UInt16 = 0, faults: ActiveBalancerFaults = [], boardTemperature: Int8 = 25) {
        self.enabled = enabled
        self.cells = cells
        self.currents = currents
        self.faultedCells = faultedCells
        self.faults = faults
        self.boardTemperature = boardTemperature
    }

    public func encoded() -> ActiveBalancerBytes {
        var f = ActiveBalancerBytes()
        f.append(ActiveBalancerFrame.start)
        f.append(ActiveBalancerFrame.statusType)
        f.append(enabled ? 1 : 0)
        let n = min(max(cells, 1), 16)
        f.append(UInt8(n))
        for i in 0..<n { f.appendInt16(milliamps(currents[i])) }
        f.append(UInt8(truncatingIfNeeded: faultedCells))
        f.append(UInt8(truncatingIfNeeded: faultedCells >> 8))
        f.append(faults.rawValue)
        f.append(UInt8(bitPattern: boardTemperature))
        f.append(ActiveBalancerFrame.crc8(f, count: f.count))
        return f
    }

    /// Decodes a status frame; every malformation is named.
    public init(decoding frame: ActiveBalancerBytes) throws(ActiveBalancerFrameError) {
        let n = try checkHeader(frame, type: ActiveBalancerFrame.statusType, extra: 4)
        enabled = frame.bytes[2] & 1 != 0
        cells = n
        currents = InlineArray(repeating: 0)
        for i in 0..<n { currents[i] = Float(frame.int16(at: 4 + 2 * i)) / 1000 }
        let k = 4 + 2 * n
        faultedCells = UInt16(frame.bytes[k]) | UInt16(frame.bytes[k + 1]) << 8
        faults = ActiveBalancerFaults(rawValue: frame.bytes[k + 2])
        boardTemperature = Int8(bitPattern: frame.bytes[k + 3])
    }
}

private func milliamps(_ a: Float) -> Int16 {
    guard a == a else { return 0 }  // NaN: nothing
    let ma = a * 1000
    if ma >= 32_767 { return 32_767 }
    if ma <= -32_767 { return -32_767 }
    return Int16(ma + (ma >= 0 ? 0.5 : -0.5))
}

/// Checks start, type, count, length and CRC; returns the cell count.
private func checkHeader(_ f: ActiveBalancerBytes, type: UInt8, extra: Int) throws(ActiveBalancerFrameError) -> Int {
    guard f.count <= ActiveBalancerFrame.maximumLength else { throw .tooLong(f.count) }
    guard f.count >= 5 else { throw .tooShort(f.count) }
    guard f.bytes[0] == ActiveBalancerFrame.start else { throw .badStart(f.bytes[0]) }
    guard f.bytes[1] == type else { throw .unknownType(f.bytes[1]) }
    let n = Int(f.bytes[3])
    guard n >= 1 && n <= 16 else { throw .badCellCount(f.bytes[3]) }
    let expected = 4 + 2 * n + extra + 1
    guard f.count == expected else { throw .lengthMismatch(expected: expected, got: f.count) }
    let crc = ActiveBalancerFrame.crc8(f, count: expected - 1)
    guard crc == f.bytes[expected - 1] else { throw .badCRC(expected: crc, got: f.bytes[expected - 1]) }
    return n
}
