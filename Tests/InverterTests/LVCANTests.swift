import Testing
@testable import Inverter

/// Payload bytes of a frame, for comparison with the spec's hex vectors.
func hex(_ f: InverterFrame) -> String {
    var parts: [String] = []
    for i in 0..<f.count {
        let s = String(f[i], radix: 16, uppercase: true)
        parts.append(s.count == 1 ? "0" + s : s)
    }
    return parts.joined(separator: " ")
}

func report(_ body: (inout BatteryReport) -> Void) -> BatteryReport {
    var r = BatteryReport()
    r.chargeAllowed = true
    r.dischargeAllowed = true
    r.voltage = 52
    r.chargeVoltageLimit = 56.8
    r.dischargeVoltageLimit = 44.8
    body(&r)
    return r
}

let pylon = InverterSettings(profile: .pylon)
let sma = InverterSettings(profile: .sma)
let victron = InverterSettings(profile: .victron)

/// The test vectors of `specs/inverter-protocols.md` §1.9, computed there independently.
@Suite struct SpecVectorTests {
    @Test func limits() {
        let r = report {
            $0.chargeVoltageLimit = 53.2; $0.chargeCurrentLimit = 100
            $0.dischargeCurrentLimit = 150; $0.dischargeVoltageLimit = 46
        }
        for settings in [pylon, sma, victron] {
            #expect(hex(LVCAN.frame(0x351, report: r, settings: settings)) == "14 02 E8 03 DC 05 CC 01")
        }
    }

    @Test func stateOfChargeAndHealth() {
        let r = report { $0.stateOfCharge = 0.6745; $0.stateOfHealth = 0.98 }
        #expect(hex(LVCAN.frame(0x355, report: r, settings: pylon)) == "43 00 62 00")
        #expect(hex(LVCAN.frame(0x355, report: r, settings: sma)) == "43 00 62 00 59 1A")
        #expect(hex(LVCAN.frame(0x355, report: r, settings: victron)) == "43 00 62 00 59 1A 00 00")
    }

    @Test func measurements() {
        let r = report { $0.voltage = 52.31; $0.current = -12.3; $0.temperature = 23.4 }
        #expect(hex(LVCAN.frame(0x356, report: r, settings: pylon)) == "6F 14 85 FF EA 00")
        #expect(hex(LVCAN.frame(0x356, report: r, settings: sma)) == "6F 14 85 FF EA 00")
    }

    @Test func pylonFlags() {
        let r = report {
            $0.protections = [.lowVoltage]
            $0.warnings = [.highChargeCurrent]
            $0.modulesOnline = 4
        }
        #expect(hex(LVCAN.frame(0x359, report: r, settings: pylon)) == "04 00 00 01 04 50 4E")
    }

    @Test func requests() {
        let r = report { $0.requests = [.forceCharge1] }
        #expect(hex(LVCAN.frame(0x35C, report: r, settings: pylon)) == "E0 00")
        let chargeOnly = report { $0.dischargeAllowed = false }
        #expect(hex(LVCAN.frame(0x35C, report: chargeOnly, settings: pylon)) == "80 00")
    }

    @Test func alarmPairs() {
        // A low-voltage alarm raises its pair and "general": 0x99 (spec §1.3, 0x35A).
        let r = report { $0.protections = [.lowVoltage] }
        #expect(hex(LVCAN.frame(0x35A, report: r, settings: sma)) == "99 AA AA 02 AA AA AA 02")
        #expect(hex(LVCAN.frame(0x35A, report: report { _ in }, settings: sma)) == "AA AA AA 02 AA AA AA 02")
        // Each condition lands in its own pair, trips in bytes 0-3 and warnings in 4-7.
        let w = report { $0.warnings = [.shortCircuit, .cellImbalance]; $0.protections = [.highChargeTemperature] }
        #expect(hex(LVCAN.frame(0x35A, report: w, settings: victron)) == "A9 A6 AA 02 A9 AA 9A 01")
    }

