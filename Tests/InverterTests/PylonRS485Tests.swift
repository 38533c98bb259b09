import Testing
@testable import Inverter

func respond(_ responder: inout PylonResponder, _ line: String, report: BatteryReport = BatteryReport(),
             pack: PackDetail = PackDetail()) -> String {
    var out = [UInt8](repeating: 0, count: 512)
    let n = Array(line.utf8).withUnsafeBufferPointer { l in
        out.withUnsafeMutableBufferPointer { responder.respond(to: l, report: report, pack: pack, into: $0) }
    }
    return String(decoding: out[0..<n], as: UTF8.self)
}

func parse(_ line: String) -> PylonRS485.Request? {
    Array(line.utf8).withUnsafeBufferPointer { PylonRS485.parse($0) }
}

/// The INFO bytes of an answer frame, checked for both checksums on the way.
func info(_ frame: String) -> [UInt8]? {
    guard let q = parse(frame), q.error == .normal else { return nil }
    return (0..<q.infoCount).map { q.info[$0] }
}

func be16(_ b: [UInt8], _ k: Int) -> Int { Int(b[k]) << 8 | Int(b[k + 1]) }
func sbe16(_ b: [UInt8], _ k: Int) -> Int { Int(Int16(bitPattern: UInt16(be16(b, k)))) }

@Suite struct PylonFrameTests {
    @Test func lengthChecksumsOfTheSpec() {
        #expect(PylonRS485.lengthChecksum(0x012) == 0xD)
        #expect(PylonRS485.lengthChecksum(0x01F) == 0x0)  // the case one emulator gets wrong
        #expect(PylonRS485.lengthChecksum(0x002) == 0xE)
        #expect(PylonRS485.lengthChecksum(0x014) == 0xB)
        #expect(PylonRS485.lengthChecksum(0) == 0)
    }

    @Test func theSpecsRequestFramesParse() {
        for (frame, cid2, infoBytes) in [("~20024692E00202FD2E", 0x92, [0x02]), ("~20024642E00202FD33", 0x42, [0x02]),
                                         ("~20024642E002FFFD09", 0x42, [0xFF]), ("~20024644E00202FD31", 0x44, [0x02]),
                                         ("~200246470000FDA7", 0x47, []), ("~2002464F0000FD98", 0x4F, []),
                                         ("~20014682C0048520FCC3", 0x82, [0x85, 0x20])] {
            let q = parse(frame + "\r")
            #expect(q?.error == .normal, "\(frame)")
            #expect(q.map { Int($0.cid2) } == cid2)
            #expect(q.map { r in (0..<r.infoCount).map { Int(r.info[$0]) } } == infoBytes)
        }
        // A real UP2500 answer (python-pylontech's test data) passes both checksums.
        let up2500 = info("~20024600B014026EF05AA0022BFDD5C0F915")
        #expect(up2500 == [0x02, 0x6E, 0xF0, 0x5A, 0xA0, 0x02, 0x2B, 0xFD, 0xD5, 0xC0])
    }

    @Test func damagedFramesAreNamed() {
        #expect(parse("~20024692E00202FD2F")?.error == .checksumError)
        #expect(parse("~20024692F00202FD2D")?.error == .lengthChecksumError)
        #expect(parse("~20024692C00402FD2E")?.error == .formatError)   // LENID 4, two INFO characters
        #expect(parse("~2002469ZE00202FD2E") == nil)                   // no readable header
        #expect(parse("20024692E00202FD2E") == nil)                    // no SOI
        #expect(parse("~2002") == nil)
        #expect(parse("noise~20024692E00202FD2E\r")?.error == .normal)  // leading noise skipped
    }
}

