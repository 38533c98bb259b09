/// ThingSet v0.6 messages: request functions, status codes, and the parsing of a request's
/// frame (function, endpoint, payload) in binary and in text mode. What the endpoint means
/// and what the payload holds is the object tree's business; this layer only finds them and
/// refuses what is malformed, with the status the spec assigns.

/// A request's function: its first byte in binary mode, its first character in text mode.
public enum ThingSetFunction: UInt8, Sendable {
    case get = 0x01, exec = 0x02, delete = 0x04, fetch = 0x05, create = 0x06, update = 0x07
    case desire = 0x1D, report = 0x1F

    /// The text-mode character (`?`, `!`, `-`, `?`, `+`, `=`, `@`, `#`); GET and FETCH share `?`.
    public var textCharacter: UInt8 {
        switch self {
        case .get, .fetch: UInt8(ascii: "?")
        case .exec: UInt8(ascii: "!")
        case .delete: UInt8(ascii: "-")
        case .create: UInt8(ascii: "+")
        case .update: UInt8(ascii: "=")
        case .desire: UInt8(ascii: "@")
        case .report: UInt8(ascii: "#")
        }
    }
}

/// Answer codes (spec §2.3): 0x80–0x9F success, 0xA0 and above errors.
public enum ThingSetStatus: UInt8, Error, Sendable {
    case created = 0x81, deleted = 0x82, changed = 0x84, content = 0x85
    case badRequest = 0xA0, unauthorized = 0xA1, forbidden = 0xA3, notFound = 0xA4
    case methodNotAllowed = 0xA5, requestIncomplete = 0xA8, conflict = 0xA9, requestTooLarge = 0xAD
    case unsupportedFormat = 0xAF
    case internalError = 0xC0, notImplemented = 0xC1, gatewayTimeout = 0xC4, notAGateway = 0xC5

    public var isSuccess: Bool { rawValue < 0xA0 }
}

/// Where a request points.
public enum ThingSetEndpoint: Equatable, Sendable {
    /// A relative path: the byte range of its UTF-8 text in the message ("" = the root).
    case path(Range<Int>)
    /// An object ID (binary mode).
    case id(UInt32)
    /// One record of a records object (binary mode: `[id, index]`).
    case record(id: UInt32, index: UInt32)
}

/// A request as found in a message: function, endpoint, and where its payload lies.
public struct ThingSetRequest: Equatable, Sendable {
    public var function: ThingSetFunction
    public var endpoint: ThingSetEndpoint
    /// The payload's bytes in the message (one CBOR item, or JSON text); `nil` when absent.
    public var payload: Range<Int>?

    /// Parses a binary request. Returns `nil` for a message that is not a request and must be
    /// dropped without an answer (an unknown first byte, a status, a report); throws the status
    /// to answer with for a malformed one.
    public static func parseBinary(_ message: UnsafeBufferPointer<UInt8>) throws(ThingSetStatus) -> ThingSetRequest? {
        guard let first = message.first else { return nil }
        if first == 0x1C { throw .notAGateway }  // forward envelope: only gateways unwrap it
        guard let function = ThingSetFunction(rawValue: first), function != .report else { return nil }
        var reader = CBORReader(UnsafeBufferPointer(rebasing: message[1...]))
        // A malformed or truncated endpoint is a bad request.
        func cbor<T>(_ body: (inout CBORReader) throws(CBORError) -> T) throws(ThingSetStatus) -> T {
            do { return try body(&reader) } catch { throw .badRequest }
        }
        let endpoint: ThingSetEndpoint
        switch try cbor({ r throws(CBORError) in try r.peekMajor() }) {
        case .text:
            let r = try cbor { r throws(CBORError) in try r.readTextRange() }
            if let k = r.first, reader.data[k] == UInt8(ascii: "/") { throw .notAGateway }
            endpoint = .path((r.lowerBound + 1)..<(r.upperBound + 1))
        case .unsigned:
            let id = try cbor { r throws(CBORError) in try r.readUInt() }
            guard id <= UInt64(UInt32.max) else { throw .notFound }
            endpoint = .id(UInt32(id))
        case .array:
            guard try cbor({ r throws(CBORError) in try r.readArrayHeader() }) == 2 else { throw .badRequest }
            let id = try cbor { r throws(CBORError) in try r.readUInt() }
            let index = try cbor { r throws(CBORError) in try r.readUInt() }
            guard id <= UInt64(UInt32.max), index <= UInt64(UInt32.max) else { throw .notFound }
            endpoint = .record(id: UInt32(id), index: UInt32(index))
        default:
            throw .badRequest
        }
        var payload: Range<Int>?
        if !reader.isAtEnd {
            let start = reader.position
            try cbor { r throws(CBORError) in try r.skip() }
            payload = (start + 1)..<(reader.position + 1)
            // Exactly one item: anything after it is an error (spec §4.2).
            guard reader.isAtEnd else { throw .badRequest }
        }
        try check(function, payload: payload)
        return ThingSetRequest(function: function, endpoint: endpoint, payload: payload)
    }

