import Foundation
import Glibc
import ThingSet

/// A connection to a device for the host commands, in the mode its transport uses: binary
/// over TCP (`tcp://HOST:PORT`), text over a serial line (`serial:///dev/ttyUSB0`, or the
/// virtual device's pseudo-terminal). Values come back as JSON text either way.
/// A transport that carries one binary request and returns its answer.
public protocol BinaryTransport: AnyObject {
    func request(_ bytes: [UInt8]) throws -> (status: UInt8, payload: [UInt8])
}

extension ThingSetClient: BinaryTransport {
    public func request(_ bytes: [UInt8]) throws -> (status: UInt8, payload: [UInt8]) { try request(bytes, whileWaiting: nil) }
}

extension SLCANClient: BinaryTransport {}

public enum DeviceLink {
    /// Binary mode: TCP, or CAN through an slcan adapter.
    case tcp(any BinaryTransport)
    case serial(SerialLineClient)

    public static func open(_ device: String) throws -> DeviceLink {
        if device.hasPrefix("serial://") { return .serial(try SerialLineClient(path: String(device.dropFirst(9)))) }
        if device.hasPrefix("slcan://") { return .tcp(try SLCANClient(path: String(device.dropFirst(8)))) }
        guard device.hasPrefix("tcp://") else {
            throw ThingSetClient.Failure.device(device)
        }
        return .tcp(try ThingSetClient(device: device))
    }

    /// GET: status and the value as JSON. A group whose answer does not fit the device's
    /// buffer (`C0`, spec §1.7: a small MCU's, or ISO-TP's on CAN) is read child by child,
    /// as the spec asks the client to walk down.
    public func get(_ path: String) throws -> (UInt8, String) {
        switch self {
        case .tcp(let c):
            let (status, payload) = try c.request(DeviceLink.cbor { w in
                try w.byte(ThingSetFunction.get.rawValue)
                try Array(path.utf8).withUnsafeBufferPointer { try w.text($0) }
            })
            if status == 0xC0, let whole = try walkDown(c, path) { return (0x85, whole) }
            return (status, try CBORJSON.text(payload))
        case .serial(let s):
            return try s.request("?" + path)
        }
    }

    /// UPDATE of one item: `value` is JSON text. Returns the status and the device's reason
    /// when it refused (JSON, `null` or empty when none).
    public func update(parent: String, name: String, value: String) throws -> (UInt8, String) {
        switch self {
        case .tcp(let c):
            let (status, payload) = try c.request(try DeviceLink.cbor { w in
                try w.byte(ThingSetFunction.update.rawValue)
                try Array(parent.utf8).withUnsafeBufferPointer { try w.text($0) }
                try w.mapHeader(1)
                try Array(name.utf8).withUnsafeBufferPointer { try w.text($0) }
                try JSONCBOR.encode(value, into: &w)
            })
            return (status, try CBORJSON.text(payload))
        case .serial(let s):
            return try s.request("=\(parent) {\(CBORJSON.quoted(name)):\(try JSONCBOR.normalised(value))}")
        }
    }

    /// EXEC: `arguments` are JSON texts; the result as JSON (`null` for none).
    public func exec(_ path: String, _ arguments: [String]) throws -> (UInt8, String) {
        switch self {
        case .tcp(let c):
            let (status, payload) = try c.request(try DeviceLink.cbor { w in
                try w.byte(ThingSetFunction.exec.rawValue)
                try Array(path.utf8).withUnsafeBufferPointer { try w.text($0) }
                try w.arrayHeader(arguments.count)
                for a in arguments { try JSONCBOR.encode(a, into: &w) }
            })
            return (status, try CBORJSON.text(payload))
        case .serial(let s):
            let args = try arguments.map { try JSONCBOR.normalised($0) }.joined(separator: ",")
            let (status, json) = try s.request("!\(path) [\(args)]")
            return (status, json.isEmpty ? "null" : json)
        }
    }

