/// A ThingSet node: answers requests on the model's objects (spec §3–§5) in binary mode.

/// One client connection (a serial port, a TCP connection, a CAN peer): its roles.
public struct ThingSetChannel: Sendable {
    public var roles: ThingSetRoles = .user
    public init() {}
}

/// Writes CBOR values; keys as IDs or names as the endpoint was given.
public struct CBOREncoder: ThingSetEncoder {
    public var writer: CBORWriter
    public var useNames: Bool

    public init(_ writer: CBORWriter, useNames: Bool) {
        self.writer = writer
        self.useNames = useNames
    }

    private mutating func run(_ body: (inout CBORWriter) throws(CBORError) -> Void) throws(ThingSetStatus) {
        do { try body(&writer) } catch { throw .internalError }  // the answer does not fit
    }

    public mutating func bool(_ v: Bool) throws(ThingSetStatus) { try run { w throws(CBORError) in try w.bool(v) } }
    public mutating func uint(_ v: UInt64) throws(ThingSetStatus) { try run { w throws(CBORError) in try w.uint(v) } }
    public mutating func int(_ v: Int64) throws(ThingSetStatus) { try run { w throws(CBORError) in try w.int(v) } }
    public mutating func float(_ v: Float, decimals: UInt8) throws(ThingSetStatus) { try run { w throws(CBORError) in try w.float(v) } }
    public mutating func text(_ utf8: UnsafeBufferPointer<UInt8>) throws(ThingSetStatus) { try run { w throws(CBORError) in try w.text(utf8) } }
    public mutating func text(_ name: ThingSetName) throws(ThingSetStatus) {
        try run { w throws(CBORError) in try w.text(count: name.count) { name.byte(at: $0) } }
    }
    public mutating func null() throws(ThingSetStatus) { try run { w throws(CBORError) in try w.null() } }
    public mutating func arrayHeader(_ count: Int) throws(ThingSetStatus) { try run { w throws(CBORError) in try w.arrayHeader(count) } }
    public mutating func arrayEnd() throws(ThingSetStatus) {}
    public mutating func mapHeader(_ count: Int) throws(ThingSetStatus) { try run { w throws(CBORError) in try w.mapHeader(count) } }
    public mutating func mapEnd() throws(ThingSetStatus) {}
    public mutating func key(_ object: ThingSetObject) throws(ThingSetStatus) {
        if useNames { try text(object.name) } else { try uint(UInt64(object.id)) }
    }
    public mutating func mapKey(_ object: ThingSetObject) throws(ThingSetStatus) { try key(object) }
    public mutating func separator() throws(ThingSetStatus) {}
    public var keysAreIDs: Bool { !useNames }
    /// One byte as it is (a message's first byte).
    public mutating func raw(_ b: UInt8) throws(ThingSetStatus) { try run { w throws(CBORError) in try w.byte(b) } }
}

/// Well-known IDs of the protocol (spec §1.3).
public enum ThingSetWellKnown {
    public static let root: UInt16 = 0x00
    public static let ids: UInt16 = 0x16
    public static let paths: UInt16 = 0x17
    public static let metadata: UInt16 = 0x19
    public static let metadataName: UInt64 = 0x1A
    public static let metadataType: UInt64 = 0x1B
    public static let metadataAccess: UInt64 = 0x1C
    /// The root group: not in a model's table.
    static var rootObject: ThingSetObject {
        ThingSetObject(id: root, parent: root, name: "", kind: .group, access: ThingSetObject.readOnly)
    }
}

public struct ThingSetNode<Model: ThingSetModel> {
    public var model: Model

    public init(model: Model) {
        self.model = model
    }

