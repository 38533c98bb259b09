import Testing
@testable import ThingSet

/// A small BMS-like tree with the IDs of the reference firmware, for the spec's byte examples
/// (spec §4.4).
struct TestModel: ThingSetModel {
    var soc: Float = 95.7
    var packVoltage: Float = 52.31
    var state: UInt8 = 3
    var chargeEnable = true, dischargeEnable = true
    var overvoltage: Float = 3.8, overvoltageReset: Float = 3.4
    var calibrationGain: Float = 1
    var resets = 0
    var staged: [(UInt16, ThingSetValue)] = []

    static let objects: [ThingSetObject] = [
        ThingSetObject(id: 0x04, parent: 0, name: "Device", kind: .group, access: ThingSetObject.readOnly),
        ThingSetObject(id: 0x4B, parent: 0x04, name: "xReset", kind: .function(returnsInt: false), access: ThingSetObject.readWrite),
        ThingSetObject(id: 0x05, parent: 0, name: "Conf", kind: .group, access: ThingSetObject.readOnly),
        ThingSetObject(id: 0x60, parent: 0x05, name: "sCellOvervoltage_V", kind: .item(.f32(decimals: 3)), access: ThingSetObject.readWrite),
        ThingSetObject(id: 0x61, parent: 0x05, name: "sCellOvervoltageReset_V", kind: .item(.f32(decimals: 3)), access: ThingSetObject.expertWrite),
        ThingSetObject(id: 0xA2, parent: 0x05, name: "xPresetLFP", kind: .function(returnsInt: true), access: ThingSetObject.readWrite),
        ThingSetObject(id: 0xA3, parent: 0xA2, name: "fCapacity_Ah", kind: .parameter(.f32(decimals: 1)), access: ThingSetObject.readWrite),
        ThingSetObject(id: 0x100, parent: 0x05, name: "pCurrentGain", kind: .item(.f32(decimals: 4)), access: ThingSetObject.manufacturerWrite),
        ThingSetObject(id: 0x07, parent: 0, name: "Meas", kind: .group, access: ThingSetObject.readOnly),
        ThingSetObject(id: 0x71, parent: 0x07, name: "rPackVoltage_V", kind: .item(.f32(decimals: 2)), access: ThingSetObject.readOnly, subsets: 1),
        ThingSetObject(id: 0x7C, parent: 0x07, name: "rSOC_pct", kind: .item(.f32(decimals: 1)), access: ThingSetObject.readOnly, subsets: 1),
        ThingSetObject(id: 0x7F, parent: 0x07, name: "rBmsState", kind: .item(.u8), access: ThingSetObject.readOnly, subsets: 1),
        ThingSetObject(id: 0x09, parent: 0, name: "Input", kind: .group, access: ThingSetObject.readOnly),
        ThingSetObject(id: 0x90, parent: 0x09, name: "wChgEnable", kind: .item(.bool), access: ThingSetObject.readWrite),
        ThingSetObject(id: 0x91, parent: 0x09, name: "wDisEnable", kind: .item(.bool), access: ThingSetObject.readWrite),
        ThingSetObject(id: 0x20, parent: 0, name: "xAuth", kind: .function(returnsInt: false), access: ThingSetObject.readWrite),
        ThingSetObject(id: 0x200, parent: 0x20, name: "uToken", kind: .parameter(.string), access: ThingSetObject.readWrite),
        ThingSetObject(id: 0x31, parent: 0, name: "mLive", kind: .subset(bit: 0), access: ThingSetObject.readOnly),
    ]

    var objectCount: Int { Self.objects.count }
    func object(at index: Int) -> ThingSetObject { Self.objects[index] }

    func encodeValue<E: ThingSetEncoder>(_ id: UInt16, to e: inout E) throws(ThingSetStatus) {
        switch id {
        case 0x60: try e.float(overvoltage, decimals: 3)
        case 0x61: try e.float(overvoltageReset, decimals: 3)
        case 0x100: try e.float(calibrationGain, decimals: 4)
        case 0x71: try e.float(packVoltage, decimals: 2)
        case 0x7C: try e.float(soc, decimals: 1)
        case 0x7F: try e.uint(UInt64(state))
        case 0x90: try e.bool(chargeEnable)
        case 0x91: try e.bool(dischargeEnable)
        default: throw .notFound
        }
    }

