import BMSCore
import PAYG
import ThingSet

/// The serial console of the BMS: ThingSet text mode (spec §9) and keypad-style token entry
/// (the pay-as-you-go issue) on one line-based port. A line that starts with `*` is a token
/// (`*040 575 064`); a line that is only `#` asks for the credit; every other line goes to
/// ThingSet (reports such as `#mLive …` are not requests and get no answer).
public struct Console: Sendable {
    public var serial = ThingSetSerialPort()
    var keypad: KeypadEntry

    public init(restrictedDigits: Bool = false) {
        keypad = KeypadEntry(restricted: restrictedDigits)
    }

    /// Reports may be printed now (no shell-style ThingSet client on the port).
    public var unsolicitedOutputAllowed: Bool { serial.unsolicitedOutputAllowed }

    /// Handles one received line (without LF); writes the answer line (without line end) into
    /// `out` and returns its length, 0 for none.
    public mutating func process(_ line: UnsafeMutableBufferPointer<UInt8>, count: Int,
                                 node: inout ThingSetNode<BMSObjects>, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        var n = min(count, line.count)
        while n > 0 && (line[n - 1] == 0x0D || line[n - 1] == 0x20) { n -= 1 }
        var first = 0
        while first < n && line[first] == 0x20 { first += 1 }
        guard first < n else { return 0 }
        let isToken = line[first] == UInt8(ascii: "*")
        let isStatus = line[first] == UInt8(ascii: "#") && n - first == 1
        guard isToken || isStatus else { return serial.process(line, count: count, node: &node, into: out) }
        // Each line is a whole entry: nothing carries over from an incomplete one.
        keypad = KeypadEntry(restricted: keypad.restricted)
        var text = TextLine(out)
        var entered = false
        for k in first..<n {
            switch keypad.key(line[k]) {
            case .pending:
                continue
            case .status:
                status(node.model, &text)
                return text.count
            case .cancelled:
                text.put("PAYG: entry cancelled; start again with *")
                return text.count
            case .token(let digits, let count):
                entered = true
                var d = digits
                let outcome = withUnsafeBytes(of: &d) { raw in
                    node.model.enterToken(UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[0..<count]))
                }
                switch outcome {
                case nil: text.put("PAYG: this unit has no pay-as-you-go")
                case .accepted?: text.put("PAYG: accepted; "); credit(node.model, &text)
                case .alreadyUsed?: text.put("PAYG: this token was already used; "); credit(node.model, &text)
                case .invalid?: text.put("PAYG: not a valid token for this unit")
                case .lockedOut?: text.put("PAYG: too many wrong tokens; "); lockout(node.model, &text)
                }
            }
        }
        if !entered { text.put("PAYG: incomplete token (9 digits after *)") }
        return text.count
    }

    func status(_ model: BMSObjects, _ text: inout TextLine) {
        guard model.payg != nil else {
            text.put("PAYG: this unit has no pay-as-you-go")
            return
        }
        text.put("PAYG: ")
        credit(model, &text)
    }

    func credit(_ model: BMSObjects, _ text: inout TextLine) {
        guard let device = model.payg else { return }
        guard device.state.enabled else {
            text.put("paid off, no credit needed")
            return
        }
        let left = device.secondsLeft(now: model.paygNow)
        if left == 0 {
            text.put(model.bms.payg.locked ? "no credit, discharge off" : "no credit left")
            return
        }
        text.put("credit ")
        text.duration(left)
        text.put(" left")
    }

    func lockout(_ model: BMSObjects, _ text: inout TextLine) {
        let until = model.payg?.state.lockedUntil ?? 0
        text.put("try again in ")
        text.duration(until > model.paygNow ? until - model.paygNow : 0)
    }
}

/// A line of text written into a caller's buffer (no allocation).
struct TextLine {
    let buffer: UnsafeMutableBufferPointer<UInt8>
    var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

    mutating func put(_ s: StaticString) {
        for k in 0..<s.utf8CodeUnitCount where count < buffer.count {
            buffer[count] = s.utf8Start[k]
            count += 1
        }
    }

    mutating func number(_ v: UInt64) {
        var d = InlineArray<20, UInt8>(repeating: 0)
        var n = 0, x = v
        repeat { d[n] = UInt8(x % 10) + 0x30; x /= 10; n += 1 } while x > 0
        while n > 0 && count < buffer.count { n -= 1; buffer[count] = d[n]; count += 1 }
    }

    /// `2 d 3 h`, `5 h 20 min`, `45 min`, `30 s`.
    mutating func duration(_ seconds: UInt64) {
        let days = seconds / 86_400, hours = seconds % 86_400 / 3600, minutes = seconds % 3600 / 60
        if days > 0 {
            number(days); put(" d "); number(hours); put(" h")
        } else if hours > 0 {
            number(hours); put(" h "); number(minutes); put(" min")
        } else if minutes > 0 {
            number(minutes); put(" min")
        } else {
            number(seconds); put(" s")
        }
    }
}