    @Test func victronExtensions() {
        let r = report {
            $0.minCellVoltage = 3.306; $0.maxCellVoltage = 3.329
            $0.minTemperature = 13.85; $0.maxTemperature = 16.85
            $0.chargedEnergy = 211.2; $0.dischargedEnergy = 183.5
            $0.installedCapacity = 280
            $0.minCell = .init(index: 7); $0.maxCell = .init(index: 12)
            $0.coldest = .init(pack: 2, index: 3); $0.warmest = .init(pack: 12, index: 16)
            $0.modulesOnline = 3; $0.modulesBlockingCharge = 1
        }
        #expect(hex(LVCAN.frame(0x373, report: r, settings: victron)) == "EA 0C 01 0D 1F 01 22 01")
        #expect(hex(LVCAN.frame(0x378, report: r, settings: victron)) == "40 08 00 00 2B 07 00 00")
        #expect(hex(LVCAN.frame(0x379, report: r, settings: victron)) == "18 01 00 00 00 00 00 00")
        #expect(hex(LVCAN.frame(0x372, report: r, settings: victron)) == "03 00 01 00 00 00 00 00")
        #expect(hex(LVCAN.frame(0x374, report: r, settings: victron)) == "43 37 00 00 00 00 00 00")  // C7
        #expect(hex(LVCAN.frame(0x375, report: r, settings: victron)) == "43 31 32 00 00 00 00 00")  // C12
        #expect(hex(LVCAN.frame(0x376, report: r, settings: victron)) == "50 32 54 33 00 00 00 00")  // P2T3
        #expect(hex(LVCAN.frame(0x377, report: r, settings: victron)) == "50 31 32 54 31 36 00 00")  // P12T16
    }

    @Test func namesAndInfo() {
        #expect(hex(LVCAN.frame(0x35E, report: report { _ in }, settings: pylon)) == "50 59 4C 4F 4E 20 20 20")
        var named = InverterSettings(profile: .victron)
        let accepted = named.setName("FlexBMS Pack A")
        #expect(accepted)
        #expect(hex(LVCAN.frame(0x370, report: report { _ in }, settings: named)) == "46 6C 65 78 42 4D 53 20")
        #expect(hex(LVCAN.frame(0x371, report: report { _ in }, settings: named)) == "50 61 63 6B 20 41 00 00")
        #expect(hex(LVCAN.frame(0x35E, report: report { _ in }, settings: named)) == "46 6C 65 78 42 4D 53 20")
        let tooLong = named.setName("a name that is far too long"), empty = named.setName("")
        #expect(!tooLong && !empty)
        #expect(hex(LVCAN.frame(0x370, report: report { _ in }, settings: named)) == "46 6C 65 78 42 4D 53 20")
        // 0x35F: "Li", version 0.1, capacity; SMA marks the unused manufacturer field invalid.
        let r = report { $0.installedCapacity = 280; $0.stateOfHealth = 0.9 }
        #expect(hex(LVCAN.frame(0x35F, report: r, settings: sma)) == "4C 69 00 01 18 01 FF FF")
        #expect(hex(LVCAN.frame(0x35F, report: r, settings: victron)) == "4C 69 00 01 FC 00 00 00")  // 252 Ah available
    }
}

@Suite struct LimitRuleTests {
    @Test func aBlockedDirectionIsSentWithZeroCurrentAndChargeHeldAtThePresentVoltage() {
        let r = report {
            $0.chargeAllowed = false; $0.chargeCurrentLimit = 80; $0.dischargeCurrentLimit = 90
            $0.voltage = 55.31; $0.chargeVoltageLimit = 56.8
        }
        let f = LVCAN.frame(0x351, report: r, settings: victron)
        #expect(f.u16(at: 0) == 553)   // 55.3 V, not 56.8 and never 0
        #expect(f.s16(at: 2) == 0)
        #expect(f.s16(at: 4) == 900)
        let d = LVCAN.frame(0x351, report: report { $0.dischargeAllowed = false; $0.dischargeCurrentLimit = 90 },
                            settings: pylon)
        #expect(d.s16(at: 4) == 0)
    }

    @Test func theChargeVoltageIsNeverZero() {
        let r = report { $0.chargeVoltageLimit = 0; $0.dischargeVoltageLimit = 0; $0.voltage = 0; $0.chargeAllowed = false }
        #expect(LVCAN.frame(0x351, report: r, settings: victron).u16(at: 0) == 1)
        let dvl = report { $0.chargeVoltageLimit = 0; $0.dischargeVoltageLimit = 44.8 }
        #expect(LVCAN.frame(0x351, report: dvl, settings: victron).u16(at: 0) == 448)
    }

