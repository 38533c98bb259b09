/// Versioned, checksummed records in two flash pages used A/B: records are appended to the
/// page in use; when it is full the other page is erased and takes the next record, so the
/// newest good record always survives a power cut during a write or an erase. The newest is
/// the valid record with the highest sequence number.
///
/// Layout of a record (little-endian), padded to the flash's write unit:
///
///     0  magic "FBMS"   4  kind   5  format version   6  payload length (2)
///     8  sequence (4)   12 CRC-32 of bytes 0…11 and the payload (4)   16 payload
///
/// A header is written after its payload, so a torn write leaves a page whose free space
/// reads as used: nothing more is appended to that page, and the next save moves on.
public struct RecordStore<Flash: FlashMemory> {
    public var flash: Flash
    /// The pair of pages: `firstPage` and `firstPage + 1`.
    public let firstPage: Int
    public let kind: UInt8

    /// "FBMS" in flash byte order.
    static var magic: UInt32 { 0x534D_4246 }
    static var headerSize: Int { 16 }

    public init(flash: Flash, firstPage: Int, kind: UInt8) {
        self.flash = flash
        self.firstPage = firstPage
        self.kind = kind
    }

    /// Where a record was found.
    public struct Located: Equatable, Sendable {
        public var page: Int
        public var offset: Int
        public var length: Int
        public var version: UInt8
        public var sequence: UInt32
    }

    /// A page's records: the newest valid one, and where the next may go (`nil` when the page
    /// is full or damaged).
    struct PageScan {
        var newest: Located?
        var free: Int?
    }

    func scan(_ page: Int) -> PageScan {
        var result = PageScan()
        var offset = 0
        let size = flash.pageSize
        while offset + RecordStore.headerSize <= size {
            var header = InlineArray<16, UInt8>(repeating: 0)
            let ok: Bool = withUnsafeMutableBytes(of: &header) { raw in
                (try? flash.read(at: page * size + offset, into: raw)) != nil
            }
            guard ok else { return result }
            if isErased(header) {
                result.free = offset
                return result
            }
            let length = Int(header[6]) | Int(header[7]) << 8
            let total = padded(RecordStore.headerSize + length)
            guard word(header, 0) == RecordStore.magic, header[4] == kind, offset + total <= size,
                  crc(page: page, offset: offset, length: length, header: header) == word(header, 12) else {
                // Damaged: nothing after it is trusted, and nothing more is written here.
                return result
            }
            let found = Located(page: page, offset: offset, length: length, version: header[5], sequence: word(header, 8))
            if result.newest.map({ found.sequence > $0.sequence }) ?? true { result.newest = found }
            offset += total
        }
        return result
    }

    /// The newest valid record of the pair.
    public func newest() -> Located? {
        let a = scan(firstPage).newest, b = scan(firstPage + 1).newest
        switch (a, b) {
        case let (x?, y?): return x.sequence >= y.sequence ? x : y
        case let (x?, nil): return x
        case let (nil, y?): return y
        case (nil, nil): return nil
        }
    }