    /// Answers a binary request into `out`; returns the answer's length (0: no answer — the
    /// message was not a request, or it was a DESIRE).
    public mutating func processBinary(_ message: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>,
                                       channel: inout ThingSetChannel) -> Int {
        guard out.count >= 3 else { return 0 }
        // A forward envelope (1C <EUI-64 text> <request>) naming this node: its inner request,
        // answered unwrapped (spec §10.2). Any other node: not a gateway (C5, below).
        if message.first == 0x1C {
            var r = CBORReader(UnsafeBufferPointer(rebasing: message[1...]))
            if let eui = try? r.readTextRange(),
               model.isOwnNodeID(UnsafeBufferPointer(rebasing: message[(eui.lowerBound + 1)..<(eui.upperBound + 1)])) {
                return processBinary(UnsafeBufferPointer(rebasing: message[(1 + r.position)...]), into: out, channel: &channel)
            }
        }
        let request: ThingSetRequest
        do {
            guard let r = try ThingSetRequest.parseBinary(message) else { return 0 }
            request = r
        } catch {
            return errorAnswer(error, out)
        }
        let useNames: Bool
        if case .path = request.endpoint { useNames = true } else { useNames = false }
        var encoder = CBOREncoder(CBORWriter(UnsafeMutableBufferPointer(rebasing: out[2...])), useNames: useNames)
        do {
            var payload = request.payload.map { CBORPayloadReader(message, $0) }
            let status = try dispatch(request, message, &payload, &encoder, &channel)
            if request.function == .desire { return 0 }
            out[0] = status.rawValue
            out[1] = 0xF6
            if encoder.writer.count == 0 {
                out[2] = 0xF6
                return 3
            }
            return 2 + encoder.writer.count
        } catch {
            model.discard()
            return request.function == .desire ? 0 : errorAnswer(error, out, diagnosed: true)
        }
    }

    /// `status F6 F6`, or `status F6 "<why>"` when the model can say why (node-c's form, which
    /// python-thingset reads).
    private func errorAnswer(_ status: ThingSetStatus, _ out: UnsafeMutableBufferPointer<UInt8>, diagnosed: Bool = false) -> Int {
        out[0] = status.rawValue
        out[1] = 0xF6
        var text = DiagnosticText()
        if diagnosed && model.diagnostic(for: status, into: &text) {
            var w = CBORWriter(UnsafeMutableBufferPointer(rebasing: out[2...]))
            if text.withBytes({ (try? w.text($0)) != nil }) { return 2 + w.count }
        }
        out[2] = 0xF6
        return 3
    }

    /// The object an endpoint names.
    private func resolve(_ endpoint: ThingSetEndpoint, _ message: UnsafeBufferPointer<UInt8>) throws(ThingSetStatus) -> ThingSetObject {
        switch endpoint {
        case .id(let id):
            guard id <= UInt32(UInt16.max) else { throw .notFound }
            if UInt16(id) == ThingSetWellKnown.root { return ThingSetWellKnown.rootObject }
            guard let k = model.index(of: UInt16(id)) else { throw .notFound }
            return model.object(at: k)
        case .path(let r):
            if r.isEmpty { return ThingSetWellKnown.rootObject }
            guard let k = model.index(path: UnsafeBufferPointer(rebasing: message[r])) else { throw .notFound }
            return model.object(at: k)
        case .record:
            throw .notFound  // resolved by `record(_:)`
        }
    }

    /// A record endpoint: `[id, index]` in binary mode, `Records/index` as a text path.
    private func record(_ endpoint: ThingSetEndpoint, _ message: UnsafeBufferPointer<UInt8>) -> (ThingSetObject, Int)? {
        switch endpoint {
        case .record(let id, let index):
            guard id <= UInt32(UInt16.max), let k = model.index(of: UInt16(id)) else { return nil }
            let o = model.object(at: k)
            guard case .records = o.kind else { return nil }
            return (o, Int(index))
        case .path(let r):
            // The last element all digits, the rest naming a records object.
            guard let slash = message[r].lastIndex(of: UInt8(ascii: "/")), slash + 1 < r.upperBound else { return nil }
            var index = 0
            for c in message[(slash + 1)..<r.upperBound] {
                guard c >= 0x30 && c <= 0x39, index < 1_000_000 else { return nil }
                index = index * 10 + Int(c - 0x30)
            }
            guard let k = model.index(path: UnsafeBufferPointer(rebasing: message[r.lowerBound..<slash])) else { return nil }
            let o = model.object(at: k)
            guard case .records = o.kind else { return nil }
            return (o, index)
        case .id:
            return nil
        }
    }

