import Firmware

/// Flash in RAM with NOR semantics, for the host (virtual device, tests) — and a fault hook
/// that stops a write part way, as a power cut does.
public struct RAMFlash: FlashMemory, Sendable {
    public let pageSize: Int
    public let pageCount: Int
    public let writeUnit: Int
    public var bytes: [UInt8]
    /// When set, the write that would pass this many more bytes stops there (power cut).
    public var cutAfterBytes: Int?

    public init(pageSize: Int = 2048, pageCount: Int = 4, writeUnit: Int = 8) {
        self.pageSize = pageSize
        self.pageCount = pageCount
        self.writeUnit = writeUnit
        bytes = [UInt8](repeating: 0xFF, count: pageSize * pageCount)
    }

    public func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(FlashError) {
        guard offset >= 0, offset + buffer.count <= bytes.count else { throw .outOfRange }
        for k in 0..<buffer.count { buffer[k] = bytes[offset + k] }
    }

    public mutating func write(at offset: Int, _ data: UnsafeRawBufferPointer) throws(FlashError) {
        guard offset >= 0, offset + data.count <= bytes.count, offset % writeUnit == 0,
              data.count % writeUnit == 0 else { throw .outOfRange }
        for k in 0..<data.count {
            if let cut = cutAfterBytes {
                if cut == 0 { throw .failed }
                cutAfterBytes = cut - 1
            }
            bytes[offset + k] &= data[k]
        }
    }

    public mutating func erase(page: Int) throws(FlashError) {
        guard page >= 0, page < pageCount else { throw .outOfRange }
        for k in 0..<pageSize { bytes[page * pageSize + k] = 0xFF }
    }
}
