import Foundation
import Testing
@testable import PAYG

/// A made-up test device.
let testKey = SipHashKey(bytes: [0x1f, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x79, 0x88, 0x97, 0xa6, 0xb5, 0xc4, 0xd3, 0xe2, 0xf1, 0x00])
let testChain = TokenChain(key: testKey, startingCode: 516_959_010)

func text(_ token: UInt32, restricted: Bool = false) -> [UInt8] {
    let (digits, count) = TokenText.characters(token, restricted: restricted)
    return (0..<count).map { digits[$0] }
}

extension PAYGDevice {
    /// Enters the token for `value` at `count`.
    mutating func enter(value: UInt32, count: UInt32, now: UInt64 = 0) -> TokenResult {
        enter(text(provisioning.chain.token(value: value, count: count)).span, now: now)
    }
}

func freshDevice(divider: UInt8 = 1) -> PAYGDevice {
    PAYGDevice(provisioning: PAYGProvisioning(chain: testChain, timeDivider: divider))
}

@Suite struct PrimitiveTests {
    @Test func sipHashPaperVector() {
        var keyBytes = InlineArray<16, UInt8>(repeating: 0)
        for i in 0..<16 { keyBytes[i] = UInt8(i) }
        let message: [UInt8] = (0..<15).map(UInt8.init)
        #expect(SipHash.hash(message.span, key: SipHashKey(bytes: keyBytes)) == 0xA129_CA61_49BE_45E5)
        // The 8-byte fast path agrees with the general one.
        let eight: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        #expect(SipHash.hash(word: 0x0807_0605_0403_0201, key: testKey) == SipHash.hash(eight.span, key: testKey))
    }

    @Test func squeezeEdges() {
        #expect(TokenChain.squeeze(0x0000_0003) == 0)
        #expect(TokenChain.squeeze(0xEE6B_27FC) == 999_999_999)
        #expect(TokenChain.squeeze(0xEE6B_2800) == 926_258_175)
        #expect(TokenChain.squeeze(0xFFFF_FFFF) == 999_999_998)
        // The fold: high word XOR low word.
        #expect(TokenChain.squeeze(0xFFFF_FFFF_0000_0000) == 999_999_998)
    }

    @Test func restrictedDigitsMapping() throws {
        #expect(text(1, restricted: true) == Array("111111111111112".utf8))
        #expect(text(5, restricted: true) == Array("111111111111122".utf8))
        #expect(text((1 << 30) - 1, restricted: true) == Array("444444444444444".utf8))
        #expect(try TokenText.parse(Array("111111111111122".utf8).span, restricted: true) == 5)
        #expect(throws: TokenText.ParseError.outOfRange) {
            try TokenText.parse(Array("444444444444444".utf8).span, restricted: true)
        }
        #expect(throws: TokenText.ParseError.badCharacter(at: 3)) {
            try TokenText.parse(Array("111511111111122".utf8).span, restricted: true)
        }
        #expect(throws: TokenText.ParseError.wrongLength(14)) {
            try TokenText.parse(Array("11111111111112".utf8).span, restricted: true)
        }
        #expect(throws: TokenText.ParseError.wrongLength(8)) { try TokenText.parse(Array("12345678".utf8).span, restricted: false) }
        #expect(throws: TokenText.ParseError.badCharacter(at: 8)) { try TokenText.parse(Array("12345678x".utf8).span, restricted: false) }
        #expect(text(42) == Array("000000042".utf8))
    }

    @Test func nextCountKeepsTheParity() {
        #expect(TokenCount.next(after: 1, for: .addTime) == 2)
        #expect(TokenCount.next(after: 2, for: .addTime) == 4)
        #expect(TokenCount.next(after: 2, for: .setTime) == 3)
        #expect(TokenCount.next(after: 3, for: .counterSync) == 5)
    }
}

/// Vectors made by the `openpaygo` package 0.6.3 (scripts/interop/payg_vectors.py).
@Suite struct OpenPAYGOVectorTests {
    struct Row: Decodable {
        var key: String, starting_code: UInt32, divider: UInt8, restricted: Bool
        var kind: String, value: Double?, last_count: UInt32, count: UInt32, token: String
    }

