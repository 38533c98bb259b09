/// The ThingSet data model (spec §1): objects with an ID, a parent, a name, a kind and an
/// access byte, and the model protocol through which a node reads, updates and executes them.

/// The value type of an item or parameter (spec §1.5), with the decimals text mode prints.
public enum ThingSetType: Sendable, Equatable {
    case bool, u8, u16, u32, i32
    case f32(decimals: UInt8)
    case string
    /// An array of float32 of fixed length.
    case f32Array(count: UInt8, decimals: UInt8)

    /// The type name `_Metadata` reports.
    public var name: StaticString {
        switch self {
        case .bool: "bool"
        case .u8: "u8"
        case .u16: "u16"
        case .u32: "u32"
        case .i32: "i32"
        case .f32: "f32"
        case .string: "string"
        case .f32Array: "f32[]"
        }
    }
}

/// An object's name, in up to three static parts written one after the other (so that names
/// built from a pattern, `s` + `ShortCircuit` + `RecoveryDelay_s`, need no storage).
public struct ThingSetName: Sendable, ExpressibleByStringLiteral {
    public let parts: (StaticString, StaticString, StaticString)

    public init(_ a: StaticString, _ b: StaticString = "", _ c: StaticString = "") {
        parts = (a, b, c)
    }

    public init(stringLiteral value: StaticString) {
        self.init(value)
    }

    public var count: Int { parts.0.utf8CodeUnitCount + parts.1.utf8CodeUnitCount + parts.2.utf8CodeUnitCount }

    /// The byte at `k` (0 ≤ k < count).
    public func byte(at k: Int) -> UInt8 {
        let a = parts.0.utf8CodeUnitCount, b = parts.1.utf8CodeUnitCount
        if k < a { return parts.0.utf8Start[k] }
        if k < a + b { return parts.1.utf8Start[k - a] }
        return parts.2.utf8Start[k - a - b]
    }

    /// Whether the name is spelt `bytes`.
    public func equals(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count == count else { return false }
        for k in 0..<count where byte(at: k) != bytes[k] { return false }
        return true
    }

    /// Copies the name into `buffer` from `offset`; returns the new offset.
    public func copy(into buffer: inout InlineArray<64, UInt8>, at offset: Int) -> Int {
        var n = offset
        for k in 0..<count where n < 64 {
            buffer[n] = byte(at: k)
            n += 1
        }
        return n
    }
}

/// What an object is.
public enum ThingSetKind: Sendable, Equatable {
    case group
    case item(ThingSetType)
    /// An executable; `returnsInt` when it answers an int32.
    case function(returnsInt: Bool)
    /// A parameter of the executable that is its parent.
    case parameter(ThingSetType)
    /// A subset: the items whose `subsets` mask has `bit` set.
    case subset(bit: UInt8)
    /// A records object (spec §7): an array of records, each with the items that are its
    /// children; at most `maximum` records.
    case records(maximum: UInt16)
}

/// Roles of a channel (spec §1.6): bit 0 user, bit 1 expert, bit 2 manufacturer.
public struct ThingSetRoles: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static var user: ThingSetRoles { ThingSetRoles(rawValue: 1) }
    public static var expert: ThingSetRoles { ThingSetRoles(rawValue: 2) }
    public static var manufacturer: ThingSetRoles { ThingSetRoles(rawValue: 4) }
}

/// One object of the tree.
public struct ThingSetObject: Sendable {
    public var id: UInt16
    public var parent: UInt16
    public var name: ThingSetName
    public var kind: ThingSetKind
    /// Bits 0–3: roles that may read; bits 4–7: roles that may write or execute.
    public var access: UInt8
    /// Subsets this item belongs to (bit n = the subset with `bit: n`).
    public var subsets: UInt8

    public init(id: UInt16, parent: UInt16, name: ThingSetName, kind: ThingSetKind, access: UInt8, subsets: UInt8 = 0) {
        self.id = id
        self.parent = parent
        self.name = name
        self.kind = kind
        self.access = access
        self.subsets = subsets
    }

