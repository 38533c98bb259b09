import Testing
@testable import AFE

/// The BQ76952 driver against the register-level emulator: what the chip would do with what
/// the driver writes.
struct BQ76952Tests {
    typealias Driver = BQ76952Driver<BQ76952Emulator>

    func started(crc: Bool = false) throws -> Driver {
        var driver = Driver(bus: BQ76952Emulator(shuntResistance: 0.0003, crcMode: crc), shuntResistance: 0.0003,
                            crcMode: crc)
        try driver.start()
        return driver
    }

    /// Advances the chip by `ms` in 100 ms ticks.
    func run(_ driver: inout Driver, ms: UInt32) {
        var t: UInt32 = 0
        while t < ms { driver.bus.tick(milliseconds: 100); t += 100 }
    }

    @Test func crcMatchesTIsWorkedExamples() {
        // SLUAA11 §4: FET_ENABLE written to 0x3E, and Cell 1 Voltage read back as 0x0B68.
        var a = CRC8(); for b: UInt8 in [0x10, 0x3E, 0x22] { a.add(b) }
        #expect(a.value == 0x63)
        var b = CRC8(); b.add(0x00)
        #expect(b.value == 0x00)
        var c = CRC8(); for x: UInt8 in [0x10, 0x14, 0x11, 0x68] { c.add(x) }
        #expect(c.value == 0x33)
        var d = CRC8(); d.add(0x0B)
        #expect(d.value == 0x31)
        // TRM 13.1: 0x307A written to 0x9180 has the checksum 0x44.
        var data = I2CBytes(); data.append(0x7A); data.append(0x30)
        #expect(BQ76952.checksum(0x9180, data) == 0x44)
    }

    @Test func startTakesTheChipIntoAKnownState() throws {
        let driver = try started()
        let chip = driver.bus
        #expect(chip.setting(.daConfiguration) == 0x06)
        #expect(abs(chip.ccGain - 7.5684 / 0.3) < 0.001)
        #expect(chip.setting(.vcellMode) == 0xFFFF)
        #expect(chip.setting(.ts1Config) == 0x07 && chip.setting(.ts2Config) == 0x07 && chip.setting(.ts3Config) == 0)
        #expect(chip.fetEnable)
        #expect(!chip.chargeFET && !chip.dischargeFET, "the host holds the FETs off until it allows them")
        #expect(!chip.configUpdate)
    }

    @Test func readsThePackInSIUnits() throws {
        var driver = try started()
        for k in 0..<16 { driver.bus.analog.cellVoltages[k] = 3.2 + Float(k) * 0.01 }
        driver.bus.analog.current = 87.65
        driver.bus.analog.packVoltage = 53.1
        driver.bus.analog.thermistors[0] = 31.5
        driver.bus.analog.thermistors[1] = -4
        let r = try driver.read()
        #expect(r.cellCount == 16)
        #expect(abs(r.cellVoltages[0] - 3.2) < 0.0011 && abs(r.cellVoltages[15] - 3.35) < 0.0011)
        // 10 mA user amps: 87.65 A fits an I2 (1 mA would not).
        #expect(abs(r.current - 87.65) < 0.011)
        #expect(abs(r.packVoltage - 53.1) < 0.011)
        #expect(abs(r.stackVoltage - 52.4) < 0.011)
        #expect(r.temperatureCount == 2 && abs(r.temperatures[0] - 31.5) < 0.06 && abs(r.temperatures[1] + 4) < 0.06)
        driver.bus.analog.current = -120.5
        #expect(abs(try driver.read().current + 120.5) < 0.011)
    }

    @Test func aWrongCCGainReadsAWrongCurrent() throws {
        // The emulator really divides by the gain: a driver that forgot it would read 3.3 × off.
        var chip = BQ76952Emulator(shuntResistance: 0.0003)
        chip.analog.current = 10
        #expect(abs(Float(chip.userAmps(10)) * 0.001 - 10 * 0.3 * 7.4768 / 7.5684) < 0.01)
    }

