import BMSCore
import Testing
import PAYG
import ThingSet
@testable import Firmware

/// A 16S LFP 100 Ah BMS after one measurement, behind a ThingSet node.
func node() -> ThingSetNode<BMSObjects> {
    var bms = try! BatteryManager(config: BMSConfig.preset(.lfp, cells: 16, capacityAh: 100)!)
    var m = Measurement(timestamp: Timestamp(milliseconds: 0), cellVoltage: 3.3, current: -5)
    m.cellVoltages[4] = 3.31
    m.addTemperature(25, role: .cell)
    m.addTemperature(31, role: .mosfet)
    m.stackVoltage = 52.81
    m.packVoltage = 52.8
    _ = bms.step(m, now: Timestamp(milliseconds: 0))
    var id = InlineArray<16, UInt8>(repeating: UInt8(ascii: "0"))
    id[15] = UInt8(ascii: "1")
    var objects = BMSObjects(bms: bms, tokens: AuthTokens(expert: "expert", manufacturer: "maker"), nodeID: id,
                             firmwareVersion: "test", now: Timestamp(milliseconds: 0))
    objects.measurement = m
    return ThingSetNode(model: objects)
}

func bytes(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = s.filter { $0 != " " }.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
    return out
}

func ask(_ n: inout ThingSetNode<BMSObjects>, _ request: String, _ channel: inout ThingSetChannel) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 1024)
    let count = bytes(request).withUnsafeBufferPointer { m in
        out.withUnsafeMutableBufferPointer { o in n.processBinary(m, into: o, channel: &channel) }
    }
    return Array(out[0..<count])
}

@Suite struct BMSObjectsTests {
    @Test func everyObjectHasItsOwnIDAndEverySettingIsThere() {
        let model = node().model
        var ids = Set<UInt16>()
        for k in 0..<model.objectCount { ids.insert(model.object(at: k).id) }
        #expect(ids.count == model.objectCount)
        // The reference firmware's IDs where it has them.
        for (id, name) in [(0x60, "sCellOvervoltage_V"), (0x50, "sNominalCapacity_Ah"), (0x6A, "sBalIdleDelay_s"),
                           (0x7C, "rSOC_pct"), (0x80, "rCellVoltages_V"), (0xB0, "sOcvPoints_V"), (0x90, "wChgEnable")] {
            let o = model.object(at: model.index(of: UInt16(id))!)
            let text = String(decoding: (0..<o.name.count).map { o.name.byte(at: $0) }, as: UTF8.self)
            #expect(text == name)
        }
        // Per-fault settings by the fault's number: sShortCircuitRecoveryDelay_s.
        let sc = model.object(at: model.index(of: 0x140 + 3 * UInt16(Fault.shortCircuit.rawValue))!)
        #expect(String(decoding: (0..<sc.name.count).map { sc.name.byte(at: $0) }, as: UTF8.self) == "sShortCircuitRecoveryDelay_s")
        // All 59 single settings, the 48 recovery settings and 4 arrays in Conf.
        var conf = 0
        for k in 0..<model.objectCount where model.object(at: k).parent == 0x05 {
            if case .item = model.object(at: k).kind { conf += 1 }
        }
        #expect(conf == ConfigField.singleValueCount + 4)
    }

    @Test func readsTheLiveValues() {
        var n = node()
        var c = ThingSetChannel()
        // rBmsState: NORMAL (3); rCellMaxVoltage_V 3.31; rErrorFlags 0.
        #expect(ask(&n, "01 18 7F", &c) == bytes("85 F6 03"))
        #expect(ask(&n, "01 18 83", &c) == bytes("85 F6 FA") + withUnsafeBytes(of: Float(3.31).bitPattern.bigEndian, Array.init))
        #expect(ask(&n, "01 18 7E", &c) == bytes("85 F6 00"))
        // rCellVoltages_V: an array of 16 float32.
        let cells = ask(&n, "01 18 80", &c)
        #expect(cells.prefix(3) == [0x85, 0xF6, 0x90] && cells.count == 3 + 16 * 5)
        // pNodeID and the live subset.
        #expect(ask(&n, "01 18 1D", &c) == bytes("85 F6 70") + Array("0000000000000001".utf8))
        #expect(ask(&n, "01 18 31", &c).prefix(3) == [0x85, 0xF6, 0x8D])   // 13 live items
    }

