import Testing
@testable import PAYG

@Suite struct PAYGRecordTests {
    @Test func roundTripAndDamage() throws {
        var state = PAYGState(maxCount: 4711)
        state.usedMask = 0xA5A5
        state.enabled = false
        state.activeUntil = 1_234_567_890_123
        state.invalidStreak = 7
        state.lockedUntil = 99_999
        let record = PAYGRecord(state: state, clock: 86_400 * 400)
        let bytes = record.encoded()
        #expect(try PAYGRecord(bytes: bytes.span) == record)
        var damaged = (0..<40).map { bytes[$0] }
        damaged[20] ^= 1
        #expect(throws: PAYGRecord.DecodeError.checksumMismatch) { try PAYGRecord(bytes: damaged.span) }
        damaged = (0..<40).map { bytes[$0] }
        damaged[0] = 0
        #expect(throws: PAYGRecord.DecodeError.notARecord) { try PAYGRecord(bytes: damaged.span) }
        #expect(throws: PAYGRecord.DecodeError.wrongLength(39)) { try PAYGRecord(bytes: Array(damaged.prefix(39)).span) }
    }

    @Test func theClockNeverGivesCreditAcrossAReset() {
        var clock = DeviceClock(resumingFrom: 0, saveInterval: 600, isNewDevice: true)
        var stores = 0
        for _ in 0..<(25 * 60) { if clock.advance(milliseconds: 1000) { stores += 1 } }   // 25 min
        #expect(clock.seconds == 1500 && stores == 2 && clock.savedSeconds == 1200)
        // Reset: the device resumes at the stored 1200 s plus a whole interval — ahead of the
        // 1500 s it really ran, never behind.
        let resumed = DeviceClock(resumingFrom: clock.savedSeconds, saveInterval: 600)
        #expect(resumed.seconds == 1800 && resumed.seconds >= clock.seconds)
        // Sub-second steps add up.
        var fine = DeviceClock(resumingFrom: 0, isNewDevice: true)
        for _ in 0..<25 { _ = fine.advance(milliseconds: 100) }
        #expect(fine.seconds == 2)
    }

    @Test func keypadEntry() {
        var keypad = KeypadEntry(restricted: false)
        var result: KeypadEntry.Input = .pending
        for c in Array("*123 456 789".utf8) { result = keypad.key(c) }
        guard case .token(let digits, let count) = result else { Issue.record("\(result)"); return }
        #expect(count == 9 && (0..<9).map { digits[$0] } == Array("123456789".utf8))
        // Digits without `*` are ignored; `#` alone asks for the status; a letter cancels.
        for c in Array("12".utf8) { #expect({ if case .pending = keypad.key(c) { true } else { false } }()) }
        #expect({ if case .status = keypad.key(0x23) { true } else { false } }())
        _ = keypad.key(0x2A); _ = keypad.key(0x31)
        #expect({ if case .cancelled = keypad.key(0x41) { true } else { false } }())
        var four = KeypadEntry(restricted: true)
        _ = four.key(0x2A)
        for c in Array("11111111111112".utf8) { _ = four.key(c) }
        guard case .token(_, let n) = four.key(0x32) else { Issue.record("no token"); return }
        #expect(n == 15)
    }
}