    public func readable(by roles: ThingSetRoles) -> Bool { access & 0x0F & roles.rawValue != 0 }
    public func writable(by roles: ThingSetRoles) -> Bool { (access >> 4) & roles.rawValue != 0 }
    /// Whether any role at all may write it.
    public var writableByAnyone: Bool { access >> 4 != 0 }

    /// Anyone reads (`0x07`); anyone reads and writes (`0x77`); anyone reads, experts and the
    /// manufacturer write (`0x67`); anyone reads, the manufacturer writes (`0x47`).
    public static let readOnly: UInt8 = 0x07
    public static let readWrite: UInt8 = 0x77
    public static let expertWrite: UInt8 = 0x67
    public static let manufacturerWrite: UInt8 = 0x47
}

/// A value received in an UPDATE or as an EXEC parameter.
public enum ThingSetValue: Sendable, Equatable {
    case bool(Bool)
    case int(Int64)
    case float(Float)
    /// A string: the byte range of its UTF-8 text in the request.
    case text(Range<Int>)
    /// An array of numbers (at most 32), for the float arrays.
    case floats(InlineArray<32, Float>, count: Int)

    public static func == (a: ThingSetValue, b: ThingSetValue) -> Bool {
        switch (a, b) {
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.float(let x), .float(let y)): return x == y
        case (.text(let x), .text(let y)): return x == y
        case (.floats(let x, let n), .floats(let y, let m)):
            guard n == m else { return false }
            for k in 0..<n where x[k] != y[k] { return false }
            return true
        default: return false
        }
    }

    /// The value as a Float if it is a number (integers are accepted for floats, spec §1.5).
    public var number: Float? {
        switch self {
        case .int(let i): Float(i)
        case .float(let f): f
        default: nil
        }
    }
}

/// Parameters of an EXEC, in declaration order.
public struct ThingSetParameters: Sendable {
    public private(set) var values: InlineArray<4, ThingSetValue> = InlineArray(repeating: .bool(false))
    public private(set) var count = 0

    public init() {}

    mutating func append(_ v: ThingSetValue) -> Bool {
        guard count < 4 else { return false }
        values[count] = v
        count += 1
        return true
    }

    public subscript(_ k: Int) -> ThingSetValue { values[k] }
}

/// Writes values in the mode of the request (CBOR or JSON).
public protocol ThingSetEncoder {
    mutating func bool(_ v: Bool) throws(ThingSetStatus)
    mutating func uint(_ v: UInt64) throws(ThingSetStatus)
    mutating func int(_ v: Int64) throws(ThingSetStatus)
    mutating func float(_ v: Float, decimals: UInt8) throws(ThingSetStatus)
    mutating func text(_ utf8: UnsafeBufferPointer<UInt8>) throws(ThingSetStatus)
    mutating func text(_ name: ThingSetName) throws(ThingSetStatus)
    mutating func null() throws(ThingSetStatus)
    mutating func arrayHeader(_ count: Int) throws(ThingSetStatus)
    mutating func arrayEnd() throws(ThingSetStatus)
    mutating func mapHeader(_ count: Int) throws(ThingSetStatus)
    mutating func mapEnd() throws(ThingSetStatus)
    /// An object named as an array item: its ID or its name, as the request's endpoint was given.
    mutating func key(_ object: ThingSetObject) throws(ThingSetStatus)
    /// The same as a map key (JSON adds the colon).
    mutating func mapKey(_ object: ThingSetObject) throws(ThingSetStatus)
    /// Whether objects are named by ID (binary with an ID endpoint) rather than by name or path.
    var keysAreIDs: Bool { get }
    /// Separates items in arrays and maps (JSON); nothing in CBOR.
    mutating func separator() throws(ThingSetStatus)
}

