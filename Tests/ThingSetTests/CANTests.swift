import Testing
@testable import ThingSet

@Suite struct CANTests {
    func frame(_ id: UInt32, _ data: String, fd: Bool = false) -> CANFrame {
        hex(data).withUnsafeBufferPointer { CANFrame(id: id, bytes: $0, fd: fd) }
    }

    func bytes(_ f: CANFrame) -> [UInt8] { (0..<f.count).map { f.data[$0] } }

    /// The identifiers of spec §11.3–§11.6.
    @Test func identifiers() {
        #expect(ThingSetCANID.requestResponse(targetBus: 0, sourceBus: 0, target: 0x14, source: 0x00).raw == 0x1800_1400)
        #expect(ThingSetCANID.requestResponse(targetBus: 0, sourceBus: 0, target: 0x00, source: 0x14).raw == 0x1800_0014)
        #expect(ThingSetCANID.requestResponse(targetBus: 2, sourceBus: 1, target: 0x14, source: 0x00).raw == 0x1821_1400)
        #expect(ThingSetCANID.multiFrameReport(priority: 7, sourceBus: 0, message: 1, kind: .first, sequence: 0, source: 0x14).raw == 0x1D00_4014)
        #expect(ThingSetCANID.multiFrameReport(priority: 7, sourceBus: 0, message: 1, kind: .consecutive, sequence: 1, source: 0x14).raw == 0x1D00_5114)
        #expect(ThingSetCANID.multiFrameReport(priority: 7, sourceBus: 0, message: 1, kind: .last, sequence: 2, source: 0x14).raw == 0x1D00_6214)
        #expect(ThingSetCANID.multiFrameReport(priority: 7, sourceBus: 0, message: 0, kind: .single, sequence: 0, source: 0x14).raw == 0x1D00_3014)
        #expect(ThingSetCANID.singleFrameReport(priority: 7, item: 0x7C, source: 0x14).raw == 0x1E00_7C14)
        #expect(ThingSetCANID.singleFrameReport(priority: 5, item: 0x7C, source: 0x14).raw == 0x1600_7C14)
        #expect(ThingSetCANID.networkManagement(variable: 0xA7, target: 0x14, source: 0xFE).raw == 0x13A7_14FE)
        #expect(ThingSetCANID.networkManagement(variable: 0x00, target: 0xFF, source: 0x14).raw == 0x1300_FF14)
        // And back.
        #expect(ThingSetCANID(raw: 0x1821_1400) == .requestResponse(targetBus: 2, sourceBus: 1, target: 0x14, source: 0))
        #expect(ThingSetCANID(raw: 0x1D00_5114) == .multiFrameReport(priority: 7, sourceBus: 0, message: 1, kind: .consecutive,
                                                                  sequence: 1, source: 0x14))
        #expect(ThingSetCANID(raw: 0x2000_0000) == nil)
    }

    /// The ISO-TP exchange of spec §11.3, through the node: a 26-byte FETCH in four frames,
    /// answered in one.
    @Test func aSegmentedRequestAnsweredThroughTheNode() {
        var node = ThingSetNode(model: TestModel())
        var channel = ThingSetChannel()
        var rx = ISOTPReceiver()
        let request: UInt32 = 0x1800_1400
        #expect(rx.take(frame(request, "101a05644d656173")) == .flowControl(continue: true))
        #expect(rx.take(frame(request, "21826872534f435f")) == .pending)
        #expect(rx.take(frame(request, "227063746972426d")) == .pending)
        #expect(rx.take(frame(request, "23735374617465")) == .complete)
        let message = (0..<rx.expected).map { rx.message[$0] }
        #expect(message == hex("05644d656173826872534f435f706374" + "6972426d735374617465"))
        var out = [UInt8](repeating: 0, count: 64)
        let n = message.withUnsafeBufferPointer { m in out.withUnsafeMutableBufferPointer { node.processBinary(m, into: $0, channel: &channel) } }
        var tx = ISOTPSender(fd: false)
        let answer = Array(out[0..<n])
        let frames = answer.withUnsafeBufferPointer { a -> [CANFrame] in
            var all: [CANFrame] = []
            while let f = tx.next(a, id: 0x1800_0014) { all.append(f) }
            return all
        }
        #expect(frames.count == 2 && bytes(frames[0]) == hex("100985f682fa42bf") && bytes(frames[1]) == hex("216666" + "03"))
        // A short GET is a single frame each way.
        var rx2 = ISOTPReceiver()
        #expect(rx2.take(frame(request, "0301187c")) == .complete)
        var tx2 = ISOTPSender(fd: false)
        let single = hex("85f6fa42bf6666").withUnsafeBufferPointer { tx2.next($0, id: 0x1800_0014) }
        #expect(single.map(bytes) == hex("0785f6fa42bf6666"))
    }

    @Test func canFDSingleFramesAndBrokenSequences() {
        // FD single frame escape form: 00 LL + data.
        var rx = ISOTPReceiver()
        let twenty = String(repeating: "ab", count: 20)
        #expect(rx.take(frame(0x1800_1400, "0014" + twenty, fd: true)) == .complete)
        #expect(rx.expected == 20)
        var tx = ISOTPSender(fd: true)
        let f = hex(twenty).withUnsafeBufferPointer { tx.next($0, id: 1) }
        #expect(f.map { Array(bytes($0).prefix(2)) } == [0x00, 0x14])
        // A consecutive frame out of order drops the message; one too long for the buffer is
        // refused with an overflow flow control.
        var broken = ISOTPReceiver()
        _ = broken.take(frame(0x1800_1400, "101a05644d656173"))
        #expect(broken.take(frame(0x1800_1400, "2282687253")) == .dropped)
        #expect(broken.take(frame(0x1800_1400, "1fff0000000000")) == .flowControl(continue: false))
        #expect(broken.take(frame(0x1800_1400, "")) == .dropped)
    }

    /// The 21-byte mLive report of spec §11.4 in three classic frames.
    @Test func reportFrames() {
        let report = hex("1f1831a31871fa42513d71187cfa42bf6666187f03")
        var cutter = ReportFrames(fd: false, messageNumber: 1, source: 0x14)
        let frames = report.withUnsafeBufferPointer { r -> [CANFrame] in
            var all: [CANFrame] = []
            while let f = cutter.next(r) { all.append(f) }
            return all
        }
        #expect(frames.map(\.id) == [0x1D00_4014, 0x1D00_5114, 0x1D00_6214])
        #expect(bytes(frames[0]) == hex("1f1831a31871fa42") && bytes(frames[1]) == hex("513d71187cfa42bf")
                && bytes(frames[2]) == hex("6666187f03"))
    }
}

