import Testing
@testable import BMSCore

@Suite struct ActiveBalancerProtocolTests {
    func frame(_ bytes: [UInt8]) -> ActiveBalancerBytes {
        bytes.withUnsafeBufferPointer { ActiveBalancerBytes($0) }
    }

    @Test func crcIsTheSMBusPEC() {
        // The published check value of CRC-8/SMBUS for "123456789" is 0xF4.
        let f = frame(Array("123456789".utf8))
        #expect(ActiveBalancerFrame.crc8(f, count: 9) == 0xF4)
    }

    @Test func commandRoundTripsInMilliamps() throws {
        var setpoints = InlineArray<16, Float>(repeating: 0)
        setpoints[0] = 1.2344
        setpoints[3] = -2
        setpoints[15] = 40  // beyond the wire's range: held at 32.767 A
        let command = ActiveBalancerCommand(enable: true, cells: 16, setpoints: setpoints)
        let bytes = command.encoded()
        #expect(bytes.count == 4 + 32 + 1)
        #expect(bytes.bytes[0] == 0xAB && bytes.bytes[1] == 0x01 && bytes.bytes[2] == 1 && bytes.bytes[3] == 16)
        // 1234 mA little-endian.
        #expect(bytes.bytes[4] == 0xD2 && bytes.bytes[5] == 0x04)
        let back = try ActiveBalancerCommand(decoding: bytes)
        #expect(back.enable && back.cells == 16)
        #expect(back.setpoints[0] == 1.234 && back.setpoints[3] == -2 && back.setpoints[15] == 32.767)
    }

    @Test func statusRoundTrips() throws {
        var currents = InlineArray<16, Float>(repeating: 0)
        currents[2] = -1.5
        let status = ActiveBalancerStatus(enabled: true, cells: 8, currents: currents, faultedCells: 1 << 5,
                                          faults: [.overTemperature, .watchdog], boardTemperature: -12)
        let back = try ActiveBalancerStatus(decoding: status.encoded())
        #expect(back.enabled && back.cells == 8 && back.currents[2] == -1.5)
        #expect(back.faultedCells == 1 << 5 && back.faults == [.overTemperature, .watchdog] && back.boardTemperature == -12)
    }

    @Test func malformedFramesAreNamed() {
        let good = ActiveBalancerCommand(enable: true, cells: 4).encoded()
        var bytes: [UInt8] = (0..<good.count).map { good.bytes[$0] }
        func decode(_ b: [UInt8]) -> ActiveBalancerFrameError? {
            do { _ = try ActiveBalancerCommand(decoding: frame(b)); return nil } catch { return error }
        }
        #expect(decode(bytes) == nil)
        #expect(decode(Array(bytes.prefix(4))) == .tooShort(4))
        #expect(decode(bytes + Array(repeating: 0, count: 40)) == .tooLong(bytes.count + 40))
        var b = bytes; b[0] = 0xAC
        #expect(decode(b) == .badStart(0xAC))
        b = bytes; b[1] = 0x81
        #expect(decode(b) == .unknownType(0x81))  // a status where a command is expected
        b = bytes; b[3] = 0
        #expect(decode(b) == .badCellCount(0))
        b = bytes; b[3] = 17
        #expect(decode(b) == .badCellCount(17))
        b = bytes; b[3] = 5
        #expect(decode(b) == .lengthMismatch(expected: 15, got: 13))
        let crc = bytes[bytes.count - 1]
        bytes[4] ^= 0x01
        guard case .badCRC(_, let got)? = decode(bytes) else { Issue.record("a flipped bit passed"); return }
        #expect(got == crc)
    }
}

@Suite struct ActiveBalancingTests {
    /// 16 LFP cells at the top of charge (3.45 V, charging 10 A): cell 3 is 40 mV high, cell 9
    /// 20 mV low; a 2 A board.
    func topOfCharge(at ms: UInt32) -> Measurement {
        var m = sample(at: ms, cell: 3.45, current: 10)
        m.setCell(3, to: 3.49)
        m.setCell(9, to: 3.43)
        return m
    }

