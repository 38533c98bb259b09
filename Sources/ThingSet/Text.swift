/// Text mode (spec §3): JSON answers written into a caller's buffer, and the node's text entry
/// point `processText`.

/// Writes JSON values; keys are names; floats with the item's decimals (`null` for NaN and
/// infinity, as node-c prints them).
public struct JSONWriter: ThingSetEncoder {
    public let buffer: UnsafeMutableBufferPointer<UInt8>
    public private(set) var count = 0
    public init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    public var keysAreIDs: Bool { false }

    mutating func put(_ b: UInt8) throws(ThingSetStatus) {
        guard count < buffer.count else { throw .internalError }
        buffer[count] = b
        count += 1
    }

    mutating func put(_ s: StaticString) throws(ThingSetStatus) {
        for k in 0..<s.utf8CodeUnitCount { try put(s.utf8Start[k]) }
    }

    mutating func digits(_ v: UInt64) throws(ThingSetStatus) {
        var d = InlineArray<20, UInt8>(repeating: 0)
        var n = 0, x = v
        repeat {
            d[n] = UInt8(x % 10) + 0x30
            x /= 10
            n += 1
        } while x > 0
        while n > 0 { n -= 1; try put(d[n]) }
    }

    public mutating func bool(_ v: Bool) throws(ThingSetStatus) { try put(v ? "true" : "false") }
    public mutating func uint(_ v: UInt64) throws(ThingSetStatus) { try digits(v) }

    public mutating func int(_ v: Int64) throws(ThingSetStatus) {
        if v < 0 { try put(UInt8(ascii: "-")) }
        try digits(v.magnitude)
    }

    /// `v` with `decimals` digits after the point. In Float and integers only: double
    /// precision would bring ~6.5 kB of soft-float code to an M0 and cost every report; a
    /// Float has 7 significant digits, and the scaled value keeps them.
    public mutating func float(_ v: Float, decimals: UInt8) throws(ThingSetStatus) {
        guard v.isFinite else { try put("null"); return }
        var unit: UInt64 = 1
        var scale: Float = 1
        for _ in 0..<min(decimals, 9) { unit *= 10; scale *= 10 }
        let scaled = (v * scale).rounded()
        guard abs(scaled) < 9e18 else {
            // Too large for the decimals: the integer part only.
            try int(Int64(max(min(v.rounded(), 9e18), -9e18)))
            return
        }
        let n = Int64(scaled)
        if n < 0 { try put(UInt8(ascii: "-")) }
        let magnitude = n.magnitude
        try digits(magnitude / unit)
        if unit > 1 {
            try put(UInt8(ascii: "."))
            var fraction = magnitude % unit, place = unit / 10
            while place > 0 {
                try put(UInt8(fraction / place) + 0x30)
                fraction %= place
                place /= 10
            }
        }
    }

    public mutating func text(_ utf8: UnsafeBufferPointer<UInt8>) throws(ThingSetStatus) {
        try put(UInt8(ascii: "\""))
        for b in utf8 {
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { try put(UInt8(ascii: "\\")) }
            try put(b)
        }
        try put(UInt8(ascii: "\""))
    }

    public mutating func text(_ name: ThingSetName) throws(ThingSetStatus) {
        try put(UInt8(ascii: "\""))
        for k in 0..<name.count { try put(name.byte(at: k)) }
        try put(UInt8(ascii: "\""))
    }

    public mutating func null() throws(ThingSetStatus) { try put("null") }
    public mutating func arrayHeader(_ count: Int) throws(ThingSetStatus) { try put(UInt8(ascii: "[")) }
    public mutating func arrayEnd() throws(ThingSetStatus) { try put(UInt8(ascii: "]")) }
    public mutating func mapHeader(_ count: Int) throws(ThingSetStatus) { try put(UInt8(ascii: "{")) }
    public mutating func mapEnd() throws(ThingSetStatus) { try put(UInt8(ascii: "}")) }

    public mutating func key(_ object: ThingSetObject) throws(ThingSetStatus) {
        try text(object.name)
    }

    public mutating func mapKey(_ object: ThingSetObject) throws(ThingSetStatus) {
        try text(object.name)
        try put(UInt8(ascii: ":"))
    }