    func rows() throws -> [Row] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/openpaygo-0.6.3-vectors.jsonl")
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n")
            .map { try JSONDecoder().decode(Row.self, from: Data($0.utf8)) }
    }

    static func key(_ hex: String) -> SipHashKey {
        var bytes = InlineArray<16, UInt8>(repeating: 0)
        let chars = Array(hex.utf8)
        for i in 0..<16 { bytes[i] = UInt8(String(decoding: chars[2 * i...2 * i + 1], as: UTF8.self), radix: 16)! }
        return SipHashKey(bytes: bytes)
    }

    func tokenValue(_ row: Row) -> UInt32 {
        switch row.kind {
        case "disable": 998
        case "sync": 999
        default: UInt32((row.value! * Double(row.divider)).rounded())
        }
    }

    @Test func ourEncoderMakesTheirTokens() throws {
        let all = try rows()
        #expect(all.count == 96)
        for row in all {
            let chain = TokenChain(key: Self.key(row.key), startingCode: row.starting_code)
            let kind: TokenKind = switch row.kind { case "add": .addTime; case "set": .setTime; case "disable": .disablePAYG; default: .counterSync }
            #expect(TokenCount.next(after: row.last_count, for: kind) == row.count)
            let token = chain.token(value: tokenValue(row), count: row.count)
            #expect(text(token, restricted: row.restricted) == Array(row.token.utf8), "\(row)")
        }
    }

    @Test func ourDecoderAcceptsTheirTokensInOrder() throws {
        var devices: [String: PAYGDevice] = [:]
        for row in try rows() {
            let chain = TokenChain(key: Self.key(row.key), startingCode: row.starting_code)
            var device = devices[row.key] ?? PAYGDevice(provisioning: PAYGProvisioning(
                chain: chain, timeDivider: row.divider, restrictedDigits: row.restricted))
            let result = device.enter(Array(row.token.utf8).span, now: 1000)
            guard case .accepted(let kind, let value, let count) = result else {
                Issue.record("\(row): \(result)")
                continue
            }
            #expect(count == row.count && value == tokenValue(row), "\(row)")
            let expected: TokenKind = switch row.kind { case "add": .addTime; case "set": .setTime; case "disable": .disablePAYG; default: .counterSync }
            #expect(kind == expected)
            // Entered again: used — but for a sync token, which the spec accepts again within
            // its window (it changes nothing and never lowers the count).
            let again = device.enter(Array(row.token.utf8).span, now: 1000)
            #expect(kind == .counterSync ? again == result : again == .alreadyUsed, "\(row): \(again)")
            devices[row.key] = device
        }
    }
}

@Suite struct DecoderScenarioTests {
    @Test func replayGarbageAndTheStartingCode() {
        var d = freshDevice()
        #expect(d.enter(value: 3, count: 2) == .accepted(.addTime, value: 3, count: 2))
        #expect(d.enter(value: 3, count: 2) == .alreadyUsed)
        #expect(d.enter(Array("123456789".utf8).span, now: 0) == .invalid)
        #expect(d.enter(text(testChain.startingCode).span, now: 0) == .invalid)
        #expect(d.secondsLeft(now: 0) == 3 * 86_400)
    }

    @Test func unorderedAddWithinTheWindowAndNoCarryOver() {
        var d = freshDevice()
        #expect(d.enter(value: 1, count: 6, now: 0) == .accepted(.addTime, value: 1, count: 6))
        #expect(d.enter(value: 1, count: 2, now: 0) == .accepted(.addTime, value: 1, count: 2))
        #expect(d.enter(value: 1, count: 4, now: 0) == .accepted(.addTime, value: 1, count: 4))
        #expect(d.secondsLeft(now: 0) == 3 * 86_400)
        // Expired credit does not carry over: 10 days later one day is one day.
        #expect(d.enter(value: 1, count: 8, now: 10 * 86_400) == .accepted(.addTime, value: 1, count: 8))
        #expect(d.secondsLeft(now: 10 * 86_400) == 86_400)
    }

    @Test func setBlocksOlderAddAndTheCBitmapRegression() {
        var d = freshDevice()
        for c: UInt32 in [2, 4, 6, 8] { _ = d.enter(value: 1, count: c) }
        #expect(d.enter(value: 1, count: 4) == .alreadyUsed)
        #expect(d.enter(value: 1, count: 2) == .alreadyUsed)
        var e = freshDevice()
        #expect(e.enter(value: 5, count: 9) == .accepted(.setTime, value: 5, count: 9))
        #expect(e.enter(value: 1, count: 6) == .alreadyUsed)   // older than the set
    }

    @Test func windowEdges() {
        var d = freshDevice()
        #expect(d.enter(value: 1, count: 1 + 64) != .invalid)        // maxCount + 64 accepted… (odd: set)
        var e = freshDevice()
        #expect(e.enter(value: 1, count: 1 + 65) == .invalid)        // … + 65 not
        // Older window: with maxCount 40, count 24 (= 40 − 16) refused, 26 (= 40 − 14) accepted.
        var f = freshDevice()
        _ = f.enter(value: 1, count: 40)
        #expect(f.enter(value: 1, count: 24) == .alreadyUsed)
        #expect(f.enter(value: 1, count: 26) == .accepted(.addTime, value: 1, count: 26))
    }