    mutating func stage(_ id: UInt16, _ value: ThingSetValue, message: UnsafeBufferPointer<UInt8>) throws(ThingSetStatus) {
        staged.append((id, value))
    }

    /// The reset must stay below the trip, as in BMSConfig: otherwise nothing is applied.
    mutating func commit() throws(ThingSetStatus) {
        var ov = overvoltage, reset = overvoltageReset, charge = chargeEnable, discharge = dischargeEnable, gain = calibrationGain
        for (id, v) in staged {
            switch (id, v) {
            case (0x60, _): ov = v.number!
            case (0x61, _): reset = v.number!
            case (0x100, _): gain = v.number!
            case (0x90, .bool(let b)): charge = b
            case (0x91, .bool(let b)): discharge = b
            default: staged = []; throw .internalError
            }
        }
        staged = []
        guard reset < ov else { throw .conflict }
        (overvoltage, overvoltageReset, chargeEnable, dischargeEnable, calibrationGain) = (ov, reset, charge, discharge, gain)
    }

    mutating func discard() { staged = [] }

    mutating func exec(_ id: UInt16, _ parameters: ThingSetParameters, message: UnsafeBufferPointer<UInt8>,
                       roles: inout ThingSetRoles) throws(ThingSetStatus) -> Int32? {
        switch id {
        case 0x4B: resets += 1; return nil
        case 0xA2: return parameters[0].number == 100 ? 1 : 0
        case 0x20:
            guard case .text(let r) = parameters[0] else { throw .unsupportedFormat }
            let token = String(decoding: UnsafeBufferPointer(rebasing: message[r]), as: UTF8.self)
            roles = token == "expert" ? [.user, .expert] : token == "maker" ? [.user, .manufacturer] : .user
            return nil
        default: throw .notFound
        }
    }
}

/// The node's answer to `request` (hex) as hex.
func answer(_ node: inout ThingSetNode<TestModel>, _ request: String, channel: inout ThingSetChannel) -> String {
    var out = [UInt8](repeating: 0, count: 256)
    let n = hex(request).withUnsafeBufferPointer { m in
        out.withUnsafeMutableBufferPointer { o in node.processBinary(m, into: o, channel: &channel) }
    }
    return out[0..<n].map { String($0, radix: 16, uppercase: true).count == 1 ? "0" + String($0, radix: 16, uppercase: true) : String($0, radix: 16, uppercase: true) }.joined(separator: " ")
}

@Suite struct NodeTests {
    func ask(_ request: String, _ node: inout ThingSetNode<TestModel>) -> String {
        var channel = ThingSetChannel()
        return answer(&node, request, channel: &channel)
    }

