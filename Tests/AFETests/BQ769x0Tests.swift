import Testing
@testable import AFE

/// The bq769x0 driver against the register-level emulator: what the chip would do with what the
/// driver writes (TI SLUSBK2).
struct BQ769x0Tests {
    typealias Driver = BQ769x0Driver<BQ769x0Emulator>

    func started(part: BQ769x0.Part = .bq76940, cells: Int = 15, shunt: Float = 0.001, crc: Bool = false,
                 gain: Int = 377, offset: Int = 48, thermistors: Int = 1) throws -> Driver {
        let chip = BQ769x0Emulator(part: part, shuntResistance: shunt, crcMode: crc, adcGainMicrovolts: gain,
                                   adcOffsetMillivolts: offset)
        var driver = Driver(bus: chip, part: part, cells: cells, shuntResistance: shunt, thermistors: thermistors,
                            crcMode: crc)
        try driver.start()
        return driver
    }

    /// Advances the chip by `ms` in ticks of `step` ms.
    func run(_ driver: inout Driver, ms: UInt32, step: UInt32 = 100) {
        var t: UInt32 = 0
        while t < ms { driver.bus.tick(milliseconds: step); t += step }
    }

    func near(_ a: Float, _ b: Float, _ tolerance: Float) -> Bool { abs(a - b) <= tolerance }

    // MARK: Calibration and start

    @Test func gainAndOffsetDecodeLikeTIsWorkedExample() throws {
        // TI E2E 838739: ADCGAIN1 = 0b00000101, ADCGAIN2 = 0b10000010 → 0b01100 → 377 µV/LSB;
        // ADCOFFSET 0x30 → 48 mV.
        #expect(BQ769x0.adcGainMicrovolts(gain1: 0x05, gain2: 0x82) == 377)
        #expect(BQ769x0.adcOffsetMillivolts(0x30) == 48)
        #expect(BQ769x0.adcOffsetMillivolts(0xEC) == -20, "the offset is signed")
        let chip = BQ769x0Emulator(adcGainMicrovolts: 377, adcOffsetMillivolts: 48)
        #expect(chip.register(0x50) == 0x05 && chip.register(0x59) == 0x82 && chip.register(0x51) == 0x30)
        // Every gain 365…396 and both signs of offset reach the driver intact.
        for gain in 365...396 {
            let offset = gain % 2 == 0 ? -(gain - 300) : gain - 300
            let driver = try started(part: .bq76920, cells: 5, gain: gain, offset: offset)
            #expect(driver.adcGainMicrovolts == gain && driver.adcOffsetMillivolts == offset)
        }
    }

    @Test func startTakesTheChipIntoAKnownState() throws {
        var chip = BQ769x0Emulator()
        chip.injectDeviceFault()
        #expect(chip.alert)
        var driver = Driver(bus: chip, part: .bq76940, cells: 15, shuntResistance: 0.001)
        try driver.start()
        let c = driver.bus
        #expect(c.register(BQ769x0.Register.ccCfg) == 0x19)
        #expect(c.register(BQ769x0.Register.sysCtrl1) == 0x18, "ADC_EN and TEMP_SEL")
        #expect(c.register(BQ769x0.Register.sysCtrl2) == 0x40, "CC_EN, FETs off")
        #expect(c.sysStat == 0 && !c.alert, "DEVICE_XREADY cleared")
        #expect(!c.chargeFET && !c.dischargeFET && c.balancing == 0)
    }

    // MARK: Configuration