    @Test func configurationRoundTripsThroughTheChip() throws {
        var driver = try started()
        var p = AFEProtection()
        p.cellOvervoltage = 3.8; p.cellOvervoltageRecovery = 3.5; p.cellOvervoltageDelayMs = 2000
        p.cellUndervoltage = 2.5; p.cellUndervoltageRecovery = 2.8; p.cellUndervoltageDelayMs = 2000
        p.chargeOvercurrent = 100; p.dischargeOvercurrent = 120; p.shortCircuit = 350
        p.shortCircuitDelayMicroseconds = 200
        p.chargeMaximumTemperature = 45; p.dischargeMinimumTemperature = -20
        let realised = try driver.configure(p)
        // The codes the chip holds (50.6 mV, 3.3 ms, 2 mV steps; SCD table; 15 µs).
        let chip = driver.bus
        #expect(chip.setting(.covThreshold) == 75)       // 3.795 V
        #expect(chip.setting(.covRecoveryHysteresis) == 6)
        #expect(chip.setting(.covDelay) == 606)          // 1999.8 ms
        #expect(chip.setting(.cuvThreshold) == 49)       // 2.4794 V
        #expect(chip.setting(.occThreshold) == 15)       // 30 mV = 100 A on 0.3 mΩ
        #expect(chip.setting(.ocd1Threshold) == 18)      // 36 mV = 120 A
        #expect(chip.setting(.scdThreshold) == 5)        // 100 mV: the step at or below 105 mV
        #expect(chip.setting(.scdDelay) == 14)
        #expect(chip.setting(.enabledProtectionsA) == 0xBC)
        #expect(chip.setting(.otcThreshold) == 45 && chip.setting(.otcRecovery) == 40)
        #expect(chip.setting(.utdThreshold) == UInt32(UInt8(bitPattern: -20)))
        // What comes back is what the chip does.
        #expect(abs(realised.cellOvervoltage - 3.795) < 0.0005)
        #expect(abs(realised.cellOvervoltageRecovery - (3.795 - 6 * 0.0506)) < 0.0005)
        #expect(realised.cellOvervoltageDelayMs == 2000)
        #expect(abs(realised.shortCircuit - 333.33) < 0.1)
        #expect(abs(realised.chargeOvercurrent - 100) < 0.01)
        #expect(realised.shortCircuitDelayMicroseconds == 195)
        #expect(realised.chargeMaximumTemperature == 45 && realised.temperatureHysteresis == 5)
        // Realised values are a fixed point: writing them back changes nothing.
        let again = try driver.configure(realised)
        #expect(again == realised)
        #expect(!driver.bus.configUpdate)
    }

    @Test func outOfRangeLimitsAreClampedAndSaid() throws {
        var driver = try started()
        var p = AFEProtection()
        p.cellOvervoltage = 6.0      // above 110 steps
        p.cellUndervoltage = 0.5     // below 20 steps
        p.chargeOvercurrent = 1000   // above 62 × 2 mV on 0.3 mΩ
        let r = try driver.configure(p)
        #expect(abs(r.cellOvervoltage - 110 * 0.0506) < 0.0005)
        #expect(abs(r.cellUndervoltage - 20 * 0.0506) < 0.0005)
        #expect(abs(r.chargeOvercurrent - 124 / 0.3) < 0.1)
        var q = AFEProtection()
        q.cellOvervoltage = 2.0; q.cellUndervoltage = 2.5
        #expect(throws: AFEError.unsupported) { _ = try driver.configure(q) }
    }

    @Test func overvoltageTripsAfterItsDelayAndReleasesBelowItsRecovery() throws {
        var driver = try started()
        var p = AFEProtection()
        p.cellOvervoltage = 3.8; p.cellOvervoltageRecovery = 3.5; p.cellOvervoltageDelayMs = 1000
        p.recoverySeconds = 2
        _ = try driver.configure(p)
        try driver.setSwitches(AFESwitches(charge: true, discharge: true))
        #expect(driver.bus.chargeFET && driver.bus.dischargeFET)
        driver.bus.analog.cellVoltages[6] = 3.80
        run(&driver, ms: 900)
        var r = try driver.read()
        #expect(r.status.alerting.contains(.cellOvervoltage) && r.status.tripped.isEmpty)
        #expect(r.switches.charge)
        run(&driver, ms: 100)   // 303 × 3.3 ms = 999.9 ms
        #expect(driver.bus.alert)
        r = try driver.read()
        #expect(r.status.tripped == .cellOvervoltage)
        #expect(!r.switches.charge && r.switches.discharge, "COV turns CHG off only")
        #expect(!driver.bus.alert, "reading acknowledges the alarm")
        // Above the recovery (3.795 − 0.304 V): stays tripped however long.
        driver.bus.analog.cellVoltages[6] = 3.55
        run(&driver, ms: 10_000)
        #expect(try driver.read().status.tripped == .cellOvervoltage)
        driver.bus.analog.cellVoltages[6] = 3.45
        run(&driver, ms: 1900)
        #expect(try driver.read().status.tripped == .cellOvervoltage)
        run(&driver, ms: 100)
        r = try driver.read()
        #expect(r.status.tripped.isEmpty && r.switches.charge)
    }