    @Test func dischargesTheHighCellAndChargesTheLowOneInProportion() {
        var rig = Rig()
        rig.bms.activeBalancer = ActiveBalancerBoard(maximumCurrent: 2)
        rig.step(topOfCharge(at: 0))
        let t = rig.bms.balancer.transfers
        // Mean 3.45125 V: cell 3 is 38.75 mV above it (full current from 30 mV), cell 9 is
        // 21.25 mV below (share (21.25 − 5) / 25 = 0.65 → 1.3 A).
        #expect(t[3] == -2)
        #expect(abs(t[9] - 1.3) < 0.01)
        for i in 0..<16 where i != 3 && i != 9 { #expect(t[i] == 0) }
        #expect(rig.bms.balancer.mask == 0)   // no bleeding with a board
        let command = rig.bms.activeBalancerCommand
        #expect(command.enable && command.setpoints[3] == -2)
        // What the estimator adds to each cell's current: the transfer less the stack's share,
        // not a bleed.
        let m = topOfCharge(at: 1000)
        let board = ActiveBalancerBoard(maximumCurrent: 2)
        let added = rig.bms.balancer.cellCurrents(m, cells: 16, bleedResistance: 33, board: board)
        let expected = board.cellCurrents(t, voltages: m.cellVoltages, cells: 16)
        for i in 0..<16 { #expect(added[i] == expected[i]) }
        #expect(added[3] < -1.8 && added[9] > 1.2 && added[0] != 0)
    }

    func oneHigh(at ms: UInt32, _ volts: Float, others: Float = 3.45, current: Float = 10) -> Measurement {
        var m = sample(at: ms, cell: others, current: current)
        m.setCell(3, to: volts)
        return m
    }

    @Test func stopsWithinHalfTheTargetAndNeverChargesAFullCell() {
        var rig = Rig()
        rig.bms.activeBalancer = ActiveBalancerBoard(maximumCurrent: 2)
        // 8 mV high: below the 10 mV start, nothing.
        rig.step(oneHigh(at: 0, 3.4585))
        #expect(rig.bms.balancer.transfers[3] == 0)
        // 12 mV: starts; 6 mV: still running; 4 mV: stopped.
        for (k, high) in [Float(3.4625), 3.4565, 3.4545].enumerated() {
            rig.now = UInt32(k + 1) * 1000
            rig.step(oneHigh(at: rig.now, high))
            let running = rig.bms.balancer.transfers[3] < 0
            #expect(running == (k < 2), "step \(k) at \(high) V")
        }
        // A low cell at the charge target (the others above it): never charged further.
        var top = Rig()
        top.bms.activeBalancer = ActiveBalancerBoard()
        top.step(oneHigh(at: 0, 3.55, others: 3.60, current: 2))
        #expect(top.bms.balancer.transfers[3] == 0)
    }

    @Test func theStackPaysForWhatItMovesWithItsLosses() {
        let board = ActiveBalancerBoard(maximumCurrent: 2, efficiency: 0.9)
        var setpoints = InlineArray<16, Float>(repeating: 0)
        setpoints[0] = 2      // 2 A into cell 1
        let volts = InlineArray<16, Float>(repeating: 3.3)
        let currents = board.cellCurrents(setpoints, voltages: volts, cells: 4)
        // 6.6 W into cell 1 costs 7.33 W from the 13.2 V stack: 0.556 A out of every cell.
        #expect(abs(currents[1] + 0.5556) < 1e-3 && abs(currents[0] - (2 - 0.5556)) < 1e-3)
        #expect(abs(board.loss(setpoints, voltages: volts, cells: 4) - 6.6 * (1 / 0.9 - 1)) < 1e-3)
    }

    @Test func aBoardFaultTurnsItOffUntilItClears() {
        var rig = Rig()
        rig.bms.activeBalancer = ActiveBalancerBoard()
        rig.step(topOfCharge(at: 0))
        #expect(rig.bms.activeBalancerCommand.enable)
        let hot = ActiveBalancerStatus(enabled: true, cells: 16, faultedCells: 1 << 9, faults: [.overTemperature])
        rig.bms.takeActiveBalancerStatus(hot, at: Timestamp(milliseconds: 500))
        rig.bms.takeActiveBalancerStatus(hot, at: Timestamp(milliseconds: 600))   // the same: logged once
        rig.now = 1000
        rig.step(topOfCharge(at: 1000))
        let faults = rig.events.filter { $0.kind == .balancerFault }
        #expect(faults.count == 1 && faults.first?.index == 9 && faults.first?.value == 1)
        #expect(!rig.bms.activeBalancerCommand.enable && rig.bms.activeBalancerCommand.setpoints[3] == 0)
        rig.bms.takeActiveBalancerStatus(ActiveBalancerStatus(enabled: true, cells: 16), at: Timestamp(milliseconds: 1500))
        #expect(rig.bms.activeBalancerCommand.enable)
    }
}