    @Test func overAndUndervoltageCodesForKnownGainAndOffset() throws {
        var driver = try started(gain: 377, offset: 48)
        var p = AFEProtection()
        p.cellOvervoltage = 4.1; p.cellUndervoltage = 2.5
        var r = try driver.configure(p)
        // OV: (4100 − 48) mV / 377 µV = 10748.01 LSB; 0x2008 + 16 × 159 = 10744 ≤ it.
        #expect(driver.bus.register(BQ769x0.Register.ovTrip) == 0x9F)
        #expect(near(r.cellOvervoltage, 4.098488, 0.00001))
        // UV: 6503.98 LSB; 0x1000 + 16 × 151 = 6512 ≥ it (the chip trips no later than asked).
        #expect(driver.bus.register(BQ769x0.Register.uvTrip) == 0x97)
        #expect(near(r.cellUndervoltage, 2.503024, 0.00001))

        driver = try started(gain: 365, offset: -20)
        p.cellOvervoltage = 3.65; p.cellUndervoltage = 2.8
        r = try driver.configure(p)
        #expect(driver.bus.register(BQ769x0.Register.ovTrip) == 0x73)    // 10040 LSB
        #expect(near(r.cellOvervoltage, 3.6446, 0.00001))
        #expect(driver.bus.register(BQ769x0.Register.uvTrip) == 0xE3)    // 7728 LSB
        #expect(near(r.cellUndervoltage, 2.80072, 0.00001))
        #expect(r.cellOvervoltage <= 3.65 && r.cellUndervoltage >= 2.8)
    }

    @Test func everyDelayTableEntryRoundTripsInMilliseconds() throws {
        var driver = try started()
        let ov: [UInt32] = [1000, 2000, 4000, 8000]
        let uv: [UInt32] = [1000, 4000, 8000, 16000]
        let ocd: [UInt32] = [8, 20, 40, 80, 160, 320, 640, 1280]
        let scd: [UInt32] = [70, 100, 200, 400]
        for k in 0..<4 {
            var p = AFEProtection()
            p.cellOvervoltageDelayMs = ov[k]; p.cellUndervoltageDelayMs = uv[k]
            p.shortCircuitDelayMicroseconds = scd[k]
            let r = try driver.configure(p)
            #expect(r.cellOvervoltageDelayMs == ov[k] && r.cellUndervoltageDelayMs == uv[k])
            #expect(r.shortCircuitDelayMicroseconds == scd[k])
            #expect(driver.bus.register(BQ769x0.Register.protect3) == UInt8(k << 6 | k << 4))
            #expect((driver.bus.register(BQ769x0.Register.protect1) >> 3) & 0x03 == UInt8(k))
        }
        for k in 0..<8 {
            var p = AFEProtection()
            p.dischargeOvercurrentDelayMs = ocd[k]
            let r = try driver.configure(p)
            #expect(r.dischargeOvercurrentDelayMs == ocd[k])
            #expect((driver.bus.register(BQ769x0.Register.protect2) >> 4) & 0x07 == UInt8(k))
        }
        // Between entries: the longest entry at or below the request. Reference bug #1 (seconds
        // compared with ms) turned 2000 ms into 8 s / 16 s.
        var p = AFEProtection()
        p.cellOvervoltageDelayMs = 2000; p.cellUndervoltageDelayMs = 2000
        var r = try driver.configure(p)
        #expect(r.cellOvervoltageDelayMs == 2000 && r.cellUndervoltageDelayMs == 1000)
        p.cellOvervoltageDelayMs = 3999; p.cellUndervoltageDelayMs = 100_000
        p.dischargeOvercurrentDelayMs = 100; p.shortCircuitDelayMicroseconds = 150
        r = try driver.configure(p)
        #expect(r.cellOvervoltageDelayMs == 2000 && r.cellUndervoltageDelayMs == 16000)
        #expect(r.dischargeOvercurrentDelayMs == 80 && r.shortCircuitDelayMicroseconds == 100)
        // Below a table's first entry: that entry.
        p.cellOvervoltageDelayMs = 10; p.dischargeOvercurrentDelayMs = 1; p.shortCircuitDelayMicroseconds = 0
        r = try driver.configure(p)
        #expect(r.cellOvervoltageDelayMs == 1000 && r.dischargeOvercurrentDelayMs == 8)
        #expect(r.shortCircuitDelayMicroseconds == 70)
    }