    @Test func socIsCappedAt99UntilFull() {
        let almost = report { $0.stateOfCharge = 0.998 }
        #expect(LVCAN.frame(0x355, report: almost, settings: sma).u16(at: 0) == 99)
        #expect(LVCAN.frame(0x355, report: almost, settings: sma).u16(at: 4) == 9900)
        let full = report { $0.stateOfCharge = 0.998; $0.full = true }
        #expect(LVCAN.frame(0x355, report: full, settings: sma).u16(at: 0) == 100)
        var uncapped = sma
        uncapped.capSOCBelowFull = false
        #expect(LVCAN.frame(0x355, report: almost, settings: uncapped).u16(at: 4) == 9980)
    }

    @Test func valuesBeyondAFieldAreClampedNotWrapped() {
        let r = report { $0.current = -4000; $0.voltage = 400; $0.temperature = .nan; $0.stateOfCharge = 1.5 }
        let f = LVCAN.frame(0x356, report: r, settings: pylon)
        #expect(f.s16(at: 0) == Int16.max)
        #expect(f.s16(at: 2) == Int16.min)
        #expect(f.s16(at: 4) == 0)
        #expect(LVCAN.frame(0x355, report: r, settings: pylon).u16(at: 0) == 99)
    }

    @Test func everyFrameOfEveryProfileHasItsDocumentedLength() {
        let r = report { _ in }
        for profile in InverterProfile.allCases {
            let s = InverterSettings(profile: profile)
            for i in 0..<profile.frameCount {
                let id = profile.frameID(at: i)
                let expected: Int
                switch (profile, id) {
                case (.pylon, 0x355): expected = 4
                case (.pylon, 0x356), (.sma, 0x356), (.sma, 0x355): expected = 6
                case (.pylon, 0x359): expected = 7
                case (.pylon, 0x35C): expected = 2
                default: expected = 8
                }
                #expect(LVCAN.frame(id, report: r, settings: s).count == expected, "\(profile.name) \(id)")
            }
        }
    }
}

@Suite struct ScheduleTests {
    @Test func theSetIsSpreadOverASecondAndStartsAtOnce() {
        var s = LVCANSchedule(profile: .pylon)
        #expect(s.spacingMs == 100)
        var sent: [(UInt16, UInt32)] = []
        for t in stride(from: UInt32(5000), through: 7000, by: 10) {
            while let f = s.next(now: t) { sent.append((f.id, f.due)) }
        }
        #expect(sent.first?.0 == 0x351 && sent.first?.1 == 5000)
        #expect(sent.prefix(6).map { $0.1 } == [5000, 5100, 5200, 5300, 5400, 5500])
        #expect(sent.count == 13)  // two sets, and the first frame of the third at 7000
        #expect(sent[6].0 == 0x351 && sent[6].1 == 6000)
        #expect(LVCANSchedule(profile: .victron).spacingMs == 58)
    }

