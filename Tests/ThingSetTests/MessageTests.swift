import Testing
@testable import ThingSet

@Suite struct MessageTests {
    func binary(_ bytes: [UInt8]) throws(ThingSetStatus) -> ThingSetRequest? {
        try bytes.withUnsafeBufferPointer { (p: UnsafeBufferPointer<UInt8>) throws(ThingSetStatus) -> ThingSetRequest? in
            try ThingSetRequest.parseBinary(p)
        }
    }

    func text(_ line: String) throws(ThingSetStatus) -> ThingSetRequest? {
        try Array(line.utf8).withUnsafeBufferPointer { (p: UnsafeBufferPointer<UInt8>) throws(ThingSetStatus) -> ThingSetRequest? in
            try ThingSetRequest.parseText(p)
        }
    }

    @Test func binaryRequestsAsPythonThingSetBuildsThem() throws {
        // GET by ID 0x7C (rSOC_pct): 01 18 7C.
        #expect(try binary(hex("01187c")) == ThingSetRequest(function: .get, endpoint: .id(0x7C), payload: nil))
        // GET by path "Meas": 01 64 4D 65 61 73 — the path's bytes are 2..<6.
        #expect(try binary(hex("01644d656173")) == ThingSetRequest(function: .get, endpoint: .path(2..<6), payload: nil))
        // FETCH discovery of the root by ID: 05 00 F6.
        #expect(try binary(hex("0500f6")) == ThingSetRequest(function: .fetch, endpoint: .id(0), payload: 2..<3))
        // UPDATE Conf {0x60: 3.65}: 07 05 A1 18 60 FA 40 69 99 9A.
        #expect(try binary(hex("0705a11860fa4069999a")) == ThingSetRequest(function: .update, endpoint: .id(5), payload: 2..<10))
        // EXEC without parameters, and one record [id, index].
        #expect(try binary(hex("02184b")) == ThingSetRequest(function: .exec, endpoint: .id(0x4B), payload: nil))
        #expect(try binary(hex("01821901000a")) == ThingSetRequest(function: .get, endpoint: .record(id: 0x100, index: 10), payload: nil))
    }

    @Test func binaryMessagesThatAreNotRequestsAreDropped() throws {
        #expect(try binary([]) == nil)
        #expect(try binary(hex("85f6f6")) == nil)           // a status
        #expect(try binary(hex("1f18310a")) == nil)         // a report
        #expect(try binary(Array("?Meas".utf8)) == nil)     // text on a binary channel
    }

    @Test(arguments: [
        ("1c00", ThingSetStatus.notAGateway),        // forward envelope
        ("01612f", .notAGateway),                    // absolute path "/"
        ("01f4", .badRequest),                       // endpoint neither path nor ID
        ("0183010203", .badRequest),                 // record endpoint of three numbers
        ("0164", .badRequest),                       // truncated path
        ("01187c00", .badRequest),                   // GET with a payload
        ("0705", .badRequest),                       // UPDATE without a payload
        ("0705a1", .badRequest),                     // truncated payload
        ("0705a0f6", .badRequest),                   // two items after the endpoint
        ("011bffffffffffffffff", .notFound),         // an ID beyond 32 bits
    ])
    func malformedBinaryRequestsGetTheirStatus(message: String, status: ThingSetStatus) {
        #expect(throws: status) { try binary(hex(message)) }
    }

    @Test func textRequestsOfTheSpecTable() throws {
        let get = try #require(try text("?Meas/rSOC_pct"))
        #expect(get.function == .get && get.endpoint == .path(1..<14) && get.payload == nil)
        let fetch = try #require(try text(#"?Meas ["rSOC_pct","rBmsState"]"#))
        #expect(fetch.function == .fetch && fetch.endpoint == .path(1..<5) && fetch.payload == 6..<30)
        #expect(try text("?Input null")?.function == .fetch)
        #expect(try text(#"=Input {"wChgEnable":false}"#)?.function == .update)
        // "= {…}" addresses the root: an empty path.
        let root = try #require(try text(#"= {"x":1}"#))
        #expect(root.endpoint == .path(1..<1) && root.payload == 2..<9)
        #expect(try text("!Device/xReset") == ThingSetRequest(function: .exec, endpoint: .path(1..<14), payload: nil))
        #expect(try text("!Conf/xPresetLFP [100]")?.payload == 17..<22)
        #expect(try text(#"+mLive "Meas/rCellMinVoltage_V""#)?.function == .create)
        #expect(try text(#"-mLive "Meas/rCellMinVoltage_V""#)?.function == .delete)
        #expect(try text("?")?.endpoint == .path(1..<1))
    }

    @Test func textLinesThatAreNotRequests() throws {
        #expect(try text("") == nil)
        #expect(try text(":85 95.7") == nil)
        #expect(try text(#"#mLive {"Meas":{}}"#) == nil)
        #expect(try text("booting FlexBMS…") == nil)
    }

    @Test(arguments: [
        ("?/ null", ThingSetStatus.notAGateway),
        ("?Meas/rSOC pct", .badRequest),            // FETCH whose payload is not a payload… parsed later; path ok
        ("?Me\"as", .badRequest),
        ("=Conf", .badRequest),                     // UPDATE without an object
        ("?Meas ", .badRequest),                    // a space and nothing
    ])
    func malformedTextRequestsGetTheirStatus(line: String, status: ThingSetStatus) {
        if line == "?Meas/rSOC pct" {
            // The path ends at the space; "pct" is a FETCH payload, judged by the object layer.
            #expect((try? text(line))??.function == .fetch)
            return
        }
        #expect(throws: status) { try text(line) }
    }
}

@Suite struct FramingTests {
    func frame(_ s: String) -> ThingSetFrame {
        hex(s).withUnsafeBufferPointer { ThingSetRequest.binaryFrame($0) }
    }

    @Test func requestsAreCutFromAStream() {
        #expect(frame("01187c") == .complete(3))
        #expect(frame("01187c01187f") == .complete(3))           // the next request waits
        #expect(frame("0705a11860fa4069999a") == .complete(10))
        #expect(frame("0705a11860fa406999") == .incomplete)       // the float is cut
        #expect(frame("0218a2") == .incomplete)                   // EXEC waits for its parameters
        #expect(frame("") == .incomplete)
        #expect(frame("0705a11860fc") == .malformed)              // reserved additional info
        #expect(frame("85f6f6") == .notARequest)
        // A forward envelope with its inner GET.
        #expect(frame("1c70" + "30303030303030303030303030303031" + "01187c") == .complete(21))
        #expect(frame("1c70" + "30303030") == .incomplete)
    }
}