    @Test func currentThresholdsComeFromTheTablesWithRSNSChosenByRange() throws {
        var driver = try started(shunt: 0.001)
        var p = AFEProtection()
        p.dischargeOvercurrent = 40; p.shortCircuit = 90      // 40 mV and 90 mV: the RSNS = 0 range
        p.dischargeOvercurrentDelayMs = 320; p.shortCircuitDelayMicroseconds = 200
        var r = try driver.configure(p)
        #expect(driver.bus.register(BQ769x0.Register.protect1) == 0x16)   // RSNS 0, 200 µs, 89 mV
        #expect(driver.bus.register(BQ769x0.Register.protect2) == 0x5B)   // 320 ms, 39 mV
        #expect(near(r.dischargeOvercurrent, 39, 0.001) && near(r.shortCircuit, 89, 0.001))
        p.shortCircuit = 150                                  // above 100 mV: RSNS = 1
        r = try driver.configure(p)
        #expect(driver.bus.register(BQ769x0.Register.protect1) == 0x80 | 0x10 | 4)   // 133 mV
        #expect(driver.bus.register(BQ769x0.Register.protect2) & 0x0F == 4)         // 39 mV of RSNS 1
        #expect(near(r.dischargeOvercurrent, 39, 0.001) && near(r.shortCircuit, 133, 0.001))
        // Both tables, every entry, are fixed points through the driver.
        for rsns in [false, true] {
            for k: UInt8 in 0..<16 {
                var q = AFEProtection()
                q.dischargeOvercurrent = Float(BQ769x0.overcurrentMillivolts(k, rsns: rsns))
                q.shortCircuit = Float(BQ769x0.shortCircuitMillivolts(k & 7, rsns: rsns))
                if rsns { q.shortCircuit = 200 }   // forces RSNS = 1
                let got = try driver.configure(q)
                #expect(got.dischargeOvercurrent == q.dischargeOvercurrent)
                #expect(driver.bus.register(BQ769x0.Register.protect2) & 0x0F == k)
            }
        }
    }