@Suite struct PylonResponderTests {
    /// The worked example of spec §2.6: CVL 53.2 V, DVL 44.0 V, CCL 50 A, DCL 50 A, both allowed.
    @Test func managementAnswerOfTheSpec() {
        var responder = PylonResponder()
        var r = BatteryReport()
        r.chargeVoltageLimit = 53.2
        r.dischargeVoltageLimit = 44
        r.chargeCurrentLimit = 50
        r.dischargeCurrentLimit = 50
        r.chargeAllowed = true
        r.dischargeAllowed = true
        #expect(respond(&responder, "~20024692E00202FD2E\r", report: r) == "~20024600B01402CFD0ABE001F4FE0CC0F8F8\r")
        // The same through the pylontech client's form of INFO: address, pack number, lower case.
        #expect(respond(&responder, "~20024692C0040201FCCD\r", report: r) == "~20024600B01402CFD0ABE001F4FE0CC0F8F8\r")
        // Charging blocked: zero current, CVL held at the present voltage, enable bit cleared.
        r.chargeAllowed = false
        r.voltage = 52.0
        let blocked = info(respond(&responder, "~20024692E00202FD2E", report: r))!
        #expect(be16(blocked, 1) == 52000 && sbe16(blocked, 5) == 0 && blocked[9] == 0x40)
    }

    @Test func analogValuesCarryEveryCellAndSensor() {
        var responder = PylonResponder()
        var r = BatteryReport()
        r.current = -12.3
        r.voltage = 52.91
        r.cycleCount = 7
        var pack = PackDetail()
        for i in 0..<16 { pack.cellVoltages[i] = 3.3 + Float(i) * 0.001 }
        pack.cellCount = 16
        pack.temperatures[0] = 31.5
        pack.temperatures[1] = 24
        pack.temperatureCount = 2
        pack.remainingCapacity = 60.5
        pack.fullCapacity = 100
        let a = info(respond(&responder, "~20024642C0040201FCD2\r", report: r, pack: pack))!
        #expect(a[1] == 2 && a[2] == 16)
        #expect(be16(a, 3) == 3300 && be16(a, 33) == 3315)
        #expect(a[35] == 2 && be16(a, 36) == 3046 && be16(a, 38) == 2971)
        #expect(sbe16(a, 40) == -123 && be16(a, 42) == 52910)
        #expect(be16(a, 44) == 0xFFFF && a[46] == 4 && be16(a, 47) == 0xFFFF && be16(a, 49) == 7)
        #expect(Int(a[51]) << 16 | be16(a, 52) == 60500 && Int(a[54]) << 16 | be16(a, 55) == 100_000)
        #expect(a.count == 57)
        // A small pack: 16-bit capacities, two user-defined items.
        pack.remainingCapacity = 30
        pack.fullCapacity = 50
        let small = info(respond(&responder, "~20024642E00202FD33\r", report: r, pack: pack))!
        #expect(be16(small, 44) == 30000 && small[46] == 2 && be16(small, 47) == 50000 && small.count == 51)
        // The whole-system form: the pack count where the address was.
        let whole = info(respond(&responder, "~20024642C00402ffFC67\r", report: r, pack: pack))!
        #expect(whole[1] == 1 && whole[2] == 16 && whole.count == small.count)
    }

