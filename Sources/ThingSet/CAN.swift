/// ThingSet on CAN (spec §11): the 29-bit identifier layout, ISO-TP (ISO 15765-2) segmentation
/// and reassembly for requests and answers, and multi-frame reports. Classic frames (8 bytes)
/// and CAN FD frames (up to 64) alike; no heap. The bus driver (SocketCAN, slcan, a
/// microcontroller's controller) only moves `CANFrame`s.

/// One CAN frame: a 29-bit extended identifier and up to 64 data bytes.
public struct CANFrame: Sendable {
    public var id: UInt32
    public var data: InlineArray<64, UInt8> = InlineArray(repeating: 0)
    public var count: Int = 0
    /// A CAN FD frame (up to 64 bytes) rather than a classic one (up to 8).
    public var fd: Bool
    /// A 29-bit identifier (ThingSet's) rather than an 11-bit one (the inverter bus's).
    public var extended = true

    public init(id: UInt32, fd: Bool = false) {
        self.id = id
        self.fd = fd
    }

    /// The frame with `bytes` as its data (at most 64).
    public init(id: UInt32, bytes: UnsafeBufferPointer<UInt8>, fd: Bool = false) {
        self.init(id: id, fd: fd)
        for b in bytes.prefix(64) { append(b) }
    }

    public mutating func append(_ b: UInt8) {
        guard count < 64 else { return }
        data[count] = b
        count += 1
    }

    /// The largest data length of this kind of frame.
    public var capacity: Int { fd ? 64 : 8 }
}

/// The fields of a ThingSet CAN identifier (spec §11.2).
public enum ThingSetCANID: Equatable, Sendable {
    /// A request or an answer (ISO-TP segments): priority 6.
    case requestResponse(targetBus: UInt8, sourceBus: UInt8, target: UInt8, source: UInt8)
    /// A slice of a report: message number 0–3, frame kind, sequence 0–15.
    case multiFrameReport(priority: UInt8, sourceBus: UInt8, message: UInt8, kind: ReportFrameKind, sequence: UInt8, source: UInt8)
    /// One data item's value.
    case singleFrameReport(priority: UInt8, item: UInt16, source: UInt8)
    /// Address discovery (source 0xFE, `random` byte) or claim (target 0xFF, the bus fields).
    case networkManagement(variable: UInt8, target: UInt8, source: UInt8)

    public enum ReportFrameKind: UInt8, Sendable {
        case first = 0, consecutive = 1, last = 2, single = 3
    }

    public static let anonymous: UInt8 = 0xFE
    public static let broadcast: UInt8 = 0xFF

    public var raw: UInt32 {
        switch self {
        case .requestResponse(let tb, let sb, let target, let source):
            return 6 << 26 | 0 << 24 | UInt32(tb & 0xF) << 20 | UInt32(sb & 0xF) << 16 | UInt32(target) << 8 | UInt32(source)
        case .multiFrameReport(let p, let sb, let message, let kind, let sequence, let source):
            return UInt32(p & 7) << 26 | 1 << 24 | UInt32(sb & 0xF) << 16 | UInt32(message & 3) << 14
                | UInt32(kind.rawValue) << 12 | UInt32(sequence & 0xF) << 8 | UInt32(source)
        case .singleFrameReport(let p, let item, let source):
            return UInt32(p & 7) << 26 | 2 << 24 | UInt32(item) << 8 | UInt32(source)
        case .networkManagement(let variable, let target, let source):
            return 4 << 26 | 3 << 24 | UInt32(variable) << 16 | UInt32(target) << 8 | UInt32(source)
        }
    }

    public init?(raw: UInt32) {
        guard raw <= 0x1FFF_FFFF else { return nil }
        let source = UInt8(raw & 0xFF), b8 = UInt8((raw >> 8) & 0xFF), b16 = UInt8((raw >> 16) & 0xFF)
        let priority = UInt8(raw >> 26)
        switch (raw >> 24) & 3 {
        case 0: self = .requestResponse(targetBus: b16 >> 4, sourceBus: b16 & 0xF, target: b8, source: source)
        case 1:
            self = .multiFrameReport(priority: priority, sourceBus: b16 & 0xF, message: b8 >> 6,
                                     kind: ReportFrameKind(rawValue: (b8 >> 4) & 3)!, sequence: b8 & 0xF, source: source)
        case 2: self = .singleFrameReport(priority: priority, item: UInt16((raw >> 8) & 0xFFFF), source: source)
        default: self = .networkManagement(variable: b16, target: b8, source: source)
        }
    }
}