    /// Parses a text request (one line, without the line end and CRC). Returns `nil` for a line
    /// that is not a request (an answer, a report, debug text); throws the status to answer
    /// with for a malformed one.
    public static func parseText(_ line: UnsafeBufferPointer<UInt8>) throws(ThingSetStatus) -> ThingSetRequest? {
        guard let first = line.first else { return nil }
        var function: ThingSetFunction
        switch first {
        case UInt8(ascii: "?"): function = .get
        case UInt8(ascii: "!"): function = .exec
        case UInt8(ascii: "-"): function = .delete
        case UInt8(ascii: "+"): function = .create
        case UInt8(ascii: "="): function = .update
        case UInt8(ascii: "@"): function = .desire
        default: return nil  // `#` reports, `:` answers and anything else: not for us
        }
        // The path runs to the first space.
        var end = 1
        while end < line.count && line[end] != UInt8(ascii: " ") { end += 1 }
        if end > 1 && line[1] == UInt8(ascii: "/") { throw .notAGateway }
        for k in 1..<end {
            let c = line[k]
            let ok = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A)
                || c == UInt8(ascii: "_") || c == UInt8(ascii: "/") || c == UInt8(ascii: ".") || c == UInt8(ascii: "-")
            guard ok else { throw .badRequest }
        }
        var payload: Range<Int>?
        if end < line.count {
            let start = end + 1
            guard start < line.count else { throw .badRequest }  // a space and nothing after it
            payload = start..<line.count
        }
        if function == .get && payload != nil { function = .fetch }
        try check(function, payload: payload)
        return ThingSetRequest(function: function, endpoint: .path(1..<end), payload: payload)
    }

    /// Which functions need a payload, and which take none.
    private static func check(_ function: ThingSetFunction, payload: Range<Int>?) throws(ThingSetStatus) {
        switch function {
        case .get: if payload != nil { throw .badRequest }
        case .fetch, .update, .create, .desire: if payload == nil { throw .badRequest }
        case .exec, .delete, .report: break  // EXEC without parameters; DELETE of a whole entry
        }
    }
}

/// Where a request ends in a byte stream without framing (TCP, spec §10.1).
public enum ThingSetFrame: Equatable, Sendable {
    /// A whole request of this many bytes is at the start.
    case complete(Int)
    /// More bytes are needed.
    case incomplete
    /// The bytes start like a request but break its structure: answer `badRequest`, drop them.
    case malformed
    /// The first byte starts no request: drop the bytes without an answer.
    case notARequest
}

extension ThingSetRequest {
    /// Finds the end of the first request in `data`: the function byte, the endpoint item and,
    /// except for GET, one payload item; a forward envelope (`1C`) with its inner request.
    public static func binaryFrame(_ data: UnsafeBufferPointer<UInt8>) -> ThingSetFrame {
        guard let first = data.first else { return .incomplete }
        var reader = CBORReader(UnsafeBufferPointer(rebasing: data[1...]))
        func item() -> ThingSetFrame? {
            do {
                try reader.skip()
                return nil
            } catch {
                if case .truncated = error { return .incomplete }
                return .malformed
            }
        }
        if first == 0x1C {
            if let problem = item() { return problem }
            let inner = binaryFrame(UnsafeBufferPointer(rebasing: data[(1 + reader.position)...]))
            if case .complete(let n) = inner { return .complete(1 + reader.position + n) }
            return inner
        }
        guard let function = ThingSetFunction(rawValue: first), function != .report else { return .notARequest }
        if let problem = item() { return problem }
        if function != .get, let problem = item() { return problem }
        return .complete(1 + reader.position)
    }
}