    @Test func configurationWritesNeedAnExpertAndAreValidatedWhole() {
        var n = node()
        var c = ThingSetChannel()
        // sCellOvervoltage_V = 3.70: refused to a user (A1).
        #expect(ask(&n, "07 05 A1 18 60 FA 40 6C CC CD", &c) == bytes("A1 F6 F6"))
        // xAuth "expert", then accepted and applied.
        #expect(ask(&n, "02 18 20 81 66 657870657274", &c) == bytes("84 F6 F6"))
        #expect(ask(&n, "07 05 A1 18 60 FA 40 6C CC CD", &c) == bytes("84 F6 F6"))
        #expect(n.model.bms.config.cellVoltage.overvoltage == 3.7)
        #expect(n.model.configChanged)
        // 3.55 V with a reset of 3.0 V: the trip would equal the charge target: refused whole
        // with A9, the configuration unchanged, the first broken rule kept for the diagnostic.
        let refused = ask(&n, "07 05 A2 18 60 FA 40 63 33 33 18 61 FA 40 40 00 00", &c)
        // With the reason as a text string after the node ID (node-c's form).
        let reason = "sCellChargeVoltage_V: must be below sCellOvervoltage_V"
        #expect(refused == bytes("A9 F6 78") + [UInt8(reason.utf8.count)] + Array(reason.utf8))
        #expect(n.model.bms.config.cellVoltage.overvoltage == 3.7 && n.model.bms.config.cellVoltage.overvoltageReset == 3.4)
        #expect(n.model.lastViolation?.field == .cellChargeVoltage)
        // A calibration item needs the manufacturer: refused to the expert.
        #expect(ask(&n, "07 05 A1 19 01 39 FA 3F 81 47 AE", &c) == bytes("A1 F6 F6"))   // pCurrentGain (plain index 57)
        #expect(ask(&n, "02 18 20 81 65 6D616B6572", &c) == bytes("84 F6 F6"))
        #expect(ask(&n, "07 05 A1 19 01 39 FA 3F 81 47 AE", &c) == bytes("84 F6 F6"))
        #expect(abs(n.model.bms.config.calibration.currentGain - 1.01) < 1e-6)
    }

    @Test func inputsForAnyoneAndPresetsAsFunctions() {
        var n = node()
        var c = ThingSetChannel()
        #expect(ask(&n, "07 09 A1 18 91 F4", &c) == bytes("84 F6 F6"))
        #expect(n.model.bms.inputs.dischargeEnable == false)
        // The stored start value (Conf/wDisEnable) is a setting: experts only.
        let stored = (0..<n.model.objectCount).map { n.model.object(at: $0) }.first { o in
            o.parent == 0x05 && String(decoding: (0..<o.name.count).map { o.name.byte(at: $0) }, as: UTF8.self) == "wDisEnable"
        }
        #expect(stored?.access == ThingSetObject.expertWrite)
        // xPresetLFP(200) as python-thingset sends it (half float 200 = 5A40), as an expert.
        #expect(ask(&n, "02 18 A2 81 F9 5A 40", &c) == bytes("A1 F6 F6"))
        _ = ask(&n, "02 18 20 81 66 657870657274", &c)
        #expect(ask(&n, "02 18 A2 81 F9 5A 40", &c) == bytes("84 F6 01"))
        #expect(n.model.bms.config.pack.capacityAh == 200 && n.model.bms.config.current.dischargeOvercurrent == 100)
        // A capacity no preset accepts: 0 (no change).
        #expect(ask(&n, "02 18 A2 81 F9 00 00", &c) == bytes("84 F6 00"))
        #expect(n.model.bms.config.pack.capacityAh == 200)
    }