    @Test func alarmInformationNamesCellsSensorsAndStatus() {
        var responder = PylonResponder()
        var r = BatteryReport()
        r.protections = [.highVoltage, .highChargeTemperature]
        r.maxTemperature = 50
        r.minTemperature = 20
        r.current = 5
        var pack = PackDetail()
        pack.cellCount = 4
        for (i, v) in [3.3, 3.86, 2.9, 3.3].enumerated() { pack.cellVoltages[i] = Float(v) }
        pack.temperatures[0] = 20
        pack.temperatures[1] = 50
        pack.temperatureCount = 2
        pack.cellOvervoltage = 3.8; pack.cellHighWarning = 3.7
        pack.cellLowWarning = 2.9; pack.cellUndervoltage = 2.5
        pack.dischargeSwitchOn = true
        let a = info(respond(&responder, "~20024644E00202FD31\r", report: r, pack: pack))!
        #expect(a[0] == 0x11)  // an alarm and a switch change not yet read
        #expect(Array(a[1...7]) == [2, 4, 0, 2, 1, 0, 2])
        #expect(Array(a[8...9]) == [0, 2])                 // board normal, the warm sensor above
        #expect(Array(a[10...12]) == [0, 2, 0])            // charge current, module voltage, discharge current
        #expect(a[13] == 0x41)                             // charge over-temperature, over-voltage
        #expect(a[14] == 0x0C)                             // on module power, discharge switch on
        #expect(a[15] == 0x80)                             // charging
        #expect(a[16] == 0x02 && a[17] == 0)               // cell 2 beyond its trip
        // Read: the flags clear until something changes.
        let again = info(respond(&responder, "~20024644E00202FD31\r", report: r, pack: pack))!
        #expect(again[0] == 0)
    }

    @Test func systemParametersIdentityAndVersion() {
        var responder = PylonResponder()
        var pack = PackDetail()
        pack.cellCount = 16
        pack.cellOvervoltage = 3.8; pack.dischargeCutoff = 2.8; pack.cellUndervoltage = 2.5
        pack.chargeMaxTemperature = 45; pack.chargeMinTemperature = 0
        pack.dischargeMaxTemperature = 60; pack.dischargeMinTemperature = -20
        pack.chargeCurrentMaximum = 100; pack.dischargeCurrentMaximum = 120
        for request in ["~200246470000FDA7\r", "~20024647E00202FD2E\r"] {
            let p = info(respond(&responder, request, pack: pack))
            #expect(p?.count == 25, "\(request)")
            guard let p, p.count == 25 else { continue }
            #expect(be16(p, 1) == 3800 && be16(p, 3) == 2800 && be16(p, 5) == 2500)
            #expect(be16(p, 7) == 3181 && be16(p, 9) == 2731 && sbe16(p, 11) == 1000)
            #expect(be16(p, 13) == 60800 && be16(p, 15) == 44800 && be16(p, 17) == 40000)
            #expect(be16(p, 19) == 3331 && be16(p, 21) == 2531 && sbe16(p, 23) == -1200)
        }
        #expect(respond(&responder, "~2002464F0000FD98\r") == "~200246000000FDB2\r")
        let name = info(respond(&responder, "~200246510000FDAC\r"))!
        #expect(name.count == 32 && String(decoding: name[0..<7], as: UTF8.self) == "FlexBMS" && name[7] == 0)
        let serial = info(respond(&responder, "~20024693C0040201FCCC\r"))!
        #expect(serial.count == 17 && serial[0] == 2)
    }

    @Test func errorsAreAnsweredAndOtherAddressesLeftAlone() {
        var responder = PylonResponder()
        let rtn = { (frame: String) -> UInt8? in parse(frame).map { $0.cid2 } }  // RTN sits where CID2 was
        #expect(rtn(respond(&responder, "~20024692E00202FD2F\r")) == 0x02)
        #expect(rtn(respond(&responder, "~20024692F00202FD2D\r")) == 0x03)
        #expect(rtn(respond(&responder, "~20024699E00202FD27\r")) == 0x04)
        #expect(rtn(respond(&responder, "~21024692E00202FD2D\r")) == 0x01)
        #expect(rtn(respond(&responder, "~20024692E00203FD2D\r")) == 0x90)
        #expect(respond(&responder, "~20034692E00203FD2C\r") == "")   // pack 3's frame: not ours
        #expect(respond(&responder, "~20014A420000FDA2\r") == "")      // PACE dialect: not answered
        #expect(respond(&responder, "~20024A420000FFFF\r") == "")      // nor when damaged
        #expect(respond(&responder, "garbage\r") == "")
        var third = PylonResponder(address: 3)
        #expect(info(respond(&third, "~20034692E00203FD2C\r"))?.first == 3)
    }
}