    public mutating func separator() throws(ThingSetStatus) { try put(UInt8(ascii: ",")) }
}

extension ThingSetNode {
    /// Answers a text request (one line, without line end and CRC) into `out`: `:85 <json>`,
    /// `:84`, `:A4`…; returns the answer's length (0: the line was not a request, or a DESIRE).
    public mutating func processText(_ line: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>,
                                     channel: inout ThingSetChannel) -> Int {
        guard out.count >= 4 else { return 0 }
        func status(_ s: ThingSetStatus) -> Int {
            let hex: StaticString = "0123456789ABCDEF"
            out[0] = UInt8(ascii: ":")
            out[1] = hex.utf8Start[Int(s.rawValue >> 4)]
            out[2] = hex.utf8Start[Int(s.rawValue & 0x0F)]
            return 3
        }
        let request: ThingSetRequest
        do {
            guard let r = try ThingSetRequest.parseText(line) else { return 0 }
            request = r
        } catch {
            return status(error)
        }
        var writer = JSONWriter(UnsafeMutableBufferPointer(rebasing: out[4...]))
        var payload = request.payload.map { JSONPayloadReader(line, $0) }
        if request.function == .exec, let p = request.payload, let first = line[p].first(where: { $0 != 0x20 }),
           first != UInt8(ascii: "[") {
            payload?.bareItem = true
        }
        do {
            let result = try dispatch(request, line, &payload, &writer, &channel)
            if request.function == .desire { return 0 }
            let n = status(result)
            guard writer.count > 0 else { return n }
            out[3] = UInt8(ascii: " ")
            return 4 + writer.count
        } catch {
            model.discard()
            if request.function == .desire { return 0 }
            var n = status(error)
            var text = DiagnosticText()
            if model.diagnostic(for: error, into: &text) {
                var w = JSONWriter(UnsafeMutableBufferPointer(rebasing: out[4...]))
                if text.withBytes({ (try? w.text($0)) != nil }) {
                    out[3] = UInt8(ascii: " ")
                    n = 4 + w.count
                }
            }
            return n
        }
    }
}

extension ThingSetNode {
    /// A report of subset `id` (spec §6.2): text `#mLive {"Meas":{…}}` nested by group, or
    /// binary `1F <id> {item id: value}`. Returns its length, 0 when `id` is not a subset or the
    /// report does not fit. Reports are never answered.
    public func report(_ id: UInt16, text: Bool, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        guard let k = model.index(of: id) else { return 0 }
        let subset = model.object(at: k)
        guard case .subset(let bit) = subset.kind else { return 0 }
        var members = 0
        for i in 0..<model.objectCount where model.object(at: i).subsets & (1 << bit) != 0 { members += 1 }
        do throws(ThingSetStatus) {
            if text {
                var w = JSONWriter(out)
                try w.put(UInt8(ascii: "#"))
                for c in 0..<subset.name.count { try w.put(subset.name.byte(at: c)) }
                try w.put(UInt8(ascii: " "))
                try w.mapHeader(0)
                var group: UInt16?
                for i in 0..<model.objectCount {
                    let o = model.object(at: i)
                    guard o.subsets & (1 << bit) != 0 else { continue }
                    if o.parent != group {
                        if group != nil { try w.mapEnd(); try w.separator() }
                        group = o.parent
                        if let g = model.index(of: o.parent) { try w.mapKey(model.object(at: g)) }
                        try w.mapHeader(0)
                    } else {
                        try w.separator()
                    }
                    try w.mapKey(o)
                    try model.encodeValue(o.id, to: &w)
                }
                if group != nil { try w.mapEnd() }
                try w.mapEnd()
                return w.count
            }
            var e = CBOREncoder(CBORWriter(out), useNames: false)
            try e.raw(ThingSetFunction.report.rawValue)
            try e.uint(UInt64(id))
            try e.mapHeader(members)
            for i in 0..<model.objectCount {
                let o = model.object(at: i)
                guard o.subsets & (1 << bit) != 0 else { continue }
                try e.uint(UInt64(o.id))
                try model.encodeValue(o.id, to: &e)
            }
            return e.writer.count
        } catch {
            return 0
        }
    }
}