    @Test func noIdentifierIsEverSentFasterThan200msWhateverThePolling() {
        for profile in InverterProfile.allCases {
            var s = LVCANSchedule(profile: profile)
            var last: [UInt16: UInt32] = [:]
            var t: UInt32 = 0xFFFF_0000  // across the clock's wrap
            var rng = SystemRandomNumberGenerator()
            for _ in 0..<3000 {
                t &+= UInt32.random(in: 1...700, using: &rng)
                while let f = s.next(now: t) {
                    if let previous = last[f.id] { #expect(f.due &- previous >= 200) }
                    last[f.id] = f.due
                    #expect(Int32(bitPattern: t &- f.due) >= 0)
                }
            }
            #expect(last.count == profile.frameCount)
        }
    }

    @Test func aStalledCallerRestartsTheSetInsteadOfBursting() {
        var s = LVCANSchedule(profile: .sma)
        _ = s.next(now: 0)
        var late: [UInt32] = []
        while let f = s.next(now: 10_000) { late.append(f.due) }
        #expect(late == [10_000])  // one frame now, the rest at their spacing from here
        #expect(s.next(now: 10_099) == nil)
        #expect(s.next(now: 10_100)?.due == 10_100)
    }
}

@Suite struct KeepAliveTests {
    @Test func silenceIsReportedOnceAtTheTimeoutAndEndedByTheNextKeepAlive() {
        var k = InverterKeepAlive(timeoutMs: 30_000)
        #expect(k.poll(now: 100_000) == nil)  // never heard: nothing to lose yet
        let keepAlive = InverterFrame(id: 0x305, data: [0, 0, 0, 0, 0, 0, 0, 0])
        #expect(k.receive(keepAlive, at: 1000) == .heard)
        #expect(k.receive(keepAlive, at: 2000) == nil)
        #expect(k.poll(now: 31_999) == nil)
        #expect(k.poll(now: 32_000) == .silent)
        #expect(k.poll(now: 40_000) == nil)
        #expect(k.receive(InverterFrame(id: 0x356, data: [1, 2]), at: 41_000) == nil)
        #expect(k.receive(keepAlive, at: 42_000) == .heard)
        #expect(k.inverterView == nil)  // Pylon-style keep-alives carry no values
    }

    @Test func anSMAKeepAliveCarriesItsViewOfTheBatteryWithTheCurrentSignTurned() {
        var k = InverterKeepAlive()
        // 52.3 V, SMA -12.5 A (charging in its sign), 24.6 °C, SOC 67.5 %.
        let f = InverterFrame(id: 0x305, data: [0x0B, 0x02, 0x83, 0xFF, 0xF6, 0x00, 0xA3, 0x02])
        #expect(k.receive(f, at: 0) == .heard)
        let v = k.inverterView
        #expect(abs((v?.voltage ?? 0) - 52.3) < 1e-4)
        #expect(abs((v?.current ?? 0) - 12.5) < 1e-4)
        #expect(abs((v?.temperature ?? 0) - 24.6) < 1e-4)
        #expect(abs((v?.stateOfCharge ?? 0) - 0.675) < 1e-5)
        #expect(InverterView(InverterFrame(id: 0x305, data: [1, 2, 3])) == nil)  // too short
    }
}

@Suite struct PylonAlarmByteTests {
    @Test func onlyTheBMSsOwnTroubleIsAnInternalCommunicationAlarm() {
        let imbalance = report { $0.warnings = [.cellImbalance, .contactor] }
        #expect(hex(LVCAN.frame(0x359, report: imbalance, settings: pylon)).hasPrefix("00 00 00 00"))
        let own = report { $0.warnings = [.internalError] }
        #expect(hex(LVCAN.frame(0x359, report: own, settings: pylon)).hasPrefix("00 00 00 08"))
        let tripped = report { $0.protections = [.cellImbalance] }
        #expect(hex(LVCAN.frame(0x359, report: tripped, settings: pylon)).hasPrefix("00 08 00 00"))
    }
}

@Suite struct ExpediteTests {
    @Test func fallenLimitsGoOutAtOnceButNeverFasterThan200ms() {
        var s = LVCANSchedule(profile: .pylon)
        var sent: [(UInt16, UInt32)] = []
        func run(_ from: UInt32, _ to: UInt32) {
            for t in stride(from: from, through: to, by: 10) {
                while let f = s.next(now: t) { sent.append((f.id, f.due)) }
            }
        }
        run(0, 640)                       // 0x351 at 0, the rest of the set to 500
        s.expediteLimits()
        run(650, 650)
        #expect(sent.last.map { $0 == (0x351, 650) } == true)
        s.expediteLimits()
        run(660, 840)                     // wanted again, but only 200 ms after 650
        #expect(sent.filter { $0.0 == 0x351 }.map(\.1) == [0, 650])
        run(850, 2000)
        // 850: the second request; the slot at 1000 would repeat it within 200 ms: skipped.
        let limits = sent.filter { $0.0 == 0x351 }.map(\.1)
        #expect(limits == [0, 650, 850, 2000])
        for (a, b) in zip(limits, limits.dropFirst()) { #expect(b - a >= 200) }
        #expect(sent.filter { $0.0 == 0x355 }.map(\.1) == [100, 1100])   // the rest of the set keeps its slots
    }
}
