/// Exercises the PAYG decoder so the linker keeps it; see check.sh.
import PAYG

@main struct LinkCheckPAYG {
    static func main() {
        var key = InlineArray<16, UInt8>(repeating: 0)
        for i in 0..<16 { key[i] = UInt8(i * 17 & 0xFF) }
        let chain = TokenChain(key: SipHashKey(bytes: key), startingCode: 123_456_789)
        var device = PAYGDevice(provisioning: PAYGProvisioning(chain: chain, timeDivider: 4))
        let token = chain.token(value: 10, count: 2)
        let (digits, count) = TokenText.characters(token, restricted: false)
        var sink: UInt32 = UInt32(count)
        switch device.enter(digits.span.extracting(0..<count), now: 1000) {
        case .accepted(let kind, let value, let c): sink &+= UInt32(kind.rawValue) &+ value &+ c
        case .alreadyUsed, .invalid: sink &+= 1
        case .lockedOut(let s): sink &+= UInt32(truncatingIfNeeded: s)
        }
        if device.isActive(now: 2000) { sink &+= UInt32(truncatingIfNeeded: device.secondsLeft(now: 2000)) }
        sink &+= TokenCount.next(after: 3, for: .addTime)
        var clock = DeviceClock(resumingFrom: 1000)
        if clock.advance(milliseconds: 4_000_000) {
            let record = PAYGRecord(state: device.state, clock: clock.seconds).encoded()
            if let back = try? PAYGRecord(bytes: record.span) { sink &+= UInt32(truncatingIfNeeded: back.clock) }
        }
        var keypad = KeypadEntry(restricted: true)
        if case .token(_, let n) = keypad.key(0x2A) { sink &+= UInt32(n) }
        if sink == 0x1234_5678 { fatalError() }
    }
}