    /// One record as a map of its items.
    private func encodeRecord<E: ThingSetEncoder>(_ records: ThingSetObject, _ index: Int, _ e: inout E,
                                                  _ channel: ThingSetChannel) throws(ThingSetStatus) {
        try e.mapHeader(childCount(of: records.id, channel))
        var k = 0
        var first = true
        while let item = nextChild(of: records.id, after: &k, channel) {
            if !first { try e.separator() }
            first = false
            try e.mapKey(item)
            try model.encodeRecordItem(records.id, index: index, item: item.id, to: &e)
        }
        try e.mapEnd()
    }

    /// The metadata, IDs and paths overlays (spec §5.3), which answer FETCH only.
    static func isOverlay(_ endpoint: ThingSetEndpoint) -> Bool {
        guard case .id(let id) = endpoint else { return false }
        return id == UInt32(ThingSetWellKnown.metadata) || id == UInt32(ThingSetWellKnown.ids)
            || id == UInt32(ThingSetWellKnown.paths)
    }

    /// GET and FETCH: the overlays (FETCH only), records (GET only), then the object named.
    private func respond<E: ThingSetEncoder, R: ThingSetPayloadReader>(
        _ request: ThingSetRequest, _ message: UnsafeBufferPointer<UInt8>, _ payload: inout R?,
        _ e: inout E, _ channel: ThingSetChannel) throws(ThingSetStatus) -> ThingSetStatus {
        if Self.isOverlay(request.endpoint), case .id(let id) = request.endpoint {
            guard request.function == .fetch, request.payload != nil else { throw .methodNotAllowed }
            try overlay(UInt16(id), &payload!, message, &e, channel)
            return .content
        }
        if let (records, index) = record(request.endpoint, message) {
            guard request.function == .get else { throw .methodNotAllowed }
            guard records.readable(by: channel.roles) else { throw .unauthorized }
            guard index < model.recordCount(records.id) else { throw .notFound }
            try encodeRecord(records, index, &e, channel)
            return .content
        }
        let target = try resolve(request.endpoint, message)
        if request.function == .get {
            try get(target, &e, channel)
        } else {
            try fetch(target, &payload!, message, &e, channel)
        }
        return .content
    }

    mutating func dispatch<E: ThingSetEncoder, R: ThingSetPayloadReader>(
        _ request: ThingSetRequest, _ message: UnsafeBufferPointer<UInt8>, _ payload: inout R?,
        _ e: inout E, _ channel: inout ThingSetChannel) throws(ThingSetStatus) -> ThingSetStatus {
        switch request.function {
        case .get, .fetch:
            // Answered by one non-mutating call: a mutating method that calls a non-mutating
            // one copies the node for the call, so the read path crosses that line once.
            return try respond(request, message, &payload, &e, channel)
        default:
            break
        }
        // The overlays answer FETCH only, records GET only.
        if Self.isOverlay(request.endpoint) || record(request.endpoint, message) != nil { throw .methodNotAllowed }
        let target = try resolve(request.endpoint, message)
        switch request.function {
        case .get, .fetch:
            return .content  // answered above
        case .update, .desire:
            try update(target, &payload!, message, channel, desire: request.function == .desire)
            return .changed
        case .exec:
            return try exec(target, &payload, message, &e, &channel)
        case .create, .delete:
            if case .subset = target.kind { throw .notImplemented }
            throw .methodNotAllowed
        case .report:
            throw .badRequest
        }
    }

    // MARK: GET and FETCH

    // Children and subset members are walked with an index, not with a closure: a closure
    // that calls back into the node captures it, which copies the whole node (its model
    // included: 14 kB for the BMS) onto the stack of an MCU.