/// Reassembles one ISO-TP message from one peer (spec §11.3): single frames (classic `0L`, FD
/// `00 LL`), a first frame `1H LL` answered with flow control `30 00 01`, consecutive frames
/// `2N` in order. Timeouts are the caller's (1 s between frames: call `reset`).
public struct ISOTPReceiver: Sendable {
    public static let maximumMessage = 4095
    /// The message being received; complete when `received == expected`.
    public private(set) var message = InlineArray<512, UInt8>(repeating: 0)
    public private(set) var expected = 0
    public private(set) var received = 0
    var nextSequence: UInt8 = 1

    public enum Result: Equatable, Sendable {
        /// Nothing complete yet.
        case pending
        /// Send this flow-control frame's data to the peer (`30 00 01`, or `32` overflow).
        case flowControl(continue: Bool)
        /// A whole message is in `message[0..<expected]`.
        case complete
        /// The frame broke the protocol (wrong sequence, bad length): the message is dropped.
        case dropped
    }

    public init() {}

    public mutating func reset() {
        expected = 0
        received = 0
        nextSequence = 1
    }

    /// Takes one frame's data from the peer.
    public mutating func take(_ frame: CANFrame) -> Result {
        guard frame.count >= 1 else { return .dropped }
        let pci = frame.data[0]
        switch pci >> 4 {
        case 0:
            // A single frame: `0L` (L 1–7), or on FD `00 LL` (LL 8–62).
            var length = Int(pci & 0xF), start = 1
            if length == 0 {
                guard frame.count >= 2 else { reset(); return .dropped }
                length = Int(frame.data[1])
                start = 2
            }
            guard length >= 1, start + length <= frame.count else { reset(); return .dropped }
            for k in 0..<length { message[k] = frame.data[start + k] }
            expected = length
            received = length
            return .complete
        case 1:
            guard frame.count >= 2 else { reset(); return .dropped }
            let length = Int(pci & 0xF) << 8 | Int(frame.data[1])
            guard length >= 8 else { reset(); return .dropped }
            guard length <= 512 else {
                reset()
                return .flowControl(continue: false)  // overflow: the message does not fit
            }
            expected = length
            received = 0
            nextSequence = 1
            for k in 2..<frame.count where received < expected {
                message[received] = frame.data[k]
                received += 1
            }
            return .flowControl(continue: true)
        case 2:
            guard expected > 0, received < expected else { return .dropped }
            guard pci & 0xF == nextSequence else { reset(); return .dropped }
            nextSequence = (nextSequence + 1) & 0xF
            for k in 1..<frame.count where received < expected {
                message[received] = frame.data[k]
                received += 1
            }
            return received == expected ? .complete : .pending
        default:
            return .pending  // flow control frames are the sender's business
        }
    }
}

/// Cuts one message into ISO-TP frames (spec §11.3): a single frame when it fits, otherwise a
/// first frame, then — after the peer's flow control — consecutive frames.
public struct ISOTPSender: Sendable {
    public let fd: Bool
    var offset = 0
    var sequence: UInt8 = 1
    public private(set) var started = false

    public init(fd: Bool) { self.fd = fd }

    /// Whether the whole message has been cut.
    public func finished(_ length: Int) -> Bool { started && offset >= length }

    /// The next frame's data for `message`; `nil` when all is sent.
    public mutating func next(_ message: UnsafeBufferPointer<UInt8>, id: UInt32) -> CANFrame? {
        let capacity = fd ? 64 : 8
        var frame = CANFrame(id: id, fd: fd)
        if !started {
            started = true
            let single = fd ? (message.count <= 7 ? 7 : 62) : 7
            if message.count <= single {
                if message.count <= 7 {
                    frame.append(UInt8(message.count))
                } else {
                    frame.append(0)
                    frame.append(UInt8(message.count))
                }
                for b in message { frame.append(b) }
                offset = message.count
                return frame
            }
            frame.append(0x10 | UInt8((message.count >> 8) & 0xF))
            frame.append(UInt8(message.count & 0xFF))
            while frame.count < capacity && offset < message.count { frame.append(message[offset]); offset += 1 }
            return frame
        }
        guard offset < message.count else { return nil }
        frame.append(0x20 | sequence)
        sequence = (sequence + 1) & 0xF
        while frame.count < capacity && offset < message.count { frame.append(message[offset]); offset += 1 }
        return frame
    }
}

/// A report (a binary `1F …` or text `#…` message) cut into multi-frame report frames
/// (spec §11.4): first, consecutive, last, or one single frame.
public struct ReportFrames: Sendable {
    let fd: Bool
    let priority: UInt8, sourceBus: UInt8, message: UInt8, source: UInt8
    var offset = 0
    var sequence: UInt8 = 0