    /// The worked examples of spec §4.4, byte for byte.
    @Test func theSpecsWorkedExamples() {
        var node = ThingSetNode(model: TestModel())
        #expect(ask("01187c", &node) == "85 F6 FA 42 BF 66 66")
        #expect(ask("0165496e707574", &node)
                == "85 F6 A2 6A 77 43 68 67 45 6E 61 62 6C 65 F5 6A 77 44 69 73 45 6E 61 62 6C 65 F5")
        #expect(ask("0507f6", &node) == "85 F6 83 18 71 18 7C 18 7F")
        #expect(ask("050782187c187f", &node) == "85 F6 82 FA 42 BF 66 66 03")
        #expect(ask("05644d65617382687253" + "4f435f706374" + "6972426d735374617465", &node) == "85 F6 82 FA 42 BF 66 66 03")
        #expect(ask("0709a11890f4", &node) == "84 F6 F6")
        #expect(node.model.chargeEnable == false)
        #expect(ask("0705a11860fa4069999a", &node) == "84 F6 F6")
        #expect(node.model.overvoltage == 3.65)
        #expect(ask("0707a1187cfa42480000", &node) == "A3 F6 F6")
        #expect(ask("02184b80", &node) == "84 F6 F6")
        #expect(node.model.resets == 1)
        #expect(ask("0218a281fa42c80000", &node) == "84 F6 01")
        #expect(ask("0218a281f95640", &node) == "84 F6 01")   // python-thingset's half float
        #expect(ask("0516816d4d6561732f72534f435f706374", &node) == "85 F6 81 18 7C")
        #expect(ask("051781187c", &node) == "85 F6 81 6D 4D 65 61 73 2F 72 53 4F 43 5F 70 63 74")
        #expect(ask("05181982187c18a2", &node) == "85 F6 82 A3 18 1A 68 72 53 4F 43 5F 70 63 74 18 1B 63 66 33 32 18 1C 07 "
                + "A3 18 1A 6A 78 50 72 65 73 65 74 4C 46 50 18 1B 6C 28 66 33 32 29 2D 3E 28 69 33 32 29 18 1C 18 77")
        // GET on a subset: its member IDs.
        #expect(ask("011831", &node) == "85 F6 83 18 71 18 7C 18 7F")
    }

    @Test func updateRulesAndStatusCodes() {
        var node = ThingSetNode(model: TestModel())
        // No parent given (python-thingset's update without parent_id): root endpoint, any ID.
        #expect(ask("0700a11890f4", &node) == "84 F6 F6")
        #expect(node.model.chargeEnable == false)
        #expect(ask("0705a1190123f4", &node) == "A4 F6 F6")          // unknown ID
        #expect(ask("0709a11860fa4069999a", &node) == "A0 F6 F6")    // an item of another group
        #expect(ask("0705a118606178", &node) == "AF F6 F6")          // a string into a float
        #expect(ask("0709a1189001", &node) == "AF F6 F6")            // 1 is not a boolean
        // All or nothing: the second entry breaks the rule reset < trip, so neither is applied
        // (as an expert, who may write the reset).
        var expert = ThingSetChannel()
        expert.roles = [.user, .expert]
        #expect(answer(&node, "0705a21860fa406000001861fa40700000", channel: &expert) == "A9 F6 F6")   // 3.5 and 3.75
        #expect(node.model.overvoltage == 3.8 && node.model.overvoltageReset == 3.4)
        // EXEC with the wrong parameter count; EXEC of an item; GET of an unknown path.
        #expect(ask("0218a280", &node) == "A0 F6 F6")
        #expect(ask("02187c80", &node) == "A0 F6 F6")
        #expect(ask("01644e6f7065", &node) == "A4 F6 F6")
        // Not requests: no answer at all.
        #expect(ask("85f6f6", &node) == "")
        // A DESIRE is applied like an UPDATE but never answered; entries it cannot take (an
        // unknown ID, a value of the wrong kind) are skipped, the others applied.
        #expect(ask("1d09a11891f4", &node) == "")
        #expect(node.model.dischargeEnable == false)
        #expect(ask("1d09a3190123f4189001" + "1891f5", &node) == "")
        #expect(node.model.dischargeEnable == true)
    }

    @Test func rolesGuardExpertAndManufacturerItems() {
        var node = ThingSetNode(model: TestModel())
        var channel = ThingSetChannel()
        // The reset (expert) refused to a user with A1; the gain (manufacturer) too.
        #expect(answer(&node, "0705a11861fa40500000", channel: &channel) == "A1 F6 F6")
        #expect(answer(&node, "0705a1190100fa3f800000", channel: &channel) == "A1 F6 F6")
        // xAuth "expert": the reset may be written now, the gain still not.
        #expect(answer(&node, "0218208166657870657274", channel: &channel) == "84 F6 F6")
        #expect(answer(&node, "0705a11861fa40500000", channel: &channel) == "84 F6 F6")
        #expect(node.model.overvoltageReset == 3.25)
        #expect(answer(&node, "0705a1190100fa3f800000", channel: &channel) == "A1 F6 F6")
        // Another channel is still a plain user.
        var other = ThingSetChannel()
        #expect(answer(&node, "0705a11861fa40500000", channel: &other) == "A1 F6 F6")
        // A wrong token drops back to user.
        #expect(answer(&node, "02182081656f74686572", channel: &channel) == "84 F6 F6")
        #expect(channel.roles == .user)
    }
}
