/// Exercises the ThingSet codec and request parser so the linker keeps them; see check.sh.
import ThingSet

/// A two-item model: enough for the node's whole request path to be linked.
struct Model: ThingSetModel {
    var soc: Float = 50
    var enable = true
    var pending: Bool?
    var objectCount: Int { 4 }
    func object(at index: Int) -> ThingSetObject {
        switch index {
        case 0: ThingSetObject(id: 0x07, parent: 0, name: "Meas", kind: .group, access: ThingSetObject.readOnly)
        case 1: ThingSetObject(id: 0x7C, parent: 0x07, name: "rSOC_pct", kind: .item(.f32(decimals: 1)), access: ThingSetObject.readOnly, subsets: 1)
        case 2: ThingSetObject(id: 0x90, parent: 0, name: "wChgEnable", kind: .item(.bool), access: ThingSetObject.readWrite)
        default: ThingSetObject(id: 0x31, parent: 0, name: "mLive", kind: .subset(bit: 0), access: ThingSetObject.readOnly)
        }
    }
    func encodeValue<E: ThingSetEncoder>(_ id: UInt16, to e: inout E) throws(ThingSetStatus) {
        if id == 0x7C { try e.float(soc, decimals: 1) } else { try e.bool(enable) }
    }
    mutating func stage(_ id: UInt16, _ value: ThingSetValue, message: UnsafeBufferPointer<UInt8>) throws(ThingSetStatus) {
        guard case .bool(let b) = value else { throw .unsupportedFormat }
        pending = b
    }
    mutating func commit() throws(ThingSetStatus) { if let p = pending { enable = p }; pending = nil }
    mutating func discard() { pending = nil }
    mutating func exec(_ id: UInt16, _ parameters: ThingSetParameters, message: UnsafeBufferPointer<UInt8>,
                       roles: inout ThingSetRoles) throws(ThingSetStatus) -> Int32? { nil }
}

@main struct LinkCheckThingSet {
    static func main() {
        var storage = InlineArray<64, UInt8>(repeating: 0)
        var sink: UInt32 = 0
        withUnsafeMutableBytes(of: &storage) { raw in
            let buffer = raw.bindMemory(to: UInt8.self)
            var w = CBORWriter(buffer)
            // UPDATE Conf {0x60: 3.65} and a few more kinds of item.
            try? w.byte(ThingSetFunction.update.rawValue)
            try? w.uint(5)
            try? w.mapHeader(1)
            try? w.uint(0x60)
            try? w.float(3.65)
            let message = UnsafeBufferPointer(rebasing: buffer[0..<w.count])
            if let request = try? ThingSetRequest.parseBinary(message), let payload = request.payload {
                var r = CBORReader(UnsafeBufferPointer(rebasing: message[payload]))
                if let pairs = try? r.readMapHeader(), let id = try? r.readUInt(), let v = try? r.readFloat() {
                    sink &+= UInt32(pairs) &+ UInt32(truncatingIfNeeded: id) &+ UInt32(v.bitPattern)
                }
                try? r.skip()
            }
            var w2 = CBORWriter(UnsafeMutableBufferPointer(rebasing: buffer[32...]))
            try? w2.text("rSOC_pct")
            try? w2.int(-1000)
            try? w2.bool(true)
            try? w2.null()
            try? w2.arrayHeader(2)
            sink &+= UInt32(w2.count)
            var text = CBORReader(UnsafeBufferPointer(rebasing: buffer[32..<(32 + w2.count)]))
            var name = InlineArray<16, UInt8>(repeating: 0)
            withUnsafeMutableBytes(of: &name) { n in
                if let k = try? text.readText(into: n.bindMemory(to: UInt8.self)) { sink &+= UInt32(k) }
            }
            if let i = try? text.readInt() { sink &+= UInt32(truncatingIfNeeded: i) }
            if (try? text.readBool()) == true, text.readNull() { sink &+= 1 }
            if let line = try? ThingSetRequest.parseText(UnsafeBufferPointer(rebasing: buffer[0..<8])) {
                sink &+= UInt32(line.function.rawValue)
            }
        }
        // The node on a few requests: GET, FETCH discovery, UPDATE, _Metadata.
        var node = ThingSetNode(model: Model())
        var channel = ThingSetChannel()
        var request = InlineArray<16, UInt8>(repeating: 0)
        var answer = InlineArray<64, UInt8>(repeating: 0)
        let requests: InlineArray<4, UInt32> = [0x01_18_7C_00, 0x05_07_F6_00, 0x07_00_A1_F4, 0x05_18_19_81]
        for k in 0..<4 {
            let word = requests[k]
            for i in 0..<4 { request[i] = UInt8(truncatingIfNeeded: word >> UInt32(24 - 8 * i)) }
            let length = word & 0xFF == 0 ? 3 : 4
            withUnsafeMutableBytes(of: &request) { req in
                withUnsafeMutableBytes(of: &answer) { ans in
                    sink &+= UInt32(node.processBinary(UnsafeBufferPointer(rebasing: req.bindMemory(to: UInt8.self)[0..<length]),
                                                       into: ans.bindMemory(to: UInt8.self), channel: &channel))
                }
            }
        }
        if sink == 0x1234_5678 { fatalError() }
    }
}
