/// The inverter families of the low-voltage battery CAN protocol. They share the 0x35x block
/// but differ in which frames they expect, their lengths, and how unused fields are marked.
public enum InverterProfile: UInt8, CaseIterable, Sendable {
    /// Pylon LV CAN v1.2 (Deye/Sunsynk, Sofar, Solis, Goodwe, Luxpower and most "Pylontech
    /// compatible" inverters): 0x351, 0x355, 0x356, 0x359, 0x35C, 0x35E, at the document's
    /// lengths.
    case pylon = 0
    /// Victron GX with DVCC ("CAN-bus BMS"): the SMA set less 0x35B, plus Victron's extension
    /// frames 0x370–0x379 and 0x382; every frame 8 bytes, as a BYD battery sends them.
    case victron = 1
    /// SMA Sunny Island external BMS: 0x351, 0x355, 0x356, 0x35A, 0x35B, 0x35E, 0x35F, with
    /// SMA's "invalid" markers in fields the battery does not fill.
    case sma = 2

    public var name: StaticString {
        switch self {
        case .pylon: "pylon"
        case .victron: "victron"
        case .sma: "sma"
        }
    }

    /// The number of frames in one complete set.
    public var frameCount: Int {
        switch self {
        case .pylon: 6
        case .sma: 7
        case .victron: 17
        }
    }

    /// The `i`th frame of a complete set, in sending order (a switch, not an array: arrays
    /// would need a heap on the device).
    public func frameID(at i: Int) -> UInt16 {
        switch self {
        case .pylon:
            switch i {
            case 0: 0x351
            case 1: 0x355
            case 2: 0x356
            case 3: 0x359
            case 4: 0x35C
            default: 0x35E
            }
        case .sma:
            switch i {
            case 0: 0x351
            case 1: 0x355
            case 2: 0x356
            case 3: 0x35A
            case 4: 0x35B
            case 5: 0x35E
            default: 0x35F
            }
        case .victron:
            switch i {
            case 0: 0x351
            case 1: 0x355
            case 2: 0x356
            case 3: 0x35A
            case 4: 0x35E
            case 5: 0x35F
            case 6...15: 0x370 + UInt16(i - 6)  // 0x370 ... 0x379
            default: 0x382
            }
        }
    }

    /// Whether a complete set contains `id`.
    public func sends(_ id: UInt16) -> Bool {
        for i in 0..<frameCount where frameID(at: i) == id { return true }
        return false
    }

    /// The name sent in 0x35E unless configured otherwise. Deye and others gate on "PYLON".
    public var defaultName: StaticString {
        switch self {
        case .pylon: "PYLON"
        case .victron, .sma: "FLEXBMS"
        }
    }
}

/// How the battery presents itself on the inverter bus; everything an installer may change.
public struct InverterSettings: Sendable {
    public var profile: InverterProfile
    /// Name in 0x35E (at most 8 ASCII characters, space-padded) and in Victron's 0x370/0x371
    /// (16, NUL-padded) and 0x382.
    public var name: InlineArray<16, UInt8> = InlineArray(repeating: 0)
    public private(set) var nameLength = 0
    /// Report at most 99 % until the BMS has seen the battery full: some inverters stop
    /// charging as soon as they read 100 %.
    public var capSOCBelowFull = true
    /// Force-charge requests below these SOCs (0–1), released 3 % above.
    public var forceCharge1SOC: Float = 0.05
    public var forceCharge2SOC: Float = 0.02
    /// Ask for a full charge when the SOC has not reached 97 % for this many days (0 = never).
    public var fullChargeRequestDays: UInt16 = 30
    /// The inverter is reported silent after this long without its keep-alive (10–60 s).
    public var livenessTimeoutMs: UInt32 = 30_000
    /// Firmware version in 0x35F.
    public var versionMajor: UInt8 = 0
    public var versionMinor: UInt8 = 1

    public init(profile: InverterProfile) {
        self.profile = profile
        setName(profile.defaultName)
    }

    /// Sets the name; returns false (and changes nothing) when it is empty, longer than 16
    /// characters or not printable ASCII.
    @discardableResult
    public mutating func setName(_ text: StaticString) -> Bool {
        text.withUTF8Buffer { setName(bytes: $0) }
    }

    @discardableResult
    public mutating func setName(bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 16 else { return false }
        for b in bytes where b < 0x20 || b > 0x7E { return false }
        name = InlineArray(repeating: 0)
        for (i, b) in bytes.enumerated() { name[i] = b }
        nameLength = bytes.count
        return true
    }
}