    /// The next object at index `k` or after that is a child of `parent` readable on
    /// `channel`; `k` moves past it.
    private func nextChild(of parent: UInt16, after k: inout Int, _ channel: ThingSetChannel) -> ThingSetObject? {
        while k < model.objectCount {
            let o = model.object(at: k)
            k += 1
            if o.parent == parent && o.id != parent && o.readable(by: channel.roles) { return o }
        }
        return nil
    }

    /// The next member of subset `bit` from index `k` on.
    private func nextMember(of bit: UInt8, after k: inout Int, _ channel: ThingSetChannel) -> ThingSetObject? {
        while k < model.objectCount {
            let o = model.object(at: k)
            k += 1
            if o.subsets & (1 << bit) != 0 && o.readable(by: channel.roles) { return o }
        }
        return nil
    }

    private func childCount(of parent: UInt16, _ channel: ThingSetChannel) -> Int {
        var k = 0, n = 0
        while nextChild(of: parent, after: &k, channel) != nil { n += 1 }
        return n
    }

    /// A value as GET shows it inside a group: items their value, groups `null`, functions
    /// their parameter names.
    private func value<E: ThingSetEncoder>(_ o: ThingSetObject, _ e: inout E, _ channel: ThingSetChannel) throws(ThingSetStatus) {
        switch o.kind {
        case .item: try model.encodeValue(o.id, to: &e)
        case .group, .subset, .parameter: try e.null()
        case .function: try names(of: o.id, &e, channel)
        case .records: try e.uint(UInt64(model.recordCount(o.id)))
        }
    }

    private func names<E: ThingSetEncoder>(of parent: UInt16, _ e: inout E, _ channel: ThingSetChannel) throws(ThingSetStatus) {
        try e.arrayHeader(childCount(of: parent, channel))
        var k = 0
        var first = true
        while let o = nextChild(of: parent, after: &k, channel) {
            if !first { try e.separator() }
            first = false
            try e.key(o)
        }
        try e.arrayEnd()
    }

    private func get<E: ThingSetEncoder>(_ target: ThingSetObject, _ e: inout E, _ channel: ThingSetChannel) throws(ThingSetStatus) {
        guard target.readable(by: channel.roles) else { throw .unauthorized }
        switch target.kind {
        case .item:
            try model.encodeValue(target.id, to: &e)
        case .group:
            try e.mapHeader(childCount(of: target.id, channel))
            var k = 0
            var first = true
            while let o = nextChild(of: target.id, after: &k, channel) {
                if !first { try e.separator() }
                first = false
                try e.mapKey(o)
                try value(o, &e, channel)
            }
            try e.mapEnd()
        case .function:
            try names(of: target.id, &e, channel)
        case .subset(let bit):
            var n = 0
            var k = 0
            while nextMember(of: bit, after: &k, channel) != nil { n += 1 }
            try e.arrayHeader(n)
            k = 0
            var first = true
            while let o = nextMember(of: bit, after: &k, channel) {
                if !first { try e.separator() }
                first = false
                try pathOrID(o, &e)
            }
            try e.arrayEnd()
        case .records:
            let n = model.recordCount(target.id)
            try e.arrayHeader(n)
            for k in 0..<n {
                if k > 0 { try e.separator() }
                try encodeRecord(target, k, &e, channel)
            }
            try e.arrayEnd()
        case .parameter:
            throw .badRequest
        }
    }