@Suite struct AddressClaimTests {
    let eui: InlineArray<8, UInt8> = [0xF1, 0xE8, 0xB5, 0x00, 0x00, 0x00, 0x00, 0x01]

    /// The frames of spec §11.6 for node 0x14.
    @Test func discoverWaitClaimAndAnswer() {
        var discovery = CANFrame(id: 0)
        var claim = CANAddressClaim(eui: eui, preferred: 0x14, random: 0xA7, now: 0, discovery: &discovery)
        #expect(discovery.id == 0x13A7_14FE && discovery.count == 0)
        #expect(claim.tick(now: 499) == nil)
        let mine = claim.tick(now: 500)
        #expect(mine?.id == 0x1300_FF14 && mine?.count == 8 && mine?.data[0] == 0xF1)
        #expect(claim.state == .claimed(address: 0x14))
        // A discovery of 0x14, and a bus scan: answered with the claim; another address: not.
        #expect(claim.receive(CANFrame(id: 0x13A7_14FE), now: 600, random: 1)?.id == 0x1300_FF14)
        #expect(claim.receive(CANFrame(id: 0x133C_FFFE), now: 600, random: 1)?.id == 0x1300_FF14)
        #expect(claim.receive(CANFrame(id: 0x1311_15FE), now: 600, random: 1) == nil)
        // Our own claim echoed back (same EUI): nothing; another EUI claiming 0x14: start again.
        #expect(claim.receive(claim.claimFrame(0x14), now: 700, random: 1) == nil)
        var intruder = CANFrame(id: 0x1300_FF14)
        for b in [0xDE, 0xAD, 0xBE, 0xEF, 0xC0, 0xFF, 0xEE, 0xEE] as [UInt8] { intruder.append(b) }
        let again = claim.receive(intruder, now: 800, random: 0x42)
        #expect(again.map { ThingSetCANID(raw: $0.id) } == .networkManagement(variable: 0x42, target: 0x43, source: 0xFE))
        #expect(claim.state == .discovering(address: 0x43, since: 800))
    }