    @Test func metadataForTheSchemaWalk() {
        var n = node()
        var c = ThingSetChannel()
        // _Metadata of sCellOvervoltage_V: name, f32, access 0x67.
        let answer = ask(&n, "05 18 19 81 18 60", &c)
        #expect(answer == bytes("85 F6 81 A3 18 1A 72") + Array("sCellOvervoltage_V".utf8)
                + bytes("18 1B 63 663332 18 1C 18 67"))
        // Discovery of the root lists the groups, the root items and the subset.
        #expect(ask(&n, "05 00 F6", &c) == bytes("85 F6 8B 18 1D 18 20 04 05 07 09 18 31 08 06 18 2F 0A"))
    }

    @Test func aTokenEnteredOverThingSetAddsCreditOnce() {
        var n = node()
        var c = ThingSetChannel()
        // Not provisioned: −1.
        #expect(ask(&n, "02 19 01 D4 81 69 313233343536373839", &c) == bytes("84 F6 20"))
        let chain = TokenChain(key: SipHashKey(k0: 0x0123_4567_89AB_CDEF, k1: 0xFEDC_BA98_7654_3210), startingCode: 123_456_789)
        n.model.payg = PAYGDevice(provisioning: PAYGProvisioning(chain: chain, timeDivider: 1))
        n.model.paygNow = 1000
        // Three days (count 2), as nine digits.
        let (digits, count) = TokenText.characters(chain.token(value: 3, count: 2), restricted: false)
        var request = bytes("02 19 01 D4 81") + [0x60 + UInt8(count)]
        for k in 0..<count { request.append(digits[k]) }
        let hexRequest = request.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        #expect(ask(&n, hexRequest, &c) == bytes("84 F6 00"))             // accepted
        #expect(ask(&n, hexRequest, &c) == bytes("84 F6 01"))             // the same token again: already used
        #expect(ask(&n, "02 19 01 D4 81 69 313131313131313131", &c) == bytes("84 F6 02"))   // not a token of this device
        // Three days of credit, read back; every attempt in the event log.
        #expect(ask(&n, "01 19 01 D1", &c) == bytes("85 F6 1A 00 03 F4 80"))   // 259 200 s
        #expect(ask(&n, "01 19 01 D0", &c) == bytes("85 F6 F5"))
        var entries: [UInt8] = []
        while let e = n.model.bms.nextEvent() { if e.kind == .paygEntry, let i = e.index { entries.append(i) } }
        #expect(entries == [0, 1, 2])
    }

    @Test func theEventLogAsRecords() {
        var n = node()
        var c = ThingSetChannel()
        // 40 events: the log keeps the last 32.
        for k in 0..<40 {
            n.model.log.append(BMSEvent(kind: .trip, time: Timestamp(milliseconds: UInt32(k) * 1000), fault: .cellOvervoltage,
                                        index: 6, value: 3.81, state: .chargeOnly))
        }
        #expect(n.model.log.count == 32 && n.model.log.total == 40)
        // The group shows the count; record 0 is the oldest kept (t = 8 s): cell 7.
        #expect(ask(&n, "01 06", &c) == bytes("85 F6 A1 19 01 E0 18 20"))
        let first = ask(&n, "01 82 19 01 E0 00", &c)
        #expect(first.prefix(3) == [0x85, 0xF6, 0xA6])
        #expect(first.contains(0x08) && first.contains(0x07))   // t_s 8, rCell 7
        #expect(ask(&n, "01 82 19 01 E0 18 20", &c) == bytes("A4 F6 F6"))   // index 32: beyond
        // Text mode: the path with the index.
        var out = [UInt8](repeating: 0, count: 512)
        let line = Array("?Rec/EventLog_32/31".utf8)
        let count = line.withUnsafeBufferPointer { l in
            out.withUnsafeMutableBufferPointer { o in n.processText(l, into: o, channel: &c) }
        }
        #expect(String(decoding: out[0..<count], as: UTF8.self)
                == #":85 {"t_s":39,"rEvent":"trip","rFault":"cell_overvoltage","rCell":7,"rValue":3.810,"rBmsState":1}"#)
    }

    @Test func theManualFaultResetAndShutdown() {
        var n = node()
        var c = ThingSetChannel()
        // A latched short circuit: the AFE flag three times within the latch window.
        var bms = n.model.bms
        var t: UInt32 = 1000
        for _ in 0..<3 {
            var m = Measurement(timestamp: Timestamp(milliseconds: t), cellVoltage: 3.3, current: -300)
            m.afeFlags.insert(.shortCircuit)
            m.stackVoltage = 52.8
            _ = bms.step(m, now: Timestamp(milliseconds: t))
            t += 200_000
            let quiet = Measurement(timestamp: Timestamp(milliseconds: t), cellVoltage: 3.3)
            _ = bms.step(quiet, now: Timestamp(milliseconds: t))
            t += 1000
        }
        n.model.bms = bms
        #expect(n.model.bms.protection.latched.contains(.shortCircuit))
        #expect(ask(&n, "02 19 01 F0 80", &c) == bytes("A1 F6 F6"))          // experts only
        _ = ask(&n, "02 18 20 81 66 657870657274", &c)
        #expect(ask(&n, "02 19 01 F0 80", &c) == bytes("84 F6 F6"))
        #expect(!n.model.bms.protection.latched.contains(.shortCircuit))
        #expect(ask(&n, "02 18 4A 80", &c) == bytes("84 F6 F6"))
        #expect(n.model.bms.command.state == .shutdown)
    }

    @Test func aForwardEnvelopeToThisNodeIsAnsweredUnwrapped() {
        var n = node()
        var c = ThingSetChannel()
        let own = Array("0000000000000001".utf8).map { String($0, radix: 16) }.joined()
        #expect(ask(&n, "1C 70 " + own + " 01 18 7F", &c) == bytes("85 F6 03"))
        let other = Array("00000000000000ab".utf8).map { String($0, radix: 16) }.joined()
        #expect(ask(&n, "1C 70 " + other + " 01 18 7F", &c) == bytes("C5 F6 F6"))
    }
}
