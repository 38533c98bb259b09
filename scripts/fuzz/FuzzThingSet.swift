/// libFuzzer target for the ThingSet module: every input goes through the stream framer, both
/// request parsers, the CBOR reader, the node (with every role) and CAN reassembly (ISO-TP), which must never trap,
/// read out of bounds or loop; see scripts/fuzz/run.sh.

/// A model with one object of every kind, so the node's whole request path is reachable.
struct FuzzModel: ThingSetModel {
    var value: Float = 1
    var flag = true
    var count: UInt64 = 3
    var pending = false

    var objectCount: Int { 9 }
    func object(at index: Int) -> ThingSetObject {
        switch index {
        case 0: ThingSetObject(id: 0x07, parent: 0, name: "Meas", kind: .group, access: ThingSetObject.readOnly)
        case 1: ThingSetObject(id: 0x7C, parent: 0x07, name: "rSOC_pct", kind: .item(.f32(decimals: 1)), access: ThingSetObject.readOnly, subsets: 1)
        case 2: ThingSetObject(id: 0x80, parent: 0x07, name: "rCells_V", kind: .item(.f32Array(count: 4, decimals: 3)), access: ThingSetObject.readWrite, subsets: 1)
        case 3: ThingSetObject(id: 0x05, parent: 0, name: "Conf", kind: .group, access: ThingSetObject.readOnly)
        case 4: ThingSetObject(id: 0x60, parent: 0x05, name: "sLimit_V", kind: .item(.f32(decimals: 3)), access: ThingSetObject.expertWrite)
        case 5: ThingSetObject(id: 0x61, parent: 0x05, name: "sCount", kind: .item(.u8), access: ThingSetObject.manufacturerWrite)
        case 6: ThingSetObject(id: 0xA2, parent: 0x05, name: "xRun", kind: .function(returnsInt: true), access: ThingSetObject.readWrite)
        case 7: ThingSetObject(id: 0xA3, parent: 0xA2, name: "uName", kind: .parameter(.string), access: ThingSetObject.readWrite)
        default: ThingSetObject(id: 0x31, parent: 0, name: "mLive", kind: .subset(bit: 0), access: ThingSetObject.readOnly)
        }
    }
    func encodeValue<E: ThingSetEncoder>(_ id: UInt16, to e: inout E) throws(ThingSetStatus) {
        switch id {
        case 0x7C, 0x60: try e.float(value, decimals: 1)
        case 0x61: try e.uint(count)
        case 0x80:
            try e.arrayHeader(4)
            for _ in 0..<4 { try e.float(value, decimals: 3) }
            try e.arrayEnd()
        default: try e.bool(flag)
        }
    }
    mutating func stage(_ id: UInt16, _ value: ThingSetValue, message: UnsafeBufferPointer<UInt8>) throws(ThingSetStatus) {
        if case .text(let r) = value { _ = message[r].count }  // the range must lie in the message
        pending = true
    }
    mutating func commit() throws(ThingSetStatus) {
        guard pending else { return }
        pending = false
        value += 1
        if value > 100 { throw .conflict }
    }
    mutating func discard() { pending = false }
    mutating func exec(_ id: UInt16, _ parameters: ThingSetParameters, message: UnsafeBufferPointer<UInt8>,
                       roles: inout ThingSetRoles) throws(ThingSetStatus) -> Int32? {
        for k in 0..<parameters.count { if case .text(let r) = parameters[k] { _ = message[r].count } }
        return Int32(parameters.count)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzThingSet(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let message = UnsafeBufferPointer(start: data, count: size)
    _ = ThingSetRequest.binaryFrame(message)
    if let r = try? ThingSetRequest.parseBinary(message), let p = r.payload { _ = message[p].count }
    if let r = try? ThingSetRequest.parseText(message), let p = r.payload { _ = message[p].count }
    var reader = CBORReader(message)
    while !reader.isAtEnd {
        if (try? reader.skip()) == nil { break }
    }
    var text = [UInt8](repeating: 0, count: 64)
    var textReader = CBORReader(message)
    _ = text.withUnsafeMutableBufferPointer { try? textReader.readText(into: $0) }
    var node = ThingSetNode(model: FuzzModel())
    for roles in [ThingSetRoles.user, [.user, .expert, .manufacturer]] {
        var channel = ThingSetChannel()
        channel.roles = roles
        var out = [UInt8](repeating: 0, count: 256)
        let n = out.withUnsafeMutableBufferPointer { node.processBinary(message, into: $0, channel: &channel) }
        if n > 0 && out[0] < 0x80 { fatalError("an answer must start with a status") }
        let t = out.withUnsafeMutableBufferPointer { node.processText(message, into: $0, channel: &channel) }
        if t > 0 && out[0] != UInt8(ascii: ":") { fatalError("a text answer must start with a status") }
    }
    // The same bytes as a stream of CAN frames (each prefixed by its length byte, classic or
    // FD by the length), reassembled by ISO-TP and answered by the node.
    var rx = ISOTPReceiver()
    var at = 0
    while at < size {
        let length = Int(data[at] % 65)
        at += 1
        let end = min(at + length, size)
        let frame = CANFrame(id: 0x1800_1400, bytes: UnsafeBufferPointer(rebasing: message[at..<end]), fd: length > 8)
        at = end
        if rx.take(frame) == .complete {
            var buffer = [UInt8](repeating: 0, count: rx.expected)
            for k in 0..<rx.expected { buffer[k] = rx.message[k] }
            var channel = ThingSetChannel()
            var out = [UInt8](repeating: 0, count: 256)
            let n = buffer.withUnsafeBufferPointer { b in out.withUnsafeMutableBufferPointer { node.processBinary(b, into: $0, channel: &channel) } }
            var tx = ISOTPSender(fd: length > 8)
            let answer = Array(out[0..<n])
            var frames = 0
            answer.withUnsafeBufferPointer { a in while tx.next(a, id: 0x1800_0014) != nil { frames += 1 } }
            if n > 0 && frames == 0 { fatalError("an answer must leave in frames") }
        }
    }
    return 0
}