    public init(fd: Bool, priority: UInt8 = 7, sourceBus: UInt8 = 0, messageNumber: UInt8, source: UInt8) {
        self.fd = fd
        self.priority = priority
        self.sourceBus = sourceBus
        self.message = messageNumber & 3
        self.source = source
    }

    public mutating func next(_ report: UnsafeBufferPointer<UInt8>) -> CANFrame? {
        guard offset < report.count else { return nil }
        let capacity = fd ? 64 : 8
        let kind: ThingSetCANID.ReportFrameKind
        if offset == 0 {
            kind = report.count <= capacity ? .single : .first
        } else {
            kind = report.count - offset <= capacity ? .last : .consecutive
        }
        let id = ThingSetCANID.multiFrameReport(priority: priority, sourceBus: sourceBus, message: message, kind: kind,
                                                sequence: sequence, source: source).raw
        var frame = CANFrame(id: id, fd: fd)
        while frame.count < capacity && offset < report.count { frame.append(report[offset]); offset += 1 }
        sequence = (sequence + 1) & 0xF
        return frame
    }
}

/// CAN node address claiming (spec §11.6): discover the preferred address, wait 500 ms for an
/// owner's claim, then claim it; afterwards answer discoveries of our address (and bus scans)
/// with our claim, and start again if another node claims our address with another EUI-64.
/// The caller supplies random bytes (a hardware generator, or the EUI-64 mixed with a timer).
public struct CANAddressClaim: Sendable {
    public enum State: Equatable, Sendable {
        /// Discovery sent for `address`; the claim may follow at `since` + 500 ms.
        case discovering(address: UInt8, since: UInt32)
        /// The address is ours.
        case claimed(address: UInt8)
    }

    public static let waitMilliseconds: UInt32 = 500
    public let eui: InlineArray<8, UInt8>
    public let fd: Bool
    public private(set) var state: State

    /// Starts claiming `preferred` (a stored address; 0x00, 0xFE and 0xFF are not taken and a
    /// random one is used instead) at `now` ms; send the returned discovery frame.
    public init(eui: InlineArray<8, UInt8>, preferred: UInt8, random: UInt8, now: UInt32, fd: Bool = false,
                discovery: inout CANFrame) {
        self.eui = eui
        self.fd = fd
        let address = CANAddressClaim.valid(preferred) ? preferred : CANAddressClaim.randomAddress(random)
        state = .discovering(address: address, since: now)
        discovery = CANFrame(id: ThingSetCANID.networkManagement(variable: random, target: address,
                                                                 source: ThingSetCANID.anonymous).raw, fd: fd)
    }

    static func valid(_ a: UInt8) -> Bool { a >= 0x01 && a <= 0xFD }
    static func randomAddress(_ r: UInt8) -> UInt8 { 0x01 + r % 0xFD }

    /// Our claim frame for `address`: target 0xFF, the EUI-64 as data.
    public func claimFrame(_ address: UInt8) -> CANFrame {
        var f = CANFrame(id: ThingSetCANID.networkManagement(variable: 0, target: ThingSetCANID.broadcast, source: address).raw,
                         fd: fd)
        for k in 0..<8 { f.append(eui[k]) }
        return f
    }

    /// After the wait without an owner: claims the address (send the returned frame).
    public mutating func tick(now: UInt32) -> CANFrame? {
        guard case .discovering(let address, let since) = state, now &- since >= CANAddressClaim.waitMilliseconds else {
            return nil
        }
        state = .claimed(address: address)
        return claimFrame(address)
    }

    /// Takes a network-management frame from the bus; returns a frame to send (our claim, or a
    /// new discovery when the address was taken), if any.
    public mutating func receive(_ frame: CANFrame, now: UInt32, random: UInt8) -> CANFrame? {
        guard case .networkManagement(_, let target, let source)? = ThingSetCANID(raw: frame.id) else { return nil }
        switch state {
        case .discovering(let address, _):
            // An owner's claim of the address we want: try another one.
            guard target == ThingSetCANID.broadcast, source == address else { return nil }
            return restart(now: now, random: random, avoiding: address)
        case .claimed(let address):
            if source == ThingSetCANID.anonymous && (target == address || target == ThingSetCANID.broadcast) {
                return claimFrame(address)  // a discovery of our address, or a bus scan
            }
            if target == ThingSetCANID.broadcast && source == address {
                var same = frame.count == 8
                for k in 0..<min(frame.count, 8) where frame.data[k] != eui[k] { same = false }
                if !same { return restart(now: now, random: random, avoiding: address) }
            }
            return nil
        }
    }

