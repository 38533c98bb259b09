import Foundation
import Glibc
import ThingSet

/// The slcan (Lawicel) ASCII protocol of serial-line CAN adapters: `T` + 8 hex digits of a
/// 29-bit identifier (or `t` + 3 of an 11-bit one) + the length digit + the data in hex + CR.
/// Classic frames only (8 bytes).
public enum SLCAN {
    public static func encode(_ frame: CANFrame) -> [UInt8] {
        let head = frame.extended ? "T" + String(format: "%08X", frame.id) : "t" + String(format: "%03X", frame.id & 0x7FF)
        var s = head + String(min(frame.count, 8))
        for k in 0..<min(frame.count, 8) { s += String(format: "%02X", frame.data[k]) }
        return Array((s + "\r").utf8)
    }

    /// A `T…` or `t…` line (without the CR) as a frame, or `nil` if it is not one.
    public static func decode(_ line: [UInt8]) -> CANFrame? {
        guard let first = line.first, first == UInt8(ascii: "T") || first == UInt8(ascii: "t") else { return nil }
        let extended = first == UInt8(ascii: "T")
        let digits = extended ? 8 : 3
        let chars = Array(String(decoding: line, as: UTF8.self))
        guard chars.count >= digits + 2, let id = UInt32(String(chars[1...digits]), radix: 16),
              id <= (extended ? 0x1FFF_FFFF : 0x7FF),
              let length = Int(String(chars[digits + 1])), length <= 8, chars.count >= digits + 2 + 2 * length else { return nil }
        var frame = CANFrame(id: id)
        frame.extended = extended
        for k in 0..<length {
            let at = digits + 2 + 2 * k
            guard let b = UInt8(String(chars[at..<(at + 2)]), radix: 16) else { return nil }
            frame.append(b)
        }
        return frame
    }
}

/// The virtual device's CAN bus as seen through an slcan adapter on a pseudo-terminal: the host
/// opens the adapter (`S6`, `O`), its frames go to the device's CAN node, the node's frames come
/// back while the adapter is open.
public final class SLCANPort {
    let pty: TerminalPort
    public var path: String { pty.path }
    public private(set) var open = false

    public init() throws {
        pty = try TerminalPort()
    }

    /// Frames received from the host since the last call.
    public func receive() -> [CANFrame] {
        var frames: [CANFrame] = []
        pty.serveLines(separator: 0x0D) { line in
            guard let first = line.first else { return [] }
            switch first {
            case UInt8(ascii: "O"): open = true; return [0x0D]
            case UInt8(ascii: "C"): open = false; return [0x0D]
            case UInt8(ascii: "S"), UInt8(ascii: "V"), UInt8(ascii: "N"): return [0x0D]
            case UInt8(ascii: "T"), UInt8(ascii: "t"):
                guard open, let f = SLCAN.decode(line) else { return [0x07] }
                frames.append(f)
                return Array((f.extended ? "Z\r" : "z\r").utf8)
            default: return [0x07]
            }
        }
        return frames
    }

    /// Puts a frame of the device on the bus (to the host, when the adapter is open).
    public func send(_ frame: CANFrame) {
        guard open else { return }
        pty.write(SLCAN.encode(frame))
    }
}

/// A ThingSet client through an slcan adapter: finds the BMS by a bus scan and talks ISO-TP
/// (classic frames) from address 0x00, as a gateway would.
public final class SLCANClient {
    let fd: Int32
    var pending: [UInt8] = []
    public private(set) var target: UInt8 = 0
    public static let timeout: TimeInterval = 2

