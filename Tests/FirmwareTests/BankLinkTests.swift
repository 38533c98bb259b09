import BMSCore
import Testing
import ThingSet
@testable import Firmware

func sampleShare(_ address: UInt8) -> PackShare {
    var s = PackShare(address: address)
    s.voltage = 52.5; s.current = -12.25; s.stateOfCharge = 0.25; s.stateOfHealth = 0.75
    s.capacity = 100; s.openCircuitVoltage = 52.75; s.resistance = 0.015625
    s.chargeCurrentLimit = 80.5; s.dischargeCurrentLimit = 90; s.chargeVoltageLimit = 56.75
    s.dischargeVoltageLimit = 44.75; s.allowed = .discharge; s.connected = true; s.full = true; s.dischargeHeld = true
    s.faults.insert(.cellOvervoltage); s.warnings.insert(.chargeOvertemperature)
    s.lastTripFault = Fault.cellOvervoltage.rawValue + 1; s.lastTripLocation = 7
    s.minTemperature = 21.5; s.maxTemperature = 30.25; s.temperature = 25.5
    s.minCellVoltage = 3.25; s.maxCellVoltage = 3.75; s.minCell = 3; s.maxCell = 7
    return s
}

@Suite struct BankLinkTests {
    @Test func aShareCrossesTheBusWhole() {
        var a = BankLink(own: sampleShare(1))
        var b = BankLink(own: PackShare(address: 2))
        var frames: [CANFrame] = []
        a.publish(sampleShare(1), now: 0) { frames.append($0) }
        #expect(frames.count == 21)
        for f in frames { #expect(f.count <= 8 && !f.fd) }
        for f in frames { b.receive(f, now: 10) }
        #expect(b.roster.share(of: 1) == sampleShare(1))
        #expect(b.roster.count == 2 && b.roster.leader == 1)
        // The first item is the flags: a receiver knows at once whether the pack is connected.
        if case .singleFrameReport(let priority, let item, let source)? = ThingSetCANID(raw: frames[0].id) {
            #expect(item == 0x1C8 && source == 1 && priority == 5)
        } else {
            Issue.record("not a single-frame report")
        }
    }

    @Test func itPublishesEverySecondAndAtOnceWhenItsFaultsChange() {
        var link = BankLink(own: sampleShare(1))
        var sent: [(UInt32, UInt8)] = []
        func publish(_ s: PackShare, _ t: UInt32) {
            link.publish(s, now: t) { f in
                if case .singleFrameReport(let p, _, _)? = ThingSetCANID(raw: f.id) { sent.append((t, p)) }
            }
        }
        var s = sampleShare(1)
        publish(s, 0)
        publish(s, 500)
        #expect(Set(sent.map { $0.0 }) == [0])
        s.faults = FaultSet()
        publish(s, 600)                       // a fault released: at once, at priority 5
        #expect(sent.last.map { $0 == (600, 5) } == true)
        publish(s, 1599)
        #expect(sent.last?.0 == 600)
        publish(s, 1600)                      // the routine set, at priority 7
        #expect(sent.last.map { $0 == (1600, 7) } == true)
        #expect(sent.count == 63)
    }

    @Test func framesThatAreNotBankItemsAreLeftAlone() {
        var link = BankLink(own: PackShare(address: 2))
        let own = ThingSetCANID.singleFrameReport(priority: 7, item: 0x72, source: 2).raw
        let unknown = ThingSetCANID.singleFrameReport(priority: 7, item: 0x99, source: 1).raw
        let voltage = ThingSetCANID.singleFrameReport(priority: 7, item: 0x72, source: 1).raw
        let text: [UInt8] = [0x61, 0x41]                      // "A": not a number
        let nan: [UInt8] = [0xFA, 0x7F, 0xC0, 0x00, 0x00]      // float32 NaN
        let good: [UInt8] = [0xFA, 0x42, 0x52, 0x00, 0x00]     // 52.5
        func frame(_ id: UInt32, _ bytes: [UInt8], fd: Bool = false) -> CANFrame {
            bytes.withUnsafeBufferPointer { CANFrame(id: id, bytes: $0, fd: fd) }
        }
        #expect(link.receive(frame(own, good), now: 0) == nil)
        #expect(link.receive(frame(unknown, good), now: 0) == nil)
        #expect(link.receive(frame(voltage, text), now: 0) == nil)
        #expect(link.receive(frame(voltage, nan), now: 0) == nil)
        #expect(link.receive(frame(voltage, good, fd: true), now: 0) == nil)
        #expect(link.roster.count == 1)
        #expect(link.receive(frame(voltage, good), now: 0) == 1)
        #expect(link.roster.share(of: 1)?.voltage == 52.5)
        // A pack known only from one item is not connected (its flags have not come yet).
        #expect(link.roster.share(of: 1)?.connected == false)
        #expect(link.expire(now: 3001) == 1 && link.roster.count == 1)
    }
}

@Suite struct BankObjectsTests {
    func text(_ n: inout ThingSetNode<BMSObjects>, _ request: String) -> String {
        var c = ThingSetChannel()
        var out = [UInt8](repeating: 0, count: 1024)
        let line = Array(request.utf8)
        let count = line.withUnsafeBufferPointer { l in
            out.withUnsafeMutableBufferPointer { o in n.processText(l, into: o, channel: &c) }
        }
        return String(decoding: out[0..<count], as: UTF8.self)
    }

    @Test func theLeadersViewOfTheBankAndWhoFaulted() {
        var n = node()
        #expect(text(&n, "?Bank") == #":85 {"rPacks":0,"rPacksOnline":0,"rLeader":0,"rErrorFlags":0,"rChargeCurrentLimit_A":null,"rDischargeCurrentLimit_A":null,"rSOC_pct":null,"rFaultPack":0,"rFault":"","rFaultCell":0,"rFaultSensor":0}"#)
        var roster = BankRoster(own: sampleShare(1))
        var other = sampleShare(2)
        other.faults = FaultSet()
        other.allowed = .both
        other.full = false
        roster.receive(other, at: 0)
        n.model.bank = BankView(roster: roster, limits: BankLimits.of(roster))
        n.model.lastBankFault = BankNotice(kind: .fault, address: 3, fault: .cellUndervoltage, location: 6)
        let answer = text(&n, "?Bank")
        #expect(answer.hasPrefix(#":85 {"rPacks":2,"rPacksOnline":2,"rLeader":1,"rErrorFlags":2,"#))
        #expect(answer.hasSuffix(#""rFaultPack":3,"rFault":"cell_undervoltage","rFaultCell":7,"rFaultSensor":0}"#))
        n.model.lastBankFault = BankNotice(kind: .fault, address: 2, fault: .chargeOvertemperature, location: 1)
        #expect(text(&n, "?Bank").hasSuffix(#""rFaultPack":2,"rFault":"charge_overtemperature","rFaultCell":0,"rFaultSensor":2}"#))
    }

    @Test func whatAPackPublishesIsInMeas() {
        var n = node()
        let answer = text(&n, #"?Meas ["rChargeVoltageLimit_V","rBankFlags","rCellExtremes","rCellMaxTemp_degC"]"#)
        // node(): 16 cells at 3.3 V but cell 5 at 3.31 V, both directions allowed and connected:
        // flags 7; extremes: lowest cell 1, highest cell 5 (1 << 8 | 5 = 261).
        #expect(answer.hasPrefix(":85 [") && answer.hasSuffix(#",7,261,25.0]"#), "\(answer)")
    }
}
