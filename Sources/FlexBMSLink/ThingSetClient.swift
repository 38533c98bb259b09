import Foundation
import Glibc
import ThingSet

/// A ThingSet client over TCP in binary mode (spec §10.1), for `flexbms get/set/exec/schema`.
public final class ThingSetClient {
    let fd: Int32
    public static let timeout: TimeInterval = 2

    public enum Failure: Error, CustomStringConvertible {
        case device(String)
        case connect(String)
        case timeout
        case closed
        case answer(String)

        public var description: String {
            switch self {
            case .device(let d): "--device must be tcp://HOST:PORT, serial:///dev/ttyX or slcan:///dev/ttyX, got \(d)"
            case .connect(let why): "cannot connect: \(why)"
            case .timeout: "no answer within \(Int(ThingSetClient.timeout)) s"
            case .closed: "the device closed the connection"
            case .answer(let why): "cannot read the answer: \(why)"
            }
        }
    }

    /// Connects to `tcp://HOST:PORT`.
    public init(device: String) throws {
        guard device.hasPrefix("tcp://") else { throw Failure.device(device) }
        let parts = device.dropFirst(6).split(separator: ":")
        guard parts.count == 2, let port = UInt16(parts[1]) else { throw Failure.device(device) }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure.connect(String(cString: strerror(errno))) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        var host = String(parts[0])
        if host == "localhost" { host = "127.0.0.1" }
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(fd)
            throw Failure.device(device)
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw Failure.connect("\(host):\(port): \(why)")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Sends a request and returns the status and the payload bytes (after the node ID).
    /// `whileWaiting`, if given, runs between short waits (a server in the same thread).
    public func request(_ bytes: [UInt8], whileWaiting: (() -> Void)? = nil) throws -> (status: UInt8, payload: [UInt8]) {
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var buffer: [UInt8] = []
        let deadline = Date().addingTimeInterval(ThingSetClient.timeout)
        while true {
            if let answer = ThingSetClient.split(buffer) { return answer }
            let wait = deadline.timeIntervalSinceNow
            guard wait > 0 else { throw Failure.timeout }
            whileWaiting?()
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, whileWaiting == nil ? Int32(wait * 1000) : 0)
            if ready == 0 && whileWaiting != nil { continue }
            guard ready > 0 else { throw Failure.timeout }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &chunk, chunk.count, 0)
            guard n > 0 else { throw Failure.closed }
            buffer += chunk[0..<n]
        }
    }

    /// A complete answer at the start of `buffer`: status, `F6`, one CBOR item.
    static func split(_ buffer: [UInt8]) -> (status: UInt8, payload: [UInt8])? {
        guard buffer.count >= 3 else { return nil }
        let rest = Array(buffer[2...])
        let complete = rest.withUnsafeBufferPointer { p -> Bool in
            var r = CBORReader(p)
            return (try? r.skip()) != nil
        }
        return complete ? (buffer[0], rest) : nil
    }
}

/// CBOR to compact JSON text, for printing answers (floats with up to 7 significant digits).
public enum CBORJSON {
    public static func text(_ bytes: [UInt8]) throws -> String {
        try bytes.withUnsafeBufferPointer { p in
            var r = CBORReader(p)
            return try item(&r, depth: 0)
        }
    }

    static func item(_ r: inout CBORReader, depth: Int) throws -> String {
        guard depth < 16 else { throw CBORError.tooDeep(at: r.position) }
        let first = try r.peekByte()
        switch try r.peekMajor() {
        case .unsigned, .negative: return String(try r.readInt())
        case .text:
            let range = try r.readTextRange()
            return quoted(String(decoding: UnsafeBufferPointer(rebasing: r.data[range]), as: UTF8.self))
        case .array:
            let n = try r.readArrayHeader()
            var items: [String] = []
            while n.map({ items.count < $0 }) ?? !r.readBreak() { items.append(try item(&r, depth: depth + 1)) }
            return "[" + items.joined(separator: ",") + "]"
        case .map:
            let n = try r.readMapHeader()
            var pairs: [String] = []
            while n.map({ pairs.count < $0 }) ?? !r.readBreak() {
                var key = try item(&r, depth: depth + 1)
                if !key.hasPrefix("\"") { key = "\"\(key)\"" }
                pairs.append(key + ":" + (try item(&r, depth: depth + 1)))
            }
            return "{" + pairs.joined(separator: ",") + "}"
        case .simple:
            switch first {
            case 0xF4: r.position += 1; return "false"
            case 0xF5: r.position += 1; return "true"
            case 0xF6, 0xF7: r.position += 1; return "null"
            default:
                let x = try r.readFloat()
                guard x.isFinite else { return "null" }
                return number(x)
            }
        case .bytes, .tag:
            try r.skip()
            return "null"
        }
    }

    /// A float with at most 7 significant digits and no trailing zeros.
    public static func number(_ x: Float) -> String {
        if x == x.rounded() && abs(x) < 1e7 { return String(Int(x)) }
        var s = String(format: "%.7g", Double(x))
        if s.contains("e") { return s }
        while s.contains(".") && s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }

    public static func quoted(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }
}

/// JSON values typed on a command line, as CBOR for a request.
public enum JSONCBOR {
    public enum Failure: Error, CustomStringConvertible {
        case notAValue(String)
        public var description: String {
            switch self {
            case .notAValue(let s): "not a JSON value: \(s) (numbers, true, false, \"strings\" and arrays of them)"
            }
        }
    }

    /// Encodes one JSON value (number, bool, null, string, array of these) written as text.
    public static func encode(_ text: String, into w: inout CBORWriter) throws {
        let data = Data(text.utf8)
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            // A bare word is taken as a string (e.g. a token or a chemistry name).
            guard !text.isEmpty, text.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw Failure.notAValue(text)
            }
            try encode(.string(text), into: &w)
            return
        }
        try encode(value, into: &w)
    }

    static func encode(_ value: JSONValue, into w: inout CBORWriter) throws {
        switch value {
        case .null: try w.null()
        case .bool(let b): try w.bool(b)
        case .number(let d):
            if d == d.rounded() && abs(d) < 9e15 { try w.int(Int64(d)) } else { try w.float(Float(d)) }
        case .string(let s):
            try Array(s.utf8).withUnsafeBufferPointer { try w.text($0) }
        case .array(let items):
            try w.arrayHeader(items.count)
            for i in items { try encode(i, into: &w) }
        case .object:
            throw Failure.notAValue("an object")
        }
    }
}