    @Test func syncEdgesNeverLowerTheCount() {
        var d = freshDevice()
        #expect(d.enter(value: 999, count: 101) == .accepted(.counterSync, value: 999, count: 101))
        var e = freshDevice()
        #expect(e.enter(value: 999, count: 103) == .invalid)
        // Behind: accepted down to maxCount − 63, and the count stays.
        #expect(d.enter(value: 999, count: 39) == .accepted(.counterSync, value: 999, count: 39))
        #expect(d.state.maxCount == 101)
        #expect(d.enter(value: 999, count: 37) == .alreadyUsed)
        // An old sync does not reopen newer tokens.
        var f = freshDevice()
        _ = f.enter(value: 1, count: 2)
        _ = f.enter(value: 1, count: 4)
        _ = f.enter(value: 999, count: 3)
        #expect(f.enter(value: 1, count: 4) == .alreadyUsed)
    }

    @Test func disableThenSetZeroRelocksThenAdd() {
        var d = freshDevice()
        #expect(d.enter(value: 998, count: 3) == .accepted(.disablePAYG, value: 998, count: 3))
        #expect(d.isActive(now: 10_000_000))
        #expect(d.enter(value: 0, count: 5, now: 100) == .accepted(.setTime, value: 0, count: 5))
        #expect(!d.isActive(now: 100))
        #expect(d.enter(value: 2, count: 6, now: 100) == .accepted(.addTime, value: 2, count: 6))
        #expect(d.isActive(now: 100) && d.secondsLeft(now: 100) == 2 * 86_400)
    }

    @Test func dividerFourArithmetic() {
        var d = freshDevice(divider: 4)
        _ = d.enter(value: 10, count: 2, now: 0)
        #expect(d.secondsLeft(now: 0) == 216_000)   // 2.5 days
    }

    @Test func restrictedEntryRejectsBadDigitsAsInvalid() {
        var d = PAYGDevice(provisioning: PAYGProvisioning(chain: testChain, restrictedDigits: true))
        let token = testChain.token(value: 7, count: 2)
        #expect(d.enter(text(token, restricted: true).span, now: 0) == .accepted(.addTime, value: 7, count: 2))
        #expect(d.enter(Array("111511111111122".utf8).span, now: 0) == .invalid)
        #expect(d.enter(text(token).span, now: 0) == .invalid)   // 9 digits on a 4-key device
    }

    @Test func lockoutDoublesAndSurvivesAPowerCycle() {
        var d = freshDevice()
        let garbage = Array("000000001".utf8)
        #expect(d.enter(garbage.span, now: 0) == .invalid)
        #expect(d.enter(garbage.span, now: 0) == .invalid)       // two typos: no lock
        #expect(d.enter(garbage.span, now: 0) == .invalid)       // third: 2 min
        #expect(d.enter(garbage.span, now: 60) == .lockedOut(secondsLeft: 60))
        // Power cycle: the state is stored and read back; the lock holds on the device clock.
        var rebooted = PAYGDevice(provisioning: d.provisioning, state: d.state)
        #expect(rebooted.enter(value: 1, count: 2, now: 119) == .lockedOut(secondsLeft: 1))
        #expect(rebooted.enter(garbage.span, now: 120) == .invalid)   // fourth: 4 min
        #expect(rebooted.state.lockedUntil == 120 + 240)
        // A locked entry neither decodes nor extends the lock; a valid one clears the streak.
        #expect(rebooted.enter(value: 1, count: 2, now: 360) == .accepted(.addTime, value: 1, count: 2))
        #expect(rebooted.state.invalidStreak == 0)
        // The cap: the eleventh and later invalid entries lock for 512 min.
        var e = freshDevice()
        var now: UInt64 = 0
        for _ in 0..<12 {
            now = max(now, e.state.lockedUntil)
            _ = e.enter(garbage.span, now: now)
        }
        #expect(e.state.lockedUntil - now == 512 * 60)
    }
}

/// No sequence of entries yields more credit than the distinct valid add-time tokens in it.
@Suite struct CreditPropertyTests {
    @Test func noSequenceGivesMoreThanTheDistinctAddTokens() {
        var seed: UInt64 = 0x5EED
        func random(_ n: Int) -> Int {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((seed >> 33) % UInt64(n))
        }
        // A pool: add tokens (even counts 2…60, values 1…30), a few garbage ones.
        var pool: [(token: UInt32, value: UInt32?)] = []
        for c in stride(from: UInt32(2), through: 60, by: 2) {
            let v = UInt32(1 + (c * 7) % 30)
            pool.append((testChain.token(value: v, count: c), v))
        }
        for g in 0..<5 { pool.append((UInt32(100_000_000 + g * 7919), nil)) }
        for _ in 0..<200 {
            var d = freshDevice()
            var entered = Set<UInt32>()
            for _ in 0..<(5 + random(40)) {
                let pick = pool[random(pool.count)]
                _ = d.enter(token: pick.token, now: 0)
                entered.insert(pick.token)
                _ = d.enter(token: pick.token, now: 0)                 // and a replay
            }
            let ceiling = pool.filter { $0.value != nil && entered.contains($0.token) }
                .reduce(UInt64(0)) { $0 + UInt64($1.value!) * 86_400 }
            #expect(d.secondsLeft(now: 0) <= ceiling)
        }
    }
}