    /// Copies a found record's payload into `buffer` (at most its size); returns the count.
    public func read(_ record: Located, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let n = min(record.length, buffer.count)
        let target = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n])
        guard (try? flash.read(at: record.page * flash.pageSize + record.offset + RecordStore.headerSize,
                               into: target)) != nil else { return 0 }
        return n
    }

    /// Writes a new record with `payload`, version `version`; it becomes the newest.
    public mutating func save(_ payload: UnsafeRawBufferPointer, version: UInt8) throws(FlashError) {
        let total = padded(RecordStore.headerSize + payload.count)
        guard total <= flash.pageSize else { throw .outOfRange }
        let a = scan(firstPage), b = scan(firstPage + 1)
        let newestOnA: Bool
        switch (a.newest, b.newest) {
        case let (x?, y?): newestOnA = x.sequence >= y.sequence
        case (.some, nil): newestOnA = true
        default: newestOnA = false
        }
        let sequence = max(a.newest?.sequence ?? 0, b.newest?.sequence ?? 0) &+ 1
        var page = newestOnA ? firstPage : firstPage + 1
        var offset = (newestOnA ? a : b).free
        if offset.map({ $0 + total > flash.pageSize }) ?? true || (a.newest == nil && b.newest == nil && a.free != 0) {
            // Full or damaged (or nothing valid anywhere and page A not blank): start the other
            // page of the pair, erasing it first.
            page = a.newest == nil && b.newest == nil ? firstPage : (newestOnA ? firstPage + 1 : firstPage)
            try flash.erase(page: page)
            offset = 0
        }
        let at = page * flash.pageSize + offset!
        // Payload (padded with 0xFF) first, then the header that makes it valid.
        var chunk = InlineArray<16, UInt8>(repeating: 0xFF)
        var k = 0
        while k < total - RecordStore.headerSize {
            for j in 0..<16 { chunk[j] = k + j < payload.count ? payload[k + j] : 0xFF }
            let n = min(16, total - RecordStore.headerSize - k)
            try withUnsafeBytes(of: &chunk) { (p) throws(FlashError) in
                try flash.write(at: at + RecordStore.headerSize + k, UnsafeRawBufferPointer(rebasing: p[0..<n]))
            }
            k += n
        }
        var header = InlineArray<16, UInt8>(repeating: 0)
        put(&header, 0, RecordStore.magic)
        header[4] = kind
        header[5] = version
        header[6] = UInt8(truncatingIfNeeded: payload.count)
        header[7] = UInt8(truncatingIfNeeded: payload.count >> 8)
        put(&header, 8, sequence)
        var c = CRC32()
        for j in 0..<12 { c.add(header[j]) }
        for j in 0..<payload.count { c.add(payload[j]) }
        put(&header, 12, c.value)
        try withUnsafeBytes(of: &header) { (p) throws(FlashError) in
            try flash.write(at: at, p)
        }
    }

    func padded(_ n: Int) -> Int { (n + flash.writeUnit - 1) / flash.writeUnit * flash.writeUnit }

    func isErased(_ header: InlineArray<16, UInt8>) -> Bool {
        for k in 0..<16 where header[k] != 0xFF { return false }
        return true
    }

    func word(_ h: InlineArray<16, UInt8>, _ at: Int) -> UInt32 {
        UInt32(h[at]) | UInt32(h[at + 1]) << 8 | UInt32(h[at + 2]) << 16 | UInt32(h[at + 3]) << 24
    }

    func put(_ h: inout InlineArray<16, UInt8>, _ at: Int, _ v: UInt32) {
        for k in 0..<4 { h[at + k] = UInt8(truncatingIfNeeded: v >> UInt32(8 * k)) }
    }

    /// The CRC of a stored record: its first 12 header bytes and its payload, read back.
    func crc(page: Int, offset: Int, length: Int, header: InlineArray<16, UInt8>) -> UInt32 {
        var c = CRC32()
        for j in 0..<12 { c.add(header[j]) }
        var chunk = InlineArray<16, UInt8>(repeating: 0)
        var k = 0
        let base = page * flash.pageSize + offset + RecordStore.headerSize
        while k < length {
            let n = min(16, length - k)
            let ok: Bool = withUnsafeMutableBytes(of: &chunk) { p in
                (try? flash.read(at: base + k, into: UnsafeMutableRawBufferPointer(rebasing: p[0..<n]))) != nil
            }
            guard ok else { return ~c.value }
            for j in 0..<n { c.add(chunk[j]) }
            k += n
        }
        return c.value
    }
}

/// CRC-32 (IEEE 802.3, reflected, as zlib), bit by bit: no table in flash.
public struct CRC32: Sendable {
    var state: UInt32 = 0xFFFF_FFFF
    public init() {}
    public mutating func add(_ byte: UInt8) {
        state ^= UInt32(byte)
        for _ in 0..<8 { state = state & 1 != 0 ? (state >> 1) ^ 0xEDB8_8320 : state >> 1 }
    }
    public var value: UInt32 { ~state }
}