    /// The group at `path` read one child at a time, as one JSON object; nil when `path` has
    /// no children to walk (a single value too large stays `C0`).
    func walkDown(_ c: any BinaryTransport, _ path: String) throws -> String? {
        let (status, payload) = try c.request(DeviceLink.cbor { w in
            try w.byte(ThingSetFunction.fetch.rawValue)
            try Array(path.utf8).withUnsafeBufferPointer { try w.text($0) }
            try w.null()
        })
        guard status == 0x85,
              case .array(let items)? = try? JSONDecoder().decode(JSONValue.self, from: Data(try CBORJSON.text(payload).utf8)) else {
            return nil
        }
        var names: [String] = []
        for item in items {
            guard case .string(let name) = item else { return nil }
            names.append(name)
        }
        guard !names.isEmpty else { return nil }
        var parts: [String] = []
        for name in names {
            let (s, value) = try get(path.isEmpty ? name : path + "/" + name)
            parts.append(CBORJSON.quoted(name) + ":" + (s == 0x85 ? value : "null"))
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    static func cbor(_ body: (inout CBORWriter) throws -> Void) rethrows -> [UInt8] {
        var storage = [UInt8](repeating: 0, count: 4096)
        return try storage.withUnsafeMutableBufferPointer { buffer in
            var w = CBORWriter(buffer)
            try body(&w)
            return Array(buffer[0..<w.count])
        }
    }
}

/// ThingSet text mode on a serial line (spec §9): plain lines with a CRC, answers checked.
public final class SerialLineClient {
    let fd: Int32
    var pending: [UInt8] = []
    public static let timeout: TimeInterval = 2

    public init(path: String) throws {
        fd = try openRawTTY(path, baud: speed_t(B115200))
    }

    deinit { close(fd) }

    /// Sends `message` with its CRC and returns the answer's status and JSON (empty if none).
    public func request(_ message: String) throws -> (UInt8, String) {
        let bytes = Array(message.utf8)
        let crc = bytes.withUnsafeBufferPointer { ThingSetCRC.crc32($0) }
        let line = bytes + Array(String(format: " %08X#\n", crc).utf8)
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let deadline = Date().addingTimeInterval(SerialLineClient.timeout)
        while true {
            while let lf = pending.firstIndex(of: 0x0A) {
                var text = Array(pending[0..<lf])
                pending.removeFirst(lf + 1)
                if text.last == 0x0D { text.removeLast() }
                // Reports (#) and anything else are not the answer.
                guard text.first == UInt8(ascii: ":"), text.count >= 3 else { continue }
                return try SerialLineClient.parse(text)
            }
            let wait = deadline.timeIntervalSinceNow
            guard wait > 0 else { throw ThingSetClient.Failure.timeout }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(wait * 1000)) > 0 else { throw ThingSetClient.Failure.timeout }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = read(fd, &chunk, chunk.count)
            if n > 0 { pending += chunk[0..<n] }
        }
    }

    /// `:85 <json> XXXXXXXX#` → status and JSON, the CRC checked when present.
    static func parse(_ line: [UInt8]) throws -> (UInt8, String) {
        var text = line
        if text.count >= 10, text.last == UInt8(ascii: "#"), text[text.count - 10] == UInt8(ascii: " ") {
            let body = Array(text[0..<(text.count - 10)])
            let given = UInt32(String(decoding: text[(text.count - 9)..<(text.count - 1)], as: UTF8.self), radix: 16)
            guard given == body.withUnsafeBufferPointer({ ThingSetCRC.crc32($0) }) else {
                throw ThingSetClient.Failure.answer("the answer's CRC does not match")
            }
            text = body
        }
        guard let status = UInt8(String(decoding: text[1..<3], as: UTF8.self), radix: 16) else {
            throw ThingSetClient.Failure.answer("no status in \(String(decoding: text, as: UTF8.self))")
        }
        let json = text.count > 4 ? String(decoding: text[4...], as: UTF8.self) : ""
        return (status, json)
    }
}

extension JSONCBOR {
    /// A value typed on a command line as compact JSON (a bare word becomes a string).
    public static func normalised(_ text: String) throws -> String {
        if (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil {
            return text.filter { $0 != "\n" }
        }
        guard !text.isEmpty, text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
            throw Failure.notAValue(text)
        }
        return CBORJSON.quoted(text)
    }
}

/// Opens a serial device (or a pseudo-terminal) non-blocking in raw mode, at `baud` if given.
func openRawTTY(_ path: String, baud: speed_t? = nil) throws -> Int32 {
    let fd = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK)
    guard fd >= 0 else { throw ThingSetClient.Failure.connect("\(path): " + String(cString: strerror(errno))) }
    var t = termios()
    if tcgetattr(fd, &t) == 0 {
        cfmakeraw(&t)
        if let baud {
            cfsetispeed(&t, baud)
            cfsetospeed(&t, baud)
        }
        tcsetattr(fd, TCSANOW, &t)
    }
    return fd
}
