import Firmware
import Foundation

/// The device's settings flash kept in a host file: NOR flash in RAM (`RAMFlash`), written
/// through to the file at every write and erase, so a virtual device keeps its settings and
/// state across restarts as the board keeps them across power cycles.
public struct FileFlash: FlashMemory {
    public var memory: RAMFlash
    public let path: String

    public enum Failure: Error, CustomStringConvertible {
        case wrongSize(path: String, bytes: Int, expected: Int)
        case unwritable(path: String, why: String)

        public var description: String {
            switch self {
            case .wrongSize(let path, let bytes, let expected):
                "\(path) holds \(bytes) bytes, not the \(expected) of the device's flash pages; it is left as it is"
            case .unwritable(let path, let why): "cannot write \(path): \(why)"
            }
        }
    }

    /// Opens `path`, or starts an erased flash there if it does not exist.
    public init(path: String, memory: RAMFlash = RAMFlash()) throws {
        self.path = path
        self.memory = memory
        let expected = memory.pageSize * memory.pageCount
        if let data = FileManager.default.contents(atPath: path) {
            // A file of another size is not this device's flash: refuse rather than overwrite.
            guard data.count == expected else { throw Failure.wrongSize(path: path, bytes: data.count, expected: expected) }
            self.memory.bytes = [UInt8](data)
        } else {
            try persist()
        }
    }

    public var pageSize: Int { memory.pageSize }
    public var pageCount: Int { memory.pageCount }
    public var writeUnit: Int { memory.writeUnit }

    public func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(FlashError) {
        try memory.read(at: offset, into: buffer)
    }

    public mutating func write(at offset: Int, _ bytes: UnsafeRawBufferPointer) throws(FlashError) {
        try memory.write(at: offset, bytes)
        do { try persist() } catch { throw .failed }
    }

    public mutating func erase(page: Int) throws(FlashError) {
        try memory.erase(page: page)
        do { try persist() } catch { throw .failed }
    }

    func persist() throws {
        do {
            try Data(memory.bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw Failure.unwritable(path: path, why: error.localizedDescription)
        }
    }
}
