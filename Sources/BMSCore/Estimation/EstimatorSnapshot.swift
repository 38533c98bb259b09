/// What the estimators must not forget across a reset: each cell's SOC and its uncertainty,
/// the current sensor's offset, the learned capacity and resistance. On an LFP plateau the
/// voltage cannot give the SOC back after a reset; this record can.
///
/// Stored as a fixed 456-byte record (little-endian; the firmware keeps it in flash next to
/// the settings): magic "FS", format version, cell count, 16 cell records of 28 bytes
/// (SOC, σ(SOC), offset A, capacity Ah, σ(capacity)/capacity, R0 Ω at 25 °C as Float32;
/// capacity samples, R0 samples as UInt16), and a CRC-32 (IEEE 802.3) of everything before it.
public struct EstimatorSnapshot: Sendable, Equatable {
    public struct Cell: Sendable, Equatable {
        public var soc: Float
        public var socSigma: Float
        public var offset: Float
        public var capacityAh: Float
        public var capacitySigma: Float
        public var r0: Float
        public var capacitySamples: UInt16
        public var r0Samples: UInt16

        public init(soc: Float, socSigma: Float, offset: Float, capacityAh: Float,
                    capacitySigma: Float, r0: Float, capacitySamples: UInt16, r0Samples: UInt16) {
            self.soc = soc
            self.socSigma = socSigma
            self.offset = offset
            self.capacityAh = capacityAh
            self.capacitySigma = capacitySigma
            self.r0 = r0
            self.capacitySamples = capacitySamples
            self.r0Samples = r0Samples
        }

        static var zero: Cell {
            Cell(soc: 0, socSigma: 0, offset: 0, capacityAh: 0, capacitySigma: 0, r0: 0,
                 capacitySamples: 0, r0Samples: 0)
        }
    }

    public var cellCount: Int
    public var cells: InlineArray<16, Cell>

    public static var byteCount: Int { 456 }
    static var version: UInt8 { 1 }

    public init(cellCount: Int) {
        self.cellCount = cellCount
        cells = InlineArray(repeating: .zero)
    }

    public static func == (a: EstimatorSnapshot, b: EstimatorSnapshot) -> Bool {
        guard a.cellCount == b.cellCount else { return false }
        for i in 0..<16 where a.cells[i] != b.cells[i] { return false }
        return true
    }

    /// The record's bytes.
    public func encoded() -> InlineArray<456, UInt8> {
        var bytes = InlineArray<456, UInt8>(repeating: 0)
        var at = 0
        EstimatorSnapshot.put(0x46, 1, &bytes, &at)
        EstimatorSnapshot.put(0x53, 1, &bytes, &at)
        EstimatorSnapshot.put(UInt32(EstimatorSnapshot.version), 1, &bytes, &at)
        EstimatorSnapshot.put(UInt32(cellCount), 1, &bytes, &at)
        for i in 0..<16 {
            let c = cells[i]
            EstimatorSnapshot.put(c.soc.bitPattern, 4, &bytes, &at)
            EstimatorSnapshot.put(c.socSigma.bitPattern, 4, &bytes, &at)
            EstimatorSnapshot.put(c.offset.bitPattern, 4, &bytes, &at)
            EstimatorSnapshot.put(c.capacityAh.bitPattern, 4, &bytes, &at)
            EstimatorSnapshot.put(c.capacitySigma.bitPattern, 4, &bytes, &at)
            EstimatorSnapshot.put(c.r0.bitPattern, 4, &bytes, &at)
            EstimatorSnapshot.put(UInt32(c.capacitySamples), 2, &bytes, &at)
            EstimatorSnapshot.put(UInt32(c.r0Samples), 2, &bytes, &at)
        }
        let crc = EstimatorSnapshot.crc32(bytes.span.extracting(0..<at))
        EstimatorSnapshot.put(crc, 4, &bytes, &at)
        return bytes
    }

    /// Reads a record, checking its length, magic, version, checksum and every value.
    public init(bytes: Span<UInt8>) throws(EstimatorSnapshotError) {
        let size = EstimatorSnapshot.byteCount
        guard bytes.count == size else { throw .wrongLength(bytes.count) }
        guard bytes[0] == 0x46, bytes[1] == 0x53 else { throw .notASnapshot }
        guard bytes[2] == EstimatorSnapshot.version else { throw .unsupportedVersion(bytes[2]) }
        var at = size - 4
        let stored = EstimatorSnapshot.take(4, bytes, &at)
        guard stored == EstimatorSnapshot.crc32(bytes.extracting(0..<(size - 4))) else {
            throw .checksumMismatch
        }
        let count = Int(bytes[3])
        guard count >= 1 && count <= 16 else { throw .cellCount(bytes[3]) }
        self.init(cellCount: count)
        at = 4
        for i in 0..<16 {
            var values = InlineArray<6, Float>(repeating: 0)
            for k in 0..<6 { values[k] = Float(bitPattern: EstimatorSnapshot.take(4, bytes, &at)) }
            let capacitySamples = UInt16(EstimatorSnapshot.take(2, bytes, &at))
            let r0Samples = UInt16(EstimatorSnapshot.take(2, bytes, &at))
            let cell = Cell(soc: values[0], socSigma: values[1], offset: values[2], capacityAh: values[3],
                            capacitySigma: values[4], r0: values[5],
                            capacitySamples: capacitySamples, r0Samples: r0Samples)
            if i < count, let field = cell.firstInvalidField { throw .valueOutOfRange(cell: UInt8(i), field) }
            cells[i] = cell
        }
    }

    private static func put(_ value: UInt32, _ count: Int, _ bytes: inout InlineArray<456, UInt8>, _ at: inout Int) {
        for k in 0..<count { bytes[at + k] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(k))) }
        at += count
    }

    private static func take(_ count: Int, _ bytes: Span<UInt8>, _ at: inout Int) -> UInt32 {
        var value: UInt32 = 0
        for k in 0..<count { value |= UInt32(bytes[at + k]) << (8 * UInt32(k)) }
        at += count
        return value
    }

    /// CRC-32 (IEEE 802.3, reflected, as zlib computes it), bitwise: the record is written
    /// rarely, so no table is spent on it.
    static func crc32(_ bytes: Span<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for i in 0..<bytes.count {
            crc ^= UInt32(bytes[i])
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}

extension EstimatorSnapshot.Cell {
    /// The first value no estimator could have stored.
    var firstInvalidField: EstimatorSnapshotError.Field? {
        if !(soc >= 0 && soc <= 1) { return .soc }
        if !(socSigma > 0 && socSigma <= 1) { return .socSigma }
        if !(abs(offset) < 1e6) { return .offset }
        if !(capacityAh > 0 && capacityAh < 1e6) { return .capacity }
        if !(capacitySigma > 0 && capacitySigma <= 1) { return .capacitySigma }
        if !(r0 >= 0 && r0 < 1) { return .resistance }
        return nil
    }
}

/// Why a stored estimator record was not taken back.
public enum EstimatorSnapshotError: Error, Equatable, Sendable {
    public enum Field: UInt8, Sendable {
        case soc, socSigma, offset, capacity, capacitySigma, resistance
    }
    case wrongLength(Int)
    case notASnapshot
    case unsupportedVersion(UInt8)
    case checksumMismatch
    case cellCount(UInt8)
    case valueOutOfRange(cell: UInt8, Field)
    /// The record is of another pack: another cell count, or capacities far from the label.
    case doesNotFitPack
}