/// The application's side of a node: its objects and their values.
public protocol ThingSetModel {
    /// The objects, in tree order (parents before children; children in the order GET lists them).
    var objectCount: Int { get }
    func object(at index: Int) -> ThingSetObject
    /// Writes the value of item `id` (a scalar, or an array for array types).
    func encodeValue<E: ThingSetEncoder>(_ id: UInt16, to e: inout E) throws(ThingSetStatus)
    /// Checks one value of an UPDATE and keeps it aside; nothing is applied yet. `message`
    /// holds the request (for text values).
    mutating func stage(_ id: UInt16, _ value: ThingSetValue, message: UnsafeBufferPointer<UInt8>) throws(ThingSetStatus)
    /// Applies every staged value as one, or refuses them all (`conflict`), then forgets them.
    mutating func commit() throws(ThingSetStatus)
    /// Forgets the staged values.
    mutating func discard()
    /// Runs function `id`; returns its int32 result, if it has one.
    mutating func exec(_ id: UInt16, _ parameters: ThingSetParameters, message: UnsafeBufferPointer<UInt8>,
                       roles: inout ThingSetRoles) throws(ThingSetStatus) -> Int32?
    /// Whether a forward envelope names this node (see the extension's default).
    func isOwnNodeID(_ eui: UnsafeBufferPointer<UInt8>) -> Bool
    /// Why the last request failed with `status` (see the extension's default).
    func diagnostic(for status: ThingSetStatus, into text: inout DiagnosticText) -> Bool
    /// The number of records in records object `id` (0 for a model without records).
    func recordCount(_ id: UInt16) -> Int
    /// Writes item `item` of record `index` (0 = oldest) of records object `records`.
    func encodeRecordItem<E: ThingSetEncoder>(_ records: UInt16, index: Int, item: UInt16, to e: inout E) throws(ThingSetStatus)
}

extension ThingSetModel {
    /// Whether `eui` (16 hex digits, any case) is this node's ID, for forward envelopes
    /// addressed to it (spec §10.2); `false` for a model without one.
    public func isOwnNodeID(_ eui: UnsafeBufferPointer<UInt8>) -> Bool { false }

    /// Why the last request failed with `status`, as text for the answer (`A9 F6 "…"`,
    /// `:A9 "…"`); `false` when there is nothing to add.
    public func diagnostic(for status: ThingSetStatus, into text: inout DiagnosticText) -> Bool { false }

    public func recordCount(_ id: UInt16) -> Int { 0 }
    public func encodeRecordItem<E: ThingSetEncoder>(_ records: UInt16, index: Int, item: UInt16,
                                                    to e: inout E) throws(ThingSetStatus) {
        throw .notFound
    }
}

extension ThingSetModel {
    /// The index of the object with `id`.
    public func index(of id: UInt16) -> Int? {
        for k in 0..<objectCount where object(at: k).id == id { return k }
        return nil
    }

    /// The index of the child of `parent` named like `bytes`.
    func index(named bytes: UnsafeBufferPointer<UInt8>, parent: UInt16) -> Int? {
        for k in 0..<objectCount {
            let o = object(at: k)
            if o.parent == parent && o.id != parent && o.name.equals(bytes) { return k }
        }
        return nil
    }

    /// The object at a path (names separated by `/`, relative to the root); the root for "".
    func index(path: UnsafeBufferPointer<UInt8>) -> Int? {
        var parent: UInt16 = 0
        var found: Int? = path.isEmpty ? index(of: 0) : nil
        var start = 0
        while start < path.count {
            var end = start
            while end < path.count && path[end] != UInt8(ascii: "/") { end += 1 }
            guard end > start, let k = index(named: UnsafeBufferPointer(rebasing: path[start..<end]), parent: parent) else { return nil }
            found = k
            parent = object(at: k).id
            start = end + 1
            if end == path.count - 1 { return nil }  // a trailing slash
        }
        return found
    }
}

/// A short diagnostic text built from static parts (at most 96 bytes).
public struct DiagnosticText: Sendable {
    public private(set) var bytes = InlineArray<96, UInt8>(repeating: 0)
    public private(set) var count = 0

    public init() {}

    public mutating func append(_ s: StaticString) {
        for k in 0..<s.utf8CodeUnitCount where count < 96 { bytes[count] = s.utf8Start[k]; count += 1 }
    }

    public mutating func append(_ name: ThingSetName) {
        for k in 0..<name.count where count < 96 { bytes[count] = name.byte(at: k); count += 1 }
    }

    /// Calls `body` with the text's bytes.
    public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        withUnsafeBytes(of: bytes) { raw in body(UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[0..<count])) }
    }
}