    private mutating func restart(now: UInt32, random: UInt8, avoiding taken: UInt8) -> CANFrame {
        var address = CANAddressClaim.randomAddress(random)
        if address == taken { address = address == 0xFD ? 0x01 : address + 1 }
        state = .discovering(address: address, since: now)
        return CANFrame(id: ThingSetCANID.networkManagement(variable: random, target: address,
                                                            source: ThingSetCANID.anonymous).raw, fd: fd)
    }
}

/// A ThingSet node's CAN side (spec §11): claims its address, reassembles requests from one
/// peer at a time, answers them through the node with ISO-TP (waiting for the peer's flow
/// control before consecutive frames), and answers discoveries. The bus driver calls `receive`
/// for every frame and `tick` regularly; `send` gets the frames to put on the bus.
public struct ThingSetCANNode: Sendable {
    public private(set) var claim: CANAddressClaim
    var receiver = ISOTPReceiver()
    var peer: UInt8?
    public var channel = ThingSetChannel()
    /// The answer being sent, and to whom.
    var answer = InlineArray<512, UInt8>(repeating: 0)
    var answerCount = 0
    var sender: ISOTPSender?
    var answerPeer: UInt8 = 0
    /// Consecutive frames allowed before the next flow control (0: all).
    var blockLeft = 0

    public init(claim: CANAddressClaim) {
        self.claim = claim
    }

    /// Our address once claimed.
    public var address: UInt8? {
        if case .claimed(let a) = claim.state { return a }
        return nil
    }

    public mutating func tick(now: UInt32, send: (CANFrame) -> Void) {
        if let f = claim.tick(now: now) { send(f) }
    }

    public mutating func receive<Model: ThingSetModel>(_ frame: CANFrame, now: UInt32, random: UInt8,
                                                       node: inout ThingSetNode<Model>, send: (CANFrame) -> Void) {
        guard let id = ThingSetCANID(raw: frame.id) else { return }
        switch id {
        case .networkManagement:
            if let f = claim.receive(frame, now: now, random: random) { send(f) }
        case .requestResponse(_, _, let target, let source):
            guard let me = address, target == me, frame.count >= 1 else { return }
            let reply = ThingSetCANID.requestResponse(targetBus: 0, sourceBus: 0, target: source, source: me).raw
            if frame.data[0] >> 4 == 3 {
                flowControl(frame, to: source, id: reply, send: send)
                return
            }
            if peer != source { receiver.reset(); peer = source }
            switch receiver.take(frame) {
            case .flowControl(let go):
                var fc = CANFrame(id: reply, fd: frame.fd)
                fc.append(go ? 0x30 : 0x32)
                fc.append(0x00)
                fc.append(0x01)
                send(fc)
            case .complete:
                var message = InlineArray<512, UInt8>(repeating: 0)
                let count = receiver.expected
                for k in 0..<count { message[k] = receiver.message[k] }
                receiver.reset()
                var out = InlineArray<512, UInt8>(repeating: 0)
                let n = withUnsafeBytes(of: &message) { m in
                    withUnsafeMutableBytes(of: &out) { o in
                        node.processBinary(UnsafeBufferPointer(rebasing: m.bindMemory(to: UInt8.self)[0..<count]),
                                           into: o.bindMemory(to: UInt8.self), channel: &channel)
                    }
                }
                guard n > 0 else { return }
                answer = out
                answerCount = n
                answerPeer = source
                sender = ISOTPSender(fd: frame.fd)
                // The first (or single) frame now; consecutive ones after the peer's flow control.
                if let f = nextAnswerFrame(id: reply) { send(f) }
                if sender.map({ $0.finished(answerCount) }) ?? true { sender = nil }
            case .pending, .dropped:
                return
            }
        default:
            return
        }
    }

    mutating func nextAnswerFrame(id: UInt32) -> CANFrame? {
        guard var s = sender else { return nil }
        let count = answerCount
        var a = answer
        let f = withUnsafeBytes(of: &a) { raw in
            s.next(UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[0..<count]), id: id)
        }
        sender = s
        return f
    }

    /// The peer's flow control for our answer: `30 BS ST` sends (BS or all) consecutive frames,
    /// `31` waits, `32` gives up.
    mutating func flowControl(_ frame: CANFrame, to peer: UInt8, id: UInt32, send: (CANFrame) -> Void) {
        guard sender != nil, peer == answerPeer else { return }
        switch frame.data[0] & 0xF {
        case 0:
            blockLeft = frame.count >= 2 ? Int(frame.data[1]) : 0
            var sent = 0
            while let f = nextAnswerFrame(id: id) {
                send(f)
                sent += 1
                if blockLeft > 0 && sent >= blockLeft { break }
            }
            if sender.map({ $0.finished(answerCount) }) ?? true { sender = nil }
        case 1:
            return
        default:
            sender = nil
        }
    }
}