    @Test func realisedValuesAreAFixedPoint() throws {
        var driver = try started(shunt: 0.0003, gain: 390, offset: -7)
        var p = AFEProtection()
        p.cellOvervoltage = 3.65; p.cellUndervoltage = 2.55
        p.cellOvervoltageDelayMs = 3000; p.cellUndervoltageDelayMs = 5000
        p.dischargeOvercurrent = 150; p.dischargeOvercurrentDelayMs = 500
        p.shortCircuit = 400; p.shortCircuitDelayMicroseconds = 250
        let realised = try driver.configure(p)
        var registers = InlineArray<5, UInt8>(repeating: 0)
        for k in 0..<5 { registers[k] = driver.bus.register(BQ769x0.Register.protect1 + UInt8(k)) }
        let again = try driver.configure(realised)
        #expect(again == realised)
        for k in 0..<5 { #expect(driver.bus.register(BQ769x0.Register.protect1 + UInt8(k)) == registers[k]) }
    }

    @Test func whatTheChipDoesNotHoldPassesThroughUnchanged() throws {
        var driver = try started()
        var p = AFEProtection()
        p.chargeOvercurrent = 33; p.chargeOvercurrentDelayMs = 777
        p.chargeMaximumTemperature = 41; p.dischargeMinimumTemperature = -17; p.temperatureHysteresis = 3
        p.cellOvervoltageRecovery = 3.45; p.cellUndervoltageRecovery = 2.95; p.recoverySeconds = 9
        let r = try driver.configure(p)
        #expect(r.chargeOvercurrent == 33 && r.chargeOvercurrentDelayMs == 777)
        #expect(r.chargeMaximumTemperature == 41 && r.dischargeMinimumTemperature == -17 && r.temperatureHysteresis == 3)
        #expect(r.cellOvervoltageRecovery == 3.45 && r.cellUndervoltageRecovery == 2.95 && r.recoverySeconds == 9)
        var b = AFEBalancing()
        b.automatic = true; b.maximumCells = 3
        let rb = try driver.configure(b)
        #expect(!rb.automatic && rb.maximumCells == 3, "no automatic balancing in this chip")
        var q = AFEProtection()
        q.cellOvervoltage = 2.0; q.cellUndervoltage = 2.5
        #expect(throws: AFEError.unsupported) { _ = try driver.configure(q) }
    }

    // MARK: Protection, to the tick

    @Test func overvoltageTripsAfterItsDelayAndTurnsChargeOff() throws {
        var driver = try started()
        var p = AFEProtection()
        p.cellOvervoltage = 4.1; p.cellOvervoltageDelayMs = 1000
        _ = try driver.configure(p)
        try driver.setSwitches(AFESwitches(charge: true, discharge: true))
        #expect(driver.bus.chargeFET && driver.bus.dischargeFET)
        driver.bus.analog.cellVoltages[6] = 4.098    // below the realised 4.0985 V: never
        run(&driver, ms: 3000)
        #expect(try driver.read().status.tripped.isEmpty)
        driver.bus.analog.cellVoltages[6] = 4.1
        run(&driver, ms: 900)
        var r = try driver.read()
        #expect(r.status.tripped.isEmpty && r.switches.charge)
        run(&driver, ms: 100)
        #expect(driver.bus.alert && !driver.bus.chargeFET && driver.bus.dischargeFET, "OV clears CHG_ON only")
        r = try driver.read()
        #expect(r.status.tripped == .cellOvervoltage)
        #expect(r.switches == AFESwitches(charge: false, discharge: true))
        #expect(!driver.bus.alert, "reading clears SYS_STAT")
        // The chip never turns CHG back on, even once the cell is fine again.
        driver.bus.analog.cellVoltages[6] = 3.4
        run(&driver, ms: 5000)
        r = try driver.read()
        #expect(r.status.tripped.isEmpty && !r.switches.charge)
        try driver.setSwitches(AFESwitches(charge: true, discharge: true))
        #expect(driver.bus.chargeFET)
    }

    @Test func overvoltageNeedsTheADCAndDelayDisableSkipsTheTimer() throws {
        var chip = BQ769x0Emulator()
        chip.analog.cellVoltages[0] = 4.5              // above the reset OV_TRIP (0xAC)
        try chip.write(0x08, bytes(0x05, 0x03))        // FETs on, ADC off
        chip.tick(milliseconds: 20_000)
        #expect(chip.sysStat == 0 && chip.chargeFET)
        try chip.write(0x08, bytes(0x04, 0x10))        // ADC_EN
        chip.tick(milliseconds: 999)
        #expect(chip.sysStat == 0)
        chip.tick(milliseconds: 1)                     // the reset OV delay is 1 s
        #expect(chip.sysStat == BQ769x0.SysStat.ov && !chip.chargeFET)
        try chip.write(0x08, bytes(0x00, BQ769x0.SysStat.ov))
        try chip.write(0x08, bytes(0x05, 0x83))        // DELAY_DIS, FETs on
        chip.tick(milliseconds: 1)
        #expect(chip.sysStat == BQ769x0.SysStat.ov, "no OV delay with DELAY_DIS")
    }

    @Test func shortCircuitIsImmediateAndOvercurrentWaitsItsDelay() throws {
        var driver = try started(shunt: 0.001)
        var p = AFEProtection()
        p.dischargeOvercurrent = 40; p.dischargeOvercurrentDelayMs = 320     // 39 mV, 320 ms
        p.shortCircuit = 90; p.shortCircuitDelayMicroseconds = 100           // 89 mV
        _ = try driver.configure(p)
        try driver.setSwitches(AFESwitches(charge: true, discharge: true))
        driver.bus.analog.current = -40                                      // 40 mV
        run(&driver, ms: 310, step: 10)
        #expect(driver.bus.sysStat & BQ769x0.SysStat.ocd == 0 && driver.bus.dischargeFET)
        run(&driver, ms: 10, step: 10)
        var r = try driver.read()
        #expect(r.status.tripped == .dischargeOvercurrent)
        #expect(r.switches == AFESwitches(charge: true, discharge: false), "OCD clears DSG_ON only")

        driver.bus.analog.current = 0
        try driver.setSwitches(AFESwitches(charge: true, discharge: true))
        driver.bus.analog.current = -88.9                                    // 88.9 mV < 89 mV
        driver.bus.tick(milliseconds: 1)
        #expect(driver.bus.sysStat & BQ769x0.SysStat.scd == 0)
        driver.bus.analog.current = -89.5
        driver.bus.tick(milliseconds: 1)
        r = try driver.read()
        #expect(r.status.tripped == .shortCircuit)
        #expect(!r.switches.discharge && r.switches.charge)
        // A FET cleared by a latched fault cannot be switched on before the host clears it.
        driver.bus.tick(milliseconds: 1)   // still shorted: SCD latches again
        try driver.setSwitches(AFESwitches(charge: true, discharge: true))
        #expect(!driver.bus.dischargeFET)
    }

    @Test func undervoltageIgnoresShortedInputsOfA13CellPack() throws {
        var driver = try started(part: .bq76940, cells: 13)
        #expect(driver.cellMask == 0b10111_10111_11111)
        driver.bus.analog.cellVoltages[8] = 0.002      // VC9 and VC14 shorted
        driver.bus.analog.cellVoltages[13] = 0.002
        var p = AFEProtection()
        p.cellUndervoltage = 2.5; p.cellUndervoltageDelayMs = 1000
        _ = try driver.configure(p)
        try driver.setSwitches(AFESwitches(charge: true, discharge: true))
        run(&driver, ms: 3000)
        var r = try driver.read()
        #expect(r.status.tripped.isEmpty && r.cellCount == 13)
        driver.bus.analog.cellVoltages[9] = 2.4        // VC10: the pack's cell 9
        run(&driver, ms: 1000)
        r = try driver.read()
        #expect(r.status.tripped == .cellUndervoltage && !r.switches.discharge && r.switches.charge)
        #expect(near(r.cellVoltages[8], 2.4, 0.0005))
    }

    // MARK: Measurements

    @Test func readsThePackInSIUnits() throws {
        var driver = try started(part: .bq76940, cells: 15, shunt: 0.001, thermistors: 3)
        for k in 0..<15 { driver.bus.analog.cellVoltages[k] = 3.2 + Float(k) * 0.013 }
        driver.bus.analog.thermistors[0] = 25
        driver.bus.analog.thermistors[1] = -10
        driver.bus.analog.thermistors[2] = 47.5
        driver.bus.analog.current = 12.34
        driver.bus.tick(milliseconds: 240)
        #expect(driver.bus.sysStat & BQ769x0.SysStat.ccReady == 0)
        driver.bus.tick(milliseconds: 10)
        #expect(driver.bus.sysStat & BQ769x0.SysStat.ccReady != 0 && driver.bus.alert, "CC_READY every 250 ms")
        var r = try driver.read()
        #expect(r.cellCount == 15)
        for k in 0..<15 { #expect(near(r.cellVoltages[k], 3.2 + Float(k) * 0.013, 0.0003)) }
        var sum: Float = 0
        for k in 0..<15 { sum += 3.2 + Float(k) * 0.013 }
        #expect(near(r.stackVoltage, sum, 0.002))
        // 12.34 mV / 8.44 µV = 1462 counts.
        #expect(near(r.current, 1462 * 8.44 / 1000, 0.0001))
        #expect(r.temperatureCount == 3)
        #expect(near(r.temperatures[0], 25, 0.1) && near(r.temperatures[1], -10, 0.1) && near(r.temperatures[2], 47.5, 0.1))
        #expect(!driver.bus.alert, "read acknowledges CC_READY")
        driver.bus.analog.current = -45.6
        driver.bus.tick(milliseconds: 250)
        r = try driver.read()
        #expect(near(r.current, -45.6, 0.01))
    }

    @Test func ntcMathWithoutLibm() {
        #expect(near(BQ769x0.naturalLog(2.718281828), 1, 1e-5))
        #expect(near(BQ769x0.naturalLog(0.1), -2.3025851, 1e-5))
        #expect(near(BQ769x0.exponential(1.05449), 2.870455, 1e-4))
        #expect(near(BQ769x0.ntcOhms(celsius: 25, beta: 3435), 10_000, 0.5))
        // Beta 3435, 0 °C: 10 kΩ · e^(3435 (1/273.15 − 1/298.15)) = 28.70 kΩ.
        #expect(near(BQ769x0.ntcOhms(celsius: 0, beta: 3435), 28_704, 5))
        #expect(near(BQ769x0.ntcCelsius(ohms: 28_704, beta: 3435), 0, 0.01))
    }

    // MARK: FETs, balancing, modes

    @Test func switchesSetEachFETAndKeepTheCoulombCounter() throws {
        var driver = try started()
        try driver.setSwitches(AFESwitches(charge: true, discharge: false))
        #expect(driver.bus.chargeFET && !driver.bus.dischargeFET)
        #expect(try driver.read().switches == AFESwitches(charge: true, discharge: false))
        try driver.setSwitches(AFESwitches(charge: false, discharge: true))
        #expect(!driver.bus.chargeFET && driver.bus.dischargeFET)
        #expect(driver.bus.register(BQ769x0.Register.sysCtrl2) == 0x42, "CC_EN kept")
        // The chip turns both off on an ALERT override or an internal fault.
        try driver.setSwitches(AFESwitches(charge: true, discharge: true))
        driver.bus.injectDeviceFault()
        #expect(!driver.bus.chargeFET && !driver.bus.dischargeFET)
    }

    @Test func balancingDropsTheLowerOfTwoNeighbours() throws {
        var driver = try started(part: .bq76940, cells: 15)
        try driver.balance(0b111)                        // cells 1, 2, 3
        #expect(driver.bus.balancing == 0b101)
        try driver.balance(0b11111)                      // a whole group
        #expect(driver.bus.balancing == 0b10101)
        try driver.balance(0b11_0000)                    // cells 5 and 6: different groups, both
        #expect(driver.bus.balancing == 0b11_0000)
        #expect(try driver.read().balancing == 0b11_0000)
        try driver.balance(0x7FFF)
        #expect(driver.bus.balancing == 0b10101_10101_10101)
        #expect(driver.bus.adjacentBalancing == 0)
        try driver.balance(0)
        #expect(driver.bus.balancing == 0)
        // The emulator notes a host that breaks the rule.
        try driver.bus.write(0x08, bytes(0x01, 0b00011))
        #expect(driver.bus.adjacentBalancing == 1)

        // 13 cells: the pack's cell 9 is on VC10; cells 8 and 9 are not neighbours on the chip.
        var d13 = try started(part: .bq76940, cells: 13)
        try d13.balance(1 << 8)
        #expect(d13.bus.balancing == 1 << 9)
        try d13.balance(0b11 << 7)
        #expect(d13.bus.balancing == (1 << 7) | (1 << 9))
        #expect(try d13.read().balancing == 0b11 << 7)
    }

    @Test func cellWiringForFewerCells() {
        #expect(BQ769x0.cellMask(cells: 5, part: .bq76920) == 0b11111)
        #expect(BQ769x0.cellMask(cells: 4, part: .bq76920) == 0b10111)
        #expect(BQ769x0.cellMask(cells: 3, part: .bq76920) == 0b10011)
        #expect(BQ769x0.cellMask(cells: 9, part: .bq76930) == 0b10111_11111)
        #expect(BQ769x0.cellMask(cells: 14, part: .bq76940) == 0b10111_11111_11111)
        #expect(BQ769x0.cellMask(cells: 10, part: .bq76940) == 0b10011_10011_10111)
        #expect(BQ769x0.cellMask(cells: 20, part: .bq76940) == 0x7FFF, "clamped to the part")
    }

    @Test func shutdownWritesTheShipSequence() throws {
        var driver = try started()
        try driver.setSwitches(AFESwitches(charge: true, discharge: true))
        #expect(throws: AFEError.unsupported) { try driver.setMode(.sleep) }
        // An interrupted sequence does not ship.
        try driver.bus.write(0x08, bytes(0x04, 0x19))
        try driver.bus.write(0x08, bytes(0x04, 0x18))
        try driver.bus.write(0x08, bytes(0x04, 0x1A))
        #expect(!driver.bus.shipMode)
        try driver.setMode(.shutdown)
        #expect(driver.bus.shipMode && !driver.bus.chargeFET && !driver.bus.dischargeFET)
        #expect(throws: AFEError.bus(.noAcknowledge)) { _ = try driver.read() }
        driver.bus.boot()
        try driver.start()
        try driver.setMode(.normal)
        #expect(driver.bus.register(BQ769x0.Register.sysCtrl1) == 0x18)
    }

    // MARK: The bus

    @Test func crcModeWorksAndAMismatchIsDetected() throws {
        var driver = try started(crc: true)
        _ = try driver.configure(AFEProtection())
        driver.bus.analog.cellVoltages[0] = 2.92
        #expect(near(try driver.read().cellVoltages[0], 2.92, 0.0003))
        #expect(driver.bus.rejectedTransfers == 0)
        // A driver without CRC on a CRC part: its writes are not acknowledged.
        var plain = Driver(bus: BQ769x0Emulator(crcMode: true), part: .bq76940, cells: 15, shuntResistance: 0.001)
        #expect(throws: AFEError.bus(.noAcknowledge)) { try plain.start() }
        #expect(plain.bus.rejectedTransfers == 1)
        // A CRC driver on a part without CRC: the answers' "CRCs" do not check.
        var crc = Driver(bus: BQ769x0Emulator(crcMode: false), part: .bq76940, cells: 15, shuntResistance: 0.001,
                         crcMode: true)
        #expect(throws: AFEError.corrupted) { try crc.start() }
        // A bad CRC on a write is refused and changes nothing.
        var chip = BQ769x0Emulator(crcMode: true)
        var wire = I2CBytes()
        wire.append(BQ769x0.Register.ovTrip); wire.append(0x55); wire.append(0x00)
        #expect(throws: I2CError.noAcknowledge) { try chip.write(0x08, wire) }
        #expect(chip.register(BQ769x0.Register.ovTrip) == 0xAC)
    }

    @Test func aCorruptedAnswerIsAnErrorNotAReading() throws {
        var driver = BQ769x0Driver(bus: FlippingBus(chip: BQ769x0Emulator(crcMode: true)), part: .bq76940, cells: 15,
                                   shuntResistance: 0.001, crcMode: true)
        try driver.start()
        driver.bus.flipNextRead = true
        #expect(throws: AFEError.corrupted) { _ = try driver.read() }
        #expect(try driver.read().cellCount == 15)
    }

    @Test func aSilentBusOrAWrongAddressIsABusError() throws {
        var driver = try started()
        driver.bus.silent = true
        #expect(throws: AFEError.bus(.noAcknowledge)) { _ = try driver.read() }
        var other = Driver(bus: BQ769x0Emulator(), part: .bq76940, cells: 15, shuntResistance: 0.001, address: 0x18)
        #expect(throws: AFEError.bus(.noAcknowledge)) { try other.start() }
    }

    func bytes(_ register: UInt8, _ value: UInt8) -> I2CBytes {
        var b = I2CBytes()
        b.append(register)
        b.append(value)
        return b
    }
}

/// A bus that flips a bit of the next answer.
struct FlippingBus: I2CBus {
    var chip: BQ769x0Emulator
    var flipNextRead = false

    mutating func write(_ address: UInt8, _ data: I2CBytes) throws(I2CError) { try chip.write(address, data) }

    mutating func writeRead(_ address: UInt8, _ data: I2CBytes, readCount: Int) throws(I2CError) -> I2CBytes {
        var out = try chip.writeRead(address, data, readCount: readCount)
        if flipNextRead && out.count > 0 { out[0] ^= 0x01; flipNextRead = false }
        return out
    }
}