    @Test func anOwnersClaimDuringDiscoveryMovesUsOn() {
        var discovery = CANFrame(id: 0)
        // 0x00 is for gateways: a random address is used instead (0x01 + 0x10 % 0xFD = 0x11).
        var claim = CANAddressClaim(eui: eui, preferred: 0x00, random: 0x10, now: 0, discovery: &discovery)
        #expect(claim.state == .discovering(address: 0x11, since: 0))
        var owner = CANFrame(id: 0x1300_FF11)
        for b in [1, 2, 3, 4, 5, 6, 7, 8] as [UInt8] { owner.append(b) }
        let next = claim.receive(owner, now: 100, random: 0x10)
        // The same random would give 0x11 again: the next address is taken instead.
        #expect(claim.state == .discovering(address: 0x12, since: 100) && next?.id == 0x1310_12FE)
        #expect(claim.tick(now: 599) == nil && claim.tick(now: 600)?.id == 0x1300_FF12)
    }
}

@Suite struct CANNodeTests {
    func frame(_ id: UInt32, _ data: String) -> CANFrame {
        hex(data).withUnsafeBufferPointer { CANFrame(id: id, bytes: $0) }
    }

    func bytes(_ f: CANFrame) -> String {
        (0..<f.count).map { k in
            let h = String(f.data[k], radix: 16, uppercase: true)
            return h.count == 1 ? "0" + h : h
        }.joined(separator: " ")
    }

    /// The exchanges of spec §11.3 with node 0x14, the client at 0x00.
    @Test func requestsAndAnswersOnTheBus() {
        var node = ThingSetNode(model: TestModel())
        var discovery = CANFrame(id: 0)
        let eui: InlineArray<8, UInt8> = [1, 2, 3, 4, 5, 6, 7, 8]
        var can = ThingSetCANNode(claim: CANAddressClaim(eui: eui, preferred: 0x14, random: 7, now: 0, discovery: &discovery))
        var sent: [CANFrame] = []
        // Nothing is answered before the address is ours.
        can.receive(frame(0x1800_1400, "0301187c"), now: 100, random: 1, node: &node) { sent.append($0) }
        #expect(sent.isEmpty)
        can.tick(now: 500) { sent.append($0) }
        #expect(sent.map(\.id) == [0x1300_FF14] && can.address == 0x14)
        sent = []
        // GET rSOC_pct: one frame each way.
        can.receive(frame(0x1800_1400, "0301187c"), now: 600, random: 1, node: &node) { sent.append($0) }
        #expect(sent.map(\.id) == [0x1800_0014] && sent.map(bytes) == ["07 85 F6 FA 42 BF 66 66"])
        sent = []
        // The 26-byte FETCH: our flow control after its first frame, the answer's first frame after
        // its last, and the rest after the client's flow control.
        can.receive(frame(0x1800_1400, "101a05644d656173"), now: 700, random: 1, node: &node) { sent.append($0) }
        #expect(sent.map(bytes) == ["30 00 01"])
        for f in ["21826872534f435f", "227063746972426d", "23735374617465"] {
            can.receive(frame(0x1800_1400, f), now: 701, random: 1, node: &node) { sent.append($0) }
        }
        #expect(sent.map(bytes) == ["30 00 01", "10 09 85 F6 82 FA 42 BF"])
        can.receive(frame(0x1800_1400, "300000"), now: 702, random: 1, node: &node) { sent.append($0) }
        #expect(sent.map(bytes).last == "21 66 66 03" && sent.count == 3)
        // A request to another node is not ours; a discovery of 0x14 is answered with the claim.
        sent = []
        can.receive(frame(0x1800_1500, "0301187c"), now: 800, random: 1, node: &node) { sent.append($0) }
        #expect(sent.isEmpty)
        can.receive(CANFrame(id: 0x13A7_14FE), now: 800, random: 1, node: &node) { sent.append($0) }
        #expect(sent.map(\.id) == [0x1300_FF14])
    }
}
