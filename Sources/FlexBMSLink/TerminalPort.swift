import Foundation
import Glibc
import ThingSet

/// The virtual device's side of a serial line: a pseudo-terminal that a client opens at `path`
/// like a USB serial adapter (python-thingset's `ThingSetSerial`, a terminal program, the
/// `pylontech` client), or a real serial device. Line-oriented: each line goes to the device's
/// console (ThingSet text mode, spec §9) or to its RS485 responder, the answer goes back.
public final class TerminalPort {
    let master: Int32
    /// The device path clients open, e.g. /dev/pts/3.
    public let path: String
    var buffer: [UInt8] = []
    /// A line longer than this is dropped whole (spec §9.1).
    public static let maximumLine = 512

    public enum Failure: Error, CustomStringConvertible {
        case open(String)
        public var description: String {
            switch self {
            case .open(let why): "cannot open the serial line: \(why)"
            }
        }
    }

    public init() throws {
        // /dev/ptmx, then unlock the slave and ask its number (Linux ioctls TIOCSPTLCK and
        // TIOCGPTN; posix_openpt and friends are not in Swift's Glibc module).
        let fd = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        guard fd >= 0 else { throw Failure.open("/dev/ptmx: " + String(cString: strerror(errno))) }
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard ioctl(fd, 0x4004_5431, &unlock) == 0, ioctl(fd, 0x8004_5430, &number) == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw Failure.open(why)
        }
        let name = "/dev/pts/\(number)"
        // Raw on our side too: no echo, no line editing, no CR/LF translation.
        var t = termios()
        tcgetattr(fd, &t)
        cfmakeraw(&t)
        tcsetattr(fd, TCSANOW, &t)
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        master = fd
        path = name
    }

    /// A real serial device (an RS485 adapter, say), raw, at `baud`.
    public init(device: String, baud: speed_t) throws {
        do {
            master = try openRawTTY(device, baud: baud)
        } catch ThingSetClient.Failure.connect(let why) {
            throw Failure.open(why)
        }
        path = device
    }

    deinit { close(master) }

    /// The bytes that have arrived, as they came (for a device that reads its serial line byte
    /// by byte, as the firmware does its UART).
    public func readAvailable() -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 1024)
        var bytes: [UInt8] = []
        while true {
            let n = read(master, &chunk, chunk.count)
            guard n > 0 else { break }  // EAGAIN, or no client (EIO)
            bytes += chunk[0..<n]
        }
        return bytes
    }

    /// Writes raw bytes to the client.
    public func write(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.write(master, $0.baseAddress, $0.count) }
    }

    /// Writes a text report of `subset` with its CRC (spec §9.4).
    public func publish<Model: ThingSetModel>(_ model: Model, subset: UInt16) {
        let node = ThingSetNode(model: model)
        var out = [UInt8](repeating: 0, count: 2048)
        let n = out.withUnsafeMutableBufferPointer { node.report(subset, text: true, into: $0) }
        guard n > 0 else { return }
        let crc = out[0..<n].withUnsafeBufferPointer { ThingSetCRC.crc32($0) }
        let line = Array(out[0..<n]) + Array(String(format: " %08X#\r\n", crc).utf8)
        write(line)
    }

    /// Reads what arrived and calls `handle` with every complete line (without its LF); writes
    /// what it returns, if anything, as a CR LF terminated line.
    public func serveLines(separator: UInt8 = 0x0A, _ handle: (inout [UInt8]) -> [UInt8]) {
        var chunk = [UInt8](repeating: 0, count: 1024)
        while true {
            let n = read(master, &chunk, chunk.count)
            guard n > 0 else { break }  // EAGAIN, or no client (EIO)
            buffer += chunk[0..<n]
        }
        while let lf = buffer.firstIndex(of: separator) {
            var line = Array(buffer[0..<lf])
            buffer.removeFirst(lf + 1)
            guard line.count <= TerminalPort.maximumLine else { continue }
            if separator == 0x0A, line.last == 0x0D { line.removeLast() }
            let answer = handle(&line)
            guard !answer.isEmpty else { continue }
            // Text lines end with CR LF; other protocols (slcan) bring their own ends.
            write(separator == 0x0A ? answer + [0x0D, 0x0A] : answer)
        }
        if buffer.count > TerminalPort.maximumLine { buffer = [] }
    }
}
