/// Exercises the ThingSet codec and request parser so the linker keeps them; see check.sh.
import ThingSet

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
        if sink == 0x1234_5678 { fatalError() }
    }
}