    @Test func shortCircuitOpensBothFETsAtOnceAndRetriesAfterItsTime() throws {
        var driver = try started()
        var p = AFEProtection()
        p.shortCircuit = 350; p.recoverySeconds = 5
        _ = try driver.configure(p)
        try driver.setSwitches(AFESwitches(charge: true, discharge: true))
        driver.bus.analog.current = -330   // 99 mV: below the 100 mV step
        run(&driver, ms: 100)
        #expect(!(try driver.read().status.tripped.contains(.shortCircuit)))
        driver.bus.analog.current = -340   // 102 mV
        driver.bus.tick(milliseconds: 1)
        let r = try driver.read()
        #expect(r.status.tripped.contains(.shortCircuit))
        #expect(!r.switches.charge && !r.switches.discharge)
        driver.bus.analog.current = 0
        run(&driver, ms: 4900)
        #expect(try driver.read().status.tripped.contains(.shortCircuit))
        run(&driver, ms: 200)
        #expect(try driver.read().switches == AFESwitches(charge: true, discharge: true))
    }

    @Test func dischargeOvercurrentAndTemperatureTrips() throws {
        var driver = try started()
        var p = AFEProtection()
        p.dischargeOvercurrent = 120; p.dischargeOvercurrentDelayMs = 100
        p.chargeMaximumTemperature = 45
        _ = try driver.configure(p)
        try driver.setSwitches(AFESwitches(charge: true, discharge: true))
        driver.bus.analog.current = -125
        run(&driver, ms: 100)
        var r = try driver.read()
        #expect(r.status.tripped == .dischargeOvercurrent && !r.switches.discharge && r.switches.charge)
        driver.bus.analog.current = 0
        run(&driver, ms: 6000)
        driver.bus.analog.current = 20
        driver.bus.analog.thermistors[1] = 46
        run(&driver, ms: 2000)
        r = try driver.read()
        #expect(r.status.tripped == .chargeOvertemperature && !r.switches.charge)
    }

    @Test func switchesAreControlledPerFETWithTheControlLayoutNotTheStatusLayout() throws {
        var driver = try started()
        try driver.setSwitches(AFESwitches(charge: true, discharge: false))
        #expect(driver.bus.chargeFET && !driver.bus.dischargeFET)
        #expect(try driver.read().switches == AFESwitches(charge: true, discharge: false))
        try driver.setSwitches(AFESwitches(charge: false, discharge: true))
        #expect(!driver.bus.chargeFET && driver.bus.dischargeFET)
        #expect(try driver.read().switches == AFESwitches(charge: false, discharge: true))
        // The board's FET-off line works without I2C.
        driver.bus.silent = true
        driver.bus.dischargeOffPin = true
        #expect(!driver.bus.dischargeFET)
    }

    @Test func hostBalancingBleedsTheCellsAsked() throws {
        var driver = try started()
        try driver.balance(0b1000_0000_0000_0101)
        #expect(driver.bus.balancing == 0b1000_0000_0000_0101)
        #expect(try driver.read().balancing == 0b1000_0000_0000_0101)
        try driver.balance(0)
        #expect(driver.bus.balancing == 0)
    }