    public init(path: String) throws {
        fd = try openRawTTY(path)
        write(Array("C\rS6\rO\r".utf8))
        // A bus scan: every node answers with its claim.
        write(SLCAN.encode(CANFrame(id: ThingSetCANID.networkManagement(variable: 0x3C, target: 0xFF, source: 0xFE).raw)))
        let deadline = Date().addingTimeInterval(SLCANClient.timeout)
        while Date() < deadline {
            if let f = try frame(until: deadline), case .networkManagement(_, 0xFF, let source)? = ThingSetCANID(raw: f.id),
               source <= 0xFD {
                target = source
                return
            }
        }
        throw ThingSetClient.Failure.connect("\(path): no ThingSet node answered the bus scan")
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) { _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } }

    /// The next frame from the adapter, or `nil` at the deadline.
    func frame(until deadline: Date) throws -> CANFrame? {
        while true {
            while let cr = pending.firstIndex(of: 0x0D) {
                let line = Array(pending[0..<cr])
                pending.removeFirst(cr + 1)
                if let f = SLCAN.decode(line), f.extended { return f }
            }
            let wait = deadline.timeIntervalSinceNow
            guard wait > 0 else { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(wait * 1000)) > 0 else { return nil }
            var chunk = [UInt8](repeating: 0, count: 1024)
            let n = read(fd, &chunk, chunk.count)
            if n > 0 { pending += chunk[0..<n].filter { $0 != 0x07 } }
        }
    }

    /// One binary request, segmented with ISO-TP; returns the status and the payload after `F6`.
    public func request(_ message: [UInt8]) throws -> (status: UInt8, payload: [UInt8]) {
        let out = ThingSetCANID.requestResponse(targetBus: 0, sourceBus: 0, target: target, source: 0).raw
        let deadline = Date().addingTimeInterval(SLCANClient.timeout)
        var sender = ISOTPSender(fd: false)
        try message.withUnsafeBufferPointer { m in
            guard let first = sender.next(m, id: out) else { return }
            write(SLCAN.encode(first))
            guard !sender.finished(m.count) else { return }
            // Wait for the node's flow control, then the rest.
            while true {
                guard let f = try frame(until: deadline) else { throw ThingSetClient.Failure.timeout }
                if f.count >= 1, f.data[0] == 0x30 { break }
                if f.count >= 1, f.data[0] == 0x32 { throw ThingSetClient.Failure.answer("the node refused the request (overflow)") }
            }
            while let f = sender.next(m, id: out) { write(SLCAN.encode(f)) }
        }
        var receiver = ISOTPReceiver()
        while true {
            guard let f = try frame(until: deadline) else { throw ThingSetClient.Failure.timeout }
            guard case .requestResponse(_, _, 0, target)? = ThingSetCANID(raw: f.id) else { continue }
            switch receiver.take(f) {
            case .flowControl:
                var fc = CANFrame(id: out)
                for b in [0x30, 0x00, 0x00] as [UInt8] { fc.append(b) }
                write(SLCAN.encode(fc))
            case .complete:
                let bytes = (0..<receiver.expected).map { receiver.message[$0] }
                guard bytes.count >= 2 else { throw ThingSetClient.Failure.answer("a short answer") }
                return (bytes[0], bytes.count > 2 ? Array(bytes[2...]) : [0xF6])
            case .pending:
                continue
            case .dropped:
                throw ThingSetClient.Failure.answer("a broken answer")
            }
        }
    }
}

/// A CAN bus the virtual device sends frames to and takes frames from, between its steps.
public protocol CANPort: AnyObject {
    /// Frames that arrived since the last call.
    func receive() -> [CANFrame]
    /// Puts a frame on the bus.
    func send(_ frame: CANFrame)
}

extension SLCANPort: CANPort {}

/// A real serial-line CAN adapter (slcan, e.g. a USB CANable or a CANdapter) driven by the
/// virtual device as its host: opened at 500 kbit/s (`S6`), frames out as `t`/`T` lines,
/// frames in as they arrive. This is how the virtual battery talks to a real inverter.
public final class SLCANHostPort: CANPort {
    let port: TerminalPort
    public var path: String { port.path }

    public init(path: String, bitrateCode: Character = "6") throws {
        // A USB adapter ignores the serial bit rate; a UART one usually runs at 115200.
        port = try TerminalPort(device: path, baud: speed_t(B115200))
        port.write(Array("C\rS\(bitrateCode)\rO\r".utf8))
    }

    deinit { port.write(Array("C\r".utf8)) }

    public func receive() -> [CANFrame] {
        var frames: [CANFrame] = []
        port.serveLines(separator: 0x0D) { line in
            // Acknowledgements (an empty line, z, Z) carry no frame; an error is a BEL
            // without a CR, so it leads the next line.
            if let f = SLCAN.decode(Array(line.drop { $0 == 0x07 })) { frames.append(f) }
            return []
        }
        return frames
    }

    public func send(_ frame: CANFrame) { port.write(SLCAN.encode(frame)) }
}