    /// An object's path (names) or ID, as the encoder's mode asks.
    private func pathOrID<E: ThingSetEncoder>(_ o: ThingSetObject, _ e: inout E) throws(ThingSetStatus) {
        guard e.keysAreIDs else {
            var buffer = InlineArray<64, UInt8>(repeating: 0)
            let n = path(of: o, into: &buffer)
            try withUnsafeBytes(of: &buffer) { raw throws(ThingSetStatus) in
                try e.text(UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[0..<n]))
            }
            return
        }
        try e.uint(UInt64(o.id))
    }

    /// Writes the path of `o` (its ancestors' names and its own, `/`-separated); returns its length.
    func path(of o: ThingSetObject, into buffer: inout InlineArray<64, UInt8>) -> Int {
        var chain = InlineArray<8, Int>(repeating: -1)
        var depth = 0
        var current = o
        while depth < 8 {
            guard let k = model.index(of: current.id) else { break }
            chain[depth] = k
            depth += 1
            if current.parent == 0 { break }
            guard let p = model.index(of: current.parent) else { break }
            current = model.object(at: p)
        }
        var n = 0
        var level = depth - 1
        while level >= 0 {
            n = model.object(at: chain[level]).name.copy(into: &buffer, at: n)
            if level > 0 && n < 64 { buffer[n] = UInt8(ascii: "/"); n += 1 }
            level -= 1
        }
        return n
    }

    private func fetch<E: ThingSetEncoder, R: ThingSetPayloadReader>(_ target: ThingSetObject, _ r: inout R,
                                                                    _ message: UnsafeBufferPointer<UInt8>,
                                                                    _ e: inout E, _ channel: ThingSetChannel) throws(ThingSetStatus) {
        if r.readNull() {
            try r.finish()
            // Discovery: the children's IDs or names (a function's parameters; a subset's members).
            if case .subset = target.kind { try get(target, &e, channel); return }
            try names(of: target.id, &e, channel)
            return
        }
        let count = try r.beginArray()
        var objects = InlineArray<64, Int16>(repeating: -1)
        guard count <= 64 else { throw .requestTooLarge }
        for k in 0..<count {
            let o = try child(of: target, try r.readKey(), message)
            guard o.readable(by: channel.roles) else { throw .unauthorized }
            objects[k] = Int16(model.index(of: o.id)!)
        }
        try r.finish()
        try e.arrayHeader(count)
        for k in 0..<count {
            if k > 0 { try e.separator() }
            try value(model.object(at: Int(objects[k])), &e, channel)
        }
        try e.arrayEnd()
    }

    /// The child of `parent` a key names (`badRequest` if the object exists but is not its
    /// child, `notFound` if it does not exist; with `anywhere`, IDs from the whole tree).
    private func child(of parent: ThingSetObject, _ key: ThingSetKey, _ message: UnsafeBufferPointer<UInt8>,
                       anywhere: Bool = false) throws(ThingSetStatus) -> ThingSetObject {
        switch key {
        case .id(let id):
            guard id <= UInt64(UInt16.max), let k = model.index(of: UInt16(id)) else { throw .notFound }
            let o = model.object(at: k)
            guard anywhere || o.parent == parent.id else { throw .badRequest }
            return o
        case .name(let range):
            guard let k = model.index(named: UnsafeBufferPointer(rebasing: message[range]), parent: parent.id) else {
                throw .notFound
            }
            return model.object(at: k)
        }
    }

    private func overlay<E: ThingSetEncoder, R: ThingSetPayloadReader>(_ id: UInt16, _ r: inout R,
                                                                      _ message: UnsafeBufferPointer<UInt8>,
                                                                      _ e: inout E, _ channel: ThingSetChannel) throws(ThingSetStatus) {
        let count = try r.beginArray()
        try e.arrayHeader(count)
        for k in 0..<count {
            if k > 0 { try e.separator() }
            let o: ThingSetObject
            if id == ThingSetWellKnown.ids {
                let range = try r.readText()
                guard let i = model.index(path: UnsafeBufferPointer(rebasing: message[range])) else { throw .notFound }
                o = model.object(at: i)
                try e.uint(UInt64(o.id))
                continue
            }
            let raw = try r.readUInt()
            guard raw <= UInt64(UInt16.max), let i = model.index(of: UInt16(raw)) else { throw .notFound }
            o = model.object(at: i)
            if id == ThingSetWellKnown.paths {
                var buffer = InlineArray<64, UInt8>(repeating: 0)
                let n = path(of: o, into: &buffer)
                try withUnsafeBytes(of: &buffer) { raw throws(ThingSetStatus) in
                    try e.text(UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[0..<n]))
                }
                continue
            }
            // _Metadata: {0x1A: name, 0x1B: type, 0x1C: access}.
            try e.mapHeader(3)
            try e.uint(ThingSetWellKnown.metadataName)
            try e.text(o.name)
            try e.uint(ThingSetWellKnown.metadataType)
            try typeName(o, &e)
            try e.uint(ThingSetWellKnown.metadataAccess)
            try e.uint(UInt64(o.access))
        }
        try r.finish()
        try e.arrayEnd()
    }

    private func typeName<E: ThingSetEncoder>(_ o: ThingSetObject, _ e: inout E) throws(ThingSetStatus) {
        switch o.kind {
        case .group: try e.text("group")
        case .subset: try e.text("subset")
        case .records: try e.text("record")
        case .item(let t), .parameter(let t): try e.text(ThingSetName(t.name))
        case .function(let returnsInt):
            // "(f32,u32)->(i32)": the parameters' types in order.
            var buffer = InlineArray<64, UInt8>(repeating: 0)
            var n = 0
            func put(_ s: StaticString) {
                for i in 0..<s.utf8CodeUnitCount where n < 64 { buffer[n] = s.utf8Start[i]; n += 1 }
            }
            put("(")
            var first = true
            for k in 0..<model.objectCount {
                let p = model.object(at: k)
                guard p.parent == o.id, case .parameter(let t) = p.kind else { continue }
                if !first { put(",") }
                first = false
                put(t.name)
            }
            put(returnsInt ? ")->(i32)" : ")->()")
            try withUnsafeBytes(of: &buffer) { raw throws(ThingSetStatus) in
                try e.text(UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[0..<n]))
            }
        }
    }

    // MARK: UPDATE and EXEC

    /// UPDATE, or with `desire` a DESIRE: entries it cannot take (unknown, not writable by this
    /// channel, of the wrong kind) are then skipped instead of refusing the whole (spec §6.5).
    private mutating func update<R: ThingSetPayloadReader>(_ target: ThingSetObject, _ r: inout R,
                                                           _ message: UnsafeBufferPointer<UInt8>,
                                                           _ channel: ThingSetChannel, desire: Bool = false) throws(ThingSetStatus) {
        let count = try r.beginMap()
        // Every entry checked and staged first; nothing applied unless all pass (spec §3.3).
        for _ in 0..<count {
            let key = try r.readKey()
            let mark = r.mark
            do throws(ThingSetStatus) {
                let o = try child(of: target, key, message, anywhere: target.id == ThingSetWellKnown.root)
                guard case .item(let type) = o.kind else { throw .forbidden }
                guard o.writableByAnyone else { throw .forbidden }
                guard o.writable(by: channel.roles) else { throw .unauthorized }
                try model.stage(o.id, try r.readValue(type), message: message)
            } catch {
                if !desire { throw error }
                r.mark = mark
                try r.skipValue()
            }
        }
        try r.finish()
        try model.commit()
    }

    private mutating func exec<E: ThingSetEncoder, R: ThingSetPayloadReader>(_ target: ThingSetObject, _ r: inout R?,
                                                                            _ message: UnsafeBufferPointer<UInt8>,
                                                                            _ e: inout E,
                                                                            _ channel: inout ThingSetChannel) throws(ThingSetStatus) -> ThingSetStatus {
        guard case .function(let returnsInt) = target.kind else { throw .badRequest }
        guard target.writableByAnyone else { throw .forbidden }
        guard target.writable(by: channel.roles) else { throw .unauthorized }
        var parameters = ThingSetParameters()
        var declared = 0
        for k in 0..<model.objectCount where model.object(at: k).parent == target.id { declared += 1 }
        if r != nil {
            let count = try r!.beginArray()
            guard count == declared else { throw .badRequest }
            for i in 0..<model.objectCount {
                let p = model.object(at: i)
                guard p.parent == target.id, case .parameter(let type) = p.kind else { continue }
                guard parameters.append(try r!.readValue(type)) else { throw .badRequest }
            }
            try r!.finish()
        } else if declared != 0 {
            throw .badRequest
        }
        if let result = try model.exec(target.id, parameters, message: message, roles: &channel.roles), returnsInt {
            try e.int(Int64(result))
        }
        return .changed
    }
}