    @Test func automaticBalancingPicksTheHighestCellsNeverNeighbours() throws {
        var driver = try started()
        var b = AFEBalancing()
        b.automatic = true; b.minimumCellVoltage = 3.3; b.startDifference = 0.03; b.stopDifference = 0.01
        b.maximumCells = 3
        let realised = try driver.configure(b)
        #expect(realised == b)
        for k in 0..<16 { driver.bus.analog.cellVoltages[k] = 3.35 }
        driver.bus.analog.cellVoltages[4] = 3.45
        driver.bus.analog.cellVoltages[5] = 3.44
        driver.bus.analog.cellVoltages[6] = 3.43
        driver.bus.analog.cellVoltages[10] = 3.40
        driver.bus.analog.cellVoltages[12] = 3.36   // within the start difference
        driver.bus.analog.current = 5
        run(&driver, ms: 100)
        // 4 and 6 (5 neighbours 4), then 10; at most 3.
        #expect(try driver.read().balancing == (1 << 4) | (1 << 6) | (1 << 10))
        // Cell 10 comes down to within the stop difference of the lowest: it stops.
        driver.bus.analog.cellVoltages[10] = 3.355
        run(&driver, ms: 100)
        #expect(driver.bus.balancing == (1 << 4) | (1 << 6))
        // Discharging: neither charging nor relaxed, so no balancing.
        driver.bus.analog.current = -20
        run(&driver, ms: 100)
        #expect(driver.bus.balancing == 0)
    }

    @Test func crcModeWorksAndCatchesCorruption() throws {
        var driver = try started(crc: true)
        driver.bus.analog.cellVoltages[0] = 2.920
        #expect(abs(try driver.read().cellVoltages[0] - 2.92) < 0.0011)
        _ = try driver.configure(AFEProtection())
        #expect(driver.bus.rejectedTransfers == 0)
        // A driver without CRC talking to a CRC part: its writes are refused.
        var plain = Driver(bus: BQ76952Emulator(crcMode: true), shuntResistance: 0.0003, crcMode: false)
        #expect(throws: AFEError.self) { try plain.start() }
        #expect(plain.bus.rejectedTransfers > 0)
    }

    @Test func aCorruptedAnswerIsAnErrorNotAReading() throws {
        var driver = BQ76952Driver(bus: Corrupting(chip: BQ76952Emulator(crcMode: true)), shuntResistance: 0.0003,
                                   crcMode: true)
        try driver.start()
        driver.bus.flipNextRead = true
        #expect(throws: AFEError.corrupted) { _ = try driver.read() }
    }

    @Test func dataMemoryIsWrittenOnlyInConfigUpdateWithAValidChecksum() throws {
        var chip = BQ76952Emulator()
        func write(_ chip: inout BQ76952Emulator, checksum: UInt8?) throws {
            var block = I2CBytes()
            for b: UInt8 in [0x3E, 0x78, 0x92, 80] { block.append(b) }
            try chip.write(0x08, block)
            var data = I2CBytes(); data.append(80)
            var tail = I2CBytes()
            tail.append(0x60); tail.append(checksum ?? BQ76952.checksum(0x9278, data)); tail.append(5)
            try chip.write(0x08, tail)
        }
        try write(&chip, checksum: nil)
        #expect(chip.setting(.covThreshold) == 86, "outside CONFIG_UPDATE the write is refused")
        chip.run(BQ76952.Subcommand.setConfigUpdate)
        try write(&chip, checksum: 0x00)
        #expect(chip.setting(.covThreshold) == 86, "a bad checksum is refused")
        try write(&chip, checksum: nil)
        #expect(chip.setting(.covThreshold) == 80)
    }

    @Test func aSilentBusIsABusError() throws {
        var driver = try started()
        driver.bus.silent = true
        #expect(throws: AFEError.bus(.noAcknowledge)) { _ = try driver.read() }
        var other = Driver(bus: BQ76952Emulator(), shuntResistance: 0.0003)
        other.bus.silent = true
        #expect(throws: AFEError.bus(.noAcknowledge)) { try other.start() }
    }

    @Test func cellMaskFollowsTIsWiring() {
        #expect(Driver.cellMask(cells: 16) == 0xFFFF)
        #expect(Driver.cellMask(cells: 15) == 0xBFFF)
        #expect(Driver.cellMask(cells: 4) == 0x8007)
    }
}

/// A bus that flips a bit of the next answer.
struct Corrupting: I2CBus {
    var chip: BQ76952Emulator
    var flipNextRead = false

    mutating func write(_ address: UInt8, _ data: I2CBytes) throws(I2CError) { try chip.write(address, data) }

    mutating func writeRead(_ address: UInt8, _ data: I2CBytes, readCount: Int) throws(I2CError) -> I2CBytes {
        var out = try chip.writeRead(address, data, readCount: readCount)
        if flipNextRead && out.count > 0 { out[0] ^= 0x01; flipNextRead = false }
        return out
    }
}
