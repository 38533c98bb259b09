import Testing
@testable import AFE

/// The ISL94202 driver against the register-level emulator: what the chip would do with what
/// the driver writes.
struct ISL94202Tests {
    typealias Driver = ISL94202Driver<ISL94202Emulator>
    static let shunt: Float = 0.001

    func started(cells: Int = 8, thermistors: Int = 1) throws -> Driver {
        var driver = Driver(bus: ISL94202Emulator(shuntResistance: ISL94202Tests.shunt),
                            shuntResistance: ISL94202Tests.shunt, cellCount: cells, thermistors: thermistors)
        try driver.start()
        return driver
    }

    /// Advances the chip by `ms` in 100 ms ticks.
    func run(_ driver: inout Driver, ms: UInt32) {
        var t: UInt32 = 0
        while t < ms { driver.bus.tick(milliseconds: 100); t += 100 }
    }

    @Test func encodingsFollowTheDatasheetScalings() {
        // 12-bit cell voltages: V × 4095 × 3 / (1.8 × 8); the LibreSolar golden codes.
        #expect(ISL94202.voltageCode(4.2) == 3583)
        #expect(ISL94202.voltageCode(2.7) == 0x08FF)
        #expect(ISL94202.voltageCode(3.0) == 0x09FF)
        #expect(ISL94202.voltageCode(4.15) == 0x0DD4)
        #expect(abs(ISL94202.volts(0x0FFF) - 4.8) < 1e-5)
        #expect(ISL94202.voltageCode(9) == 0x0FFF && ISL94202.voltageCode(-1) == 0)
        // Delays: 10-bit value, unit in bits 10–11 (µs, ms, s, min), the finest unit that fits.
        #expect(ISL94202.delayBits(microseconds: 999_000) == 0x0400 | 999)
        #expect(ISL94202.delayBits(microseconds: 2_222_000) == 0x0800 | 2)
        #expect(ISL94202.delayBits(microseconds: 222) == 222)
        #expect(ISL94202.delayBits(microseconds: 7_200_000_000) == 0x0C00 | 120)
        #expect(ISL94202.delayBits(microseconds: 1_000_000_000_000) == 0x0C00 | 1023)
        #expect(ISL94202.delayMicroseconds(0x0800 | 2) == 2_000_000)
        // Thermistor thresholds through the 5-point table and the xT gain of 2 (LibreSolar
        // truncates 1234.6 to 0x04D2; rounded it is 0x04D3).
        #expect(ISL94202.temperatureCode(volts: ISL94202.thermistorVolts(celsius: 55)) == 0x04D3)
        #expect(ISL94202.temperatureCode(volts: ISL94202.thermistorVolts(celsius: -10)) == 0x0CD2)
        #expect(abs(ISL94202.celsius(thermistorVolts: 0.463) - 25) < 1e-4)
        #expect(ISL94202.celsius(thermistorVolts: 0.1) == 80 && ISL94202.celsius(thermistorVolts: 0.8) == -40)
        // Cell select: the lowest and highest inputs first; pack cells ↔ inputs.
        #expect(ISL94202.cellSelection(cells: 4) == 0xC3 && ISL94202.cellSelection(cells: 8) == 0xFF)
        #expect(ISL94202.cellSelection(cells: 2) == 0)
        #expect(ISL94202.inputs(cells: 0b1010, selection: 0xC3) == 0x82)
        #expect(ISL94202.cells(inputs: 0x82, selection: 0xC3) == 0b1010)
    }

    @Test func startHandsTheFETsToTheHostAndSetsTheCells() throws {
        var chip = ISL94202Emulator(shuntResistance: ISL94202Tests.shunt)
        chip.tick(milliseconds: 100)
        #expect(chip.chargeFET && chip.dischargeFET, "stand-alone, the chip turns its FETs on by itself")
        var driver = Driver(bus: chip, shuntResistance: ISL94202Tests.shunt, cellCount: 4, thermistors: 1)
        try driver.start()
        let c = driver.bus
        #expect(c.setting(ISL94202.Register.cellSelect) == 0xC3)
        #expect(c.control2 == ISL94202.Control2.mcuFET)
        #expect(c.control0 == 1 << 4, "current gain ×5")
        #expect(c.eepromEnable == 0)
        #expect(c.setting(ISL94202.Register.setup0) & ISL94202.Setup0.xT2MonitorsFETs != 0)
        #expect(c.setting(ISL94202.Register.setup0) & ISL94202.Setup0.temperatureGain == 0)
        #expect(!c.chargeFET && !c.dischargeFET, "the host holds the FETs off until it allows them")
        // A chip that does not keep what is written is not an ISL94202.
        var other = ISL94202Driver(bus: Forgetful(), shuntResistance: ISL94202Tests.shunt)
        #expect(throws: AFEError.wrongChip(0)) { try other.start() }
    }

    @Test func readsThePackInSIUnits() throws {
        var driver = try started(thermistors: 2)
        for k in 0..<8 { driver.bus.analog.cellVoltages[k] = 3.2 + Float(k) * 0.05 }
        driver.bus.analog.current = 87.65
        driver.bus.analog.thermistors[0] = 31.5
        driver.bus.analog.thermistors[1] = -4
        driver.bus.analog.internalTemperature = 30
        var r = try driver.read()
        #expect(r.cellCount == 8)
        for k in 0..<8 { #expect(abs(r.cellVoltages[k] - (3.2 + Float(k) * 0.05)) < 0.0007) }
        #expect(abs(r.stackVoltage - 27.0) < 0.005)
        #expect(abs(r.packVoltage - 27.0) < 0.015)
        // ×5: 88 mA per code on 1 mΩ; the direction from Status 2.
        #expect(abs(r.current - 87.65) < 0.05)
        #expect(r.temperatureCount == 2)
        #expect(abs(r.temperatures[0] - 31.5) < 0.05 && abs(r.temperatures[1] + 4) < 0.25)
        #expect(abs(r.internalTemperature - 30) < 0.25)
        driver.bus.analog.current = -40
        r = try driver.read()
        #expect(abs(r.current + 40) < 0.05)
        driver.bus.analog.current = 0.05  // 50 µV: no direction, no current
        #expect(try driver.read().current == 0)
    }

    @Test func aSmallPackReadsTheInputsItsCellsAreOn() throws {
        var driver = try started(cells: 4)
        for k in 0..<8 { driver.bus.analog.cellVoltages[k] = 0 }
        driver.bus.analog.cellVoltages[0] = 3.1
        driver.bus.analog.cellVoltages[1] = 3.2
        driver.bus.analog.cellVoltages[6] = 3.3
        driver.bus.analog.cellVoltages[7] = 3.4
        let r = try driver.read()
        #expect(r.cellCount == 4)
        #expect(abs(r.cellVoltages[0] - 3.1) < 0.0007 && abs(r.cellVoltages[1] - 3.2) < 0.0007)
        #expect(abs(r.cellVoltages[2] - 3.3) < 0.0007 && abs(r.cellVoltages[3] - 3.4) < 0.0007)
        #expect(abs(r.stackVoltage - 13.0) < 0.004)
    }

    @Test func configurationRoundTripsThroughTheChip() throws {
        var driver = try started()
        var p = AFEProtection()
        p.cellOvervoltage = 3.65; p.cellOvervoltageRecovery = 3.45; p.cellOvervoltageDelayMs = 2000
        p.cellUndervoltage = 2.5; p.cellUndervoltageRecovery = 2.8; p.cellUndervoltageDelayMs = 2000
        p.chargeOvercurrent = 7; p.chargeOvercurrentDelayMs = 100
        p.dischargeOvercurrent = 50; p.dischargeOvercurrentDelayMs = 100
        p.shortCircuit = 100; p.shortCircuitDelayMicroseconds = 200
        p.chargeMaximumTemperature = 45; p.chargeMinimumTemperature = 0
        p.dischargeMaximumTemperature = 60; p.dischargeMinimumTemperature = -20
        p.temperatureHysteresis = 5
        let realised = try driver.configure(p)
        // The words the chip holds; CPW/LPW (bits 12–15) kept at their 1 ms.
        let c = driver.bus, r = ISL94202.Register.self
        #expect(c.settingWord(r.overvoltage) == 0x1000 | 3114)
        #expect(c.settingWord(r.overvoltageRecovery) == 2943)
        #expect(c.settingWord(r.overvoltageDelay) == 0x0800 | 2)
        #expect(c.settingWord(r.undervoltage) == 0x1000 | 2133)
        #expect(c.settingWord(r.undervoltageDelay) == 0x0800 | 2)
        // Index in bits 12–14: OCD 48 mV (5), OCC 6 mV (3), SCD 96 mV (5); 100 ms, 200 µs.
        #expect(c.settingWord(r.dischargeOvercurrent) == 0x5464)
        #expect(c.settingWord(r.chargeOvercurrent) == 0x3464)
        #expect(c.settingWord(r.shortCircuit) == 0x50C8)
        #expect(c.settingWord(r.chargeOverTemperature)
                == ISL94202.temperatureCode(volts: ISL94202.thermistorVolts(celsius: 45)))
        // What comes back is what the chip does.
        #expect(realised.cellOvervoltage == ISL94202.volts(3114))
        #expect(abs(realised.cellOvervoltage - 3.65) < 0.0006)
        #expect(realised.cellOvervoltageRecovery == ISL94202.volts(2943))
        #expect(realised.cellOvervoltageDelayMs == 2000 && realised.cellUndervoltageDelayMs == 2000)
        #expect(realised.chargeOvercurrent == 6 && realised.dischargeOvercurrent == 48 && realised.shortCircuit == 96)
        #expect(realised.chargeOvercurrentDelayMs == 100 && realised.shortCircuitDelayMicroseconds == 200)
        #expect(realised.recoverySeconds == 0, "no timed retry on this chip")
        #expect(abs(realised.chargeMaximumTemperature - 45) < 0.05)
        #expect(abs(realised.dischargeMinimumTemperature + 20) < 0.25)
        #expect(abs(realised.temperatureHysteresis - 5) < 0.1)
        // Realised values are a fixed point: writing them back changes nothing.
        let again = try driver.configure(realised)
        #expect(again == realised)
        #expect(try driver.readProtection() == realised)
    }

    @Test func outOfRangeLimitsAreClampedAndSaid() throws {
        var driver = try started()
        var p = AFEProtection()
        p.cellOvervoltage = 6.0                // above 0xFFF = 4.8 V
        p.cellOvervoltageRecovery = 6.5        // above its threshold: held at it
        p.chargeOvercurrent = 0.2              // below the 1 mV step on 1 mΩ
        p.dischargeOvercurrent = 500           // above 96 mV
        p.shortCircuit = 1000                  // above 256 mV
        p.cellUndervoltageDelayMs = 360_000_000 // 100 h: 1023 min at most
        let r = try driver.configure(p)
        #expect(abs(r.cellOvervoltage - 4.8) < 1e-5 && r.cellOvervoltageRecovery == r.cellOvervoltage)
        #expect(r.chargeOvercurrent == 1 && r.dischargeOvercurrent == 96 && r.shortCircuit == 256)
        #expect(r.cellUndervoltageDelayMs == 1023 * 60_000)
        // 1500 ms is not a whole number of ms below 1024: it becomes 2 s.
        var q = AFEProtection()
        q.cellOvervoltageDelayMs = 1500
        #expect(try driver.configure(q).cellOvervoltageDelayMs == 2000)
        var bad = AFEProtection()
        bad.cellOvervoltage = 2.0; bad.cellUndervoltage = 2.5
        #expect(throws: AFEError.unsupported) { _ = try driver.configure(bad) }
    }

    @Test func overvoltageTripsAfterItsDelayToTheTickAndReleasesBelowItsRecovery() throws {
        var driver = try started()
        var p = AFEProtection()
        p.cellOvervoltage = 3.65; p.cellOvervoltageRecovery = 3.45; p.cellOvervoltageDelayMs = 1000
        _ = try driver.configure(p)
        try driver.setSwitches(AFESwitches(charge: true, discharge: true))
        driver.bus.analog.cellVoltages[3] = 3.70
        run(&driver, ms: 900)
        var r = try driver.read()
        #expect(r.status.tripped.isEmpty && r.status.alerting.isEmpty && !driver.bus.alert)
        run(&driver, ms: 100)
        r = try driver.read()
        #expect(r.status.tripped == .cellOvervoltage)
        #expect(driver.bus.alert, "SD reports the fault")
        // Under host FET control the chip only reports a voltage fault: CFET is the host's.
        #expect(r.switches.charge && driver.bus.chargeFET)
        try driver.setSwitches(AFESwitches(charge: false, discharge: true))
        #expect(!driver.bus.chargeFET && driver.bus.dischargeFET)
        // Above the recovery it stays; below it, it releases.
        driver.bus.analog.cellVoltages[3] = 3.50
        run(&driver, ms: 10_000)
        #expect(try driver.read().status.tripped == .cellOvervoltage)
        driver.bus.analog.cellVoltages[3] = 3.40
        run(&driver, ms: 100)
        #expect(try driver.read().status.tripped.isEmpty && !driver.bus.alert)
    }

    @Test func undervoltageCountsItsDelayInSeconds() throws {
        var driver = try started()
        var p = AFEProtection()
        p.cellUndervoltage = 2.5; p.cellUndervoltageRecovery = 2.8; p.cellUndervoltageDelayMs = 2000
        _ = try driver.configure(p)
        driver.bus.analog.cellVoltages[7] = 2.45
        run(&driver, ms: 1900)
        #expect(try driver.read().status.tripped.isEmpty)
        run(&driver, ms: 100)
        #expect(try driver.read().status.tripped == .cellUndervoltage)
        driver.bus.analog.cellVoltages[7] = 2.7
        run(&driver, ms: 100)
        #expect(try driver.read().status.tripped == .cellUndervoltage, "below the 2.8 V recovery")
        driver.bus.analog.cellVoltages[7] = 2.85
        run(&driver, ms: 100)
        #expect(try driver.read().status.tripped.isEmpty)
    }

    @Test func standAloneTheChipOpensTheFETOfAVoltageFault() {
        // No driver: the chip's own FET control with its EEPROM defaults (OV 4.25 V, 1 s).
        var chip = ISL94202Emulator(shuntResistance: ISL94202Tests.shunt)
        chip.analog.cellVoltages[0] = 4.3
        chip.tick(milliseconds: 999)
        #expect(chip.chargeFET)
        chip.tick(milliseconds: 1)
        #expect(!chip.chargeFET && chip.dischargeFET)
        chip.analog.cellVoltages[0] = 4.1
        chip.tick(milliseconds: 1)
        #expect(chip.chargeFET)
    }

    @Test func dischargeOvercurrentOpensDFETAndLatchesUntilTheLoadGoes() throws {
        var driver = try started()
        var p = AFEProtection()
        p.dischargeOvercurrent = 50; p.dischargeOvercurrentDelayMs = 100  // 48 mV = 48 A
        _ = try driver.configure(p)
        try driver.setSwitches(AFESwitches(charge: true, discharge: true))
        driver.bus.analog.current = -47
        run(&driver, ms: 1000)
        #expect(try driver.read().status.tripped.isEmpty, "below the 48 mV step")
        driver.bus.analog.current = -50
        driver.bus.tick(milliseconds: 99)
        #expect(driver.bus.dischargeFET)
        driver.bus.tick(milliseconds: 1)
        var r = try driver.read()
        #expect(r.status.tripped == .dischargeOvercurrent)
        #expect(!r.switches.discharge && r.switches.charge)
        // The load stays connected: no retry however long.
        driver.bus.analog.current = 0
        run(&driver, ms: 60_000)
        try driver.setSwitches(AFESwitches(charge: true, discharge: true))
        #expect(try driver.read().status.tripped == .dischargeOvercurrent && !driver.bus.dischargeFET)
        // The load goes: released; the host's allowance turns the FET back on.
        driver.bus.analog.loadPresent = false
        driver.bus.tick(milliseconds: 1)
        r = try driver.read()
        #expect(r.status.tripped.isEmpty && r.switches.discharge)
        // Or the host clears it.
        driver.bus.analog.loadPresent = true
        driver.bus.analog.current = -60
        run(&driver, ms: 100)
        #expect(!driver.bus.dischargeFET)
        driver.bus.analog.current = 0
        try driver.clearCurrentFaults()
        #expect(try driver.read().status.tripped.isEmpty)
        try driver.setSwitches(AFESwitches(charge: true, discharge: true))
        #expect(driver.bus.dischargeFET)
    }

    @Test func shortCircuitTripsWithinATickAndChargeOvercurrentOpensCFET() throws {
        var driver = try started()
        var p = AFEProtection()
        p.shortCircuit = 100; p.shortCircuitDelayMicroseconds = 200   // 96 mV
        p.chargeOvercurrent = 7; p.chargeOvercurrentDelayMs = 100     // 6 mV
        p.dischargeOvercurrent = 120                                  // 96 mV: not first
        _ = try driver.configure(p)
        try driver.setSwitches(AFESwitches(charge: true, discharge: true))
        driver.bus.analog.current = -95
        driver.bus.tick(milliseconds: 1)
        #expect(try driver.read().status.tripped.isEmpty)
        driver.bus.analog.current = -97
        driver.bus.tick(milliseconds: 1)
        var r = try driver.read()
        #expect(r.status.tripped == .shortCircuit && !r.switches.discharge && r.switches.charge)
        driver.bus.analog.current = 6.5
        run(&driver, ms: 100)
        r = try driver.read()
        #expect(r.status.tripped.contains(.chargeOvercurrent) && !r.switches.charge)
    }

    @Test func temperatureLimitsAreThermistorVoltages() throws {
        var driver = try started()
        var p = AFEProtection()
        p.chargeMaximumTemperature = 45; p.dischargeMaximumTemperature = 60; p.temperatureHysteresis = 5
        _ = try driver.configure(p)
        driver.bus.analog.thermistors[0] = 46
        driver.bus.analog.current = -5   // discharging: the charge limit does not apply
        run(&driver, ms: 100)
        #expect(try driver.read().status.tripped.isEmpty)
        driver.bus.analog.current = 5
        run(&driver, ms: 100)
        #expect(try driver.read().status.tripped == .chargeOvertemperature)
        driver.bus.analog.thermistors[0] = 42
        run(&driver, ms: 100)
        #expect(try driver.read().status.tripped == .chargeOvertemperature, "above the 40 °C recovery")
        driver.bus.analog.thermistors[0] = 39
        run(&driver, ms: 100)
        #expect(try driver.read().status.tripped.isEmpty)
        // xT2 watches the FETs with one cell thermistor: it does not trip the cell limits.
        driver.bus.analog.thermistors[1] = 70
        run(&driver, ms: 100)
        #expect(try driver.read().status.tripped.isEmpty)
    }

    @Test func switchesAreControlledPerFET() throws {
        var driver = try started()
        try driver.setSwitches(AFESwitches(charge: true, discharge: false))
        #expect(driver.bus.chargeFET && !driver.bus.dischargeFET)
        #expect(try driver.read().switches == AFESwitches(charge: true, discharge: false))
        try driver.setSwitches(AFESwitches(charge: false, discharge: true))
        #expect(!driver.bus.chargeFET && driver.bus.dischargeFET)
        #expect(try driver.read().switches == AFESwitches(charge: false, discharge: true))
        // The board's FETSOFF line works without I2C.
        driver.bus.silent = true
        driver.bus.fetsOffPin = true
        #expect(!driver.bus.dischargeFET)
    }

    @Test func automaticBalancingBleedsCellsAboveTheLowestByTheDifference() throws {
        var driver = try started()
        var b = AFEBalancing()
        b.automatic = true; b.minimumCellVoltage = 3.3; b.startDifference = 0.02; b.stopDifference = 0.01
        b.maximumCells = 4
        let realised = try driver.configure(b)
        #expect(realised.automatic)
        #expect(realised.minimumCellVoltage == ISL94202.volts(2815))
        #expect(realised.startDifference == ISL94202.volts(17) && realised.stopDifference == realised.startDifference)
        #expect(realised.maximumCells == 8)
        #expect(try driver.configure(realised) == realised)
        let c = driver.bus, r = ISL94202.Register.self
        #expect(c.settingWord(r.balanceMaximum) == ISL94202.voltageCode(4.5))
        #expect(c.settingWord(r.endOfCharge) == 2815, "end of charge at the balancing minimum")
        #expect(c.setting(r.setup1) == ISL94202.Setup1.balanceWhileCharging | ISL94202.Setup1.balanceAtEndOfCharge)
        for k in 0..<8 { driver.bus.analog.cellVoltages[k] = 3.35 }
        driver.bus.analog.cellVoltages[2] = 3.40
        driver.bus.analog.cellVoltages[5] = 3.38
        driver.bus.analog.cellVoltages[6] = 3.36   // within the difference
        driver.bus.analog.current = 2
        run(&driver, ms: 100)
        #expect(try driver.read().balancing == (1 << 2) | (1 << 5))
        // At rest too: a cell above the end-of-charge threshold (CB_EOC).
        driver.bus.analog.current = 0
        run(&driver, ms: 100)
        #expect(driver.bus.balancing == (1 << 2) | (1 << 5))
        driver.bus.analog.cellVoltages[2] = 3.365
        run(&driver, ms: 100)
        #expect(driver.bus.balancing == 1 << 5)
        // Below the minimum nothing bleeds.
        for k in 0..<8 { driver.bus.analog.cellVoltages[k] = 3.2 }
        driver.bus.analog.cellVoltages[4] = 3.28
        run(&driver, ms: 100)
        #expect(driver.bus.balancing == 0)
        // Automatic off: nothing while charging either.
        driver.bus.analog.cellVoltages[4] = 3.45
        b.automatic = false
        #expect(try driver.configure(b).automatic == false)
        driver.bus.analog.current = 2
        run(&driver, ms: 100)
        #expect(driver.bus.balancing == 0)
    }

    @Test func manualBalancingTakesTheBalanceFETsFromTheStateMachine() throws {
        var driver = try started(cells: 4)
        var b = AFEBalancing()
        b.automatic = true; b.minimumCellVoltage = 3.3; b.startDifference = 0.02
        _ = try driver.configure(b)
        for k in 0..<8 { driver.bus.analog.cellVoltages[k] = 3.35 }
        driver.bus.analog.cellVoltages[0] = 3.45   // cell 1, what the chip would bleed
        driver.bus.analog.current = 2
        run(&driver, ms: 100)
        #expect(driver.bus.balancing == 0x01)
        // Cells 2 and 3 are on the inputs VC2 and VC7.
        try driver.balance(0b0110)
        #expect(driver.bus.balancing == 0x42)
        run(&driver, ms: 100)
        #expect(try driver.read().balancing == 0b0110, "the state machine is suspended")
        #expect(driver.bus.control2 & ISL94202.Control2.mcuFET != 0, "FET control kept")
        // Bits above the cell count are not cells.
        try driver.balance(0xFFF0 | 0b1000)
        #expect(driver.bus.balancing == 0x80)
        // 0 gives balancing back to the chip.
        try driver.balance(0)
        run(&driver, ms: 100)
        #expect(try driver.read().balancing == 0b0001)
    }

    @Test func limitsGoToTheRAMShadowNotTheEEPROM() throws {
        var driver = try started()
        let factory = driver.bus.settingWord(ISL94202.Register.overvoltage)
        var p = AFEProtection()
        p.cellOvervoltage = 3.65
        _ = try driver.configure(p)
        #expect(driver.bus.settingWord(ISL94202.Register.overvoltage) == 0x1000 | 3114)
        #expect(driver.bus.eepromByte(0x00) == UInt8(truncatingIfNeeded: factory))
        driver.bus.reset()   // power cycle: the shadow reloads from the EEPROM
        #expect(driver.bus.settingWord(ISL94202.Register.overvoltage) == factory)
        // With EEEN the same addresses reach the EEPROM, which the next power-up loads.
        var chip = ISL94202Emulator()
        var enable = I2CBytes(); enable.append(0x89); enable.append(0x01)
        try chip.write(0x28, enable)
        var word = I2CBytes(); word.append(0x00); word.append(0x34); word.append(0x12)
        try chip.write(0x28, word)
        var pointer = I2CBytes(); pointer.append(0x00)
        let back = try chip.writeRead(0x28, pointer, readCount: 2)
        #expect(back[0] == 0x34 && back[1] == 0x12)
        #expect(chip.settingWord(0x00) != 0x1234, "the chip still works with its shadow")
        chip.reset()
        #expect(chip.settingWord(0x00) == 0x1234)
    }

    @Test func sleepAndShutdown() throws {
        var driver = try started()
        try driver.setSwitches(AFESwitches(charge: true, discharge: true))
        try driver.setMode(.sleep)
        #expect(!driver.bus.chargeFET && !driver.bus.dischargeFET)
        driver.bus.analog.cellVoltages[0] = 4.7   // nothing is measured asleep
        run(&driver, ms: 5000)
        driver.bus.analog.cellVoltages[0] = 3.3
        try driver.setMode(.normal)
        let r = try driver.read()
        #expect(r.status.tripped.isEmpty && r.switches == AFESwitches(charge: true, discharge: true))
        try driver.setMode(.shutdown)
        #expect(driver.bus.shutDown && !driver.bus.chargeFET)
        #expect(throws: AFEError.bus(.noAcknowledge)) { _ = try driver.read() }
        driver.bus.reset()
        try driver.start()
    }

    @Test func aSilentBusIsABusError() throws {
        var driver = try started()
        driver.bus.silent = true
        #expect(throws: AFEError.bus(.noAcknowledge)) { _ = try driver.read() }
        var other = Driver(bus: ISL94202Emulator(), shuntResistance: ISL94202Tests.shunt)
        other.bus.silent = true
        #expect(throws: AFEError.bus(.noAcknowledge)) { try other.start() }
    }

    @Test func wrongAddressesAndMalformedTransfersAreRefused() throws {
        // The ADDR pin high: 0x29. A driver for 0x28 gets no answer, one for 0x29 works.
        var wrong = Driver(bus: ISL94202Emulator(address: 0x29), shuntResistance: ISL94202Tests.shunt)
        #expect(throws: AFEError.bus(.noAcknowledge)) { try wrong.start() }
        var right = Driver(bus: ISL94202Emulator(address: 0x29), shuntResistance: ISL94202Tests.shunt, address: 0x29)
        try right.start()
        var chip = ISL94202Emulator()
        func bytes(_ b: UInt8...) -> I2CBytes { var d = I2CBytes(); for x in b { d.append(x) }; return d }
        // Read-only, reserved and beyond-the-map registers; more than a 4-byte page.
        #expect(throws: I2CError.noAcknowledge) { try chip.write(0x28, bytes(0x80, 0x00)) }
        #expect(throws: I2CError.noAcknowledge) { try chip.write(0x28, bytes(0x90, 0x00)) }
        #expect(throws: I2CError.noAcknowledge) { try chip.write(0x28, bytes(0x4C, 0x00)) }
        #expect(throws: I2CError.noAcknowledge) { try chip.write(0x28, bytes(0x00, 1, 2, 3, 4, 5)) }
        #expect(throws: I2CError.noAcknowledge) { _ = try chip.writeRead(0x28, bytes(0x4C), readCount: 1) }
        #expect(throws: I2CError.noAcknowledge) { _ = try chip.writeRead(0x28, bytes(0xAA), readCount: 3) }
        #expect(throws: I2CError.busError) { _ = try chip.writeRead(0x28, bytes(0x80, 0x81), readCount: 1) }
        #expect(throws: I2CError.busError) { _ = try chip.writeRead(0x28, bytes(0x80), readCount: 0) }
        #expect(chip.rejectedTransfers == 8)
        #expect(chip.settingWord(0x00) & 0x0FFF == ISL94202.voltageCode(4.25), "nothing was written")
        // A short answer is corruption, not a reading.
        var short = ISL94202Driver(bus: Short(chip: ISL94202Emulator()), shuntResistance: ISL94202Tests.shunt)
        try short.start()
        short.bus.truncate = true
        #expect(throws: AFEError.corrupted) { _ = try short.read() }
    }

    /// A bus where writes vanish and every register reads 0.
    struct Forgetful: I2CBus {
        mutating func write(_ address: UInt8, _ data: I2CBytes) throws(I2CError) {}

        mutating func writeRead(_ address: UInt8, _ data: I2CBytes, readCount: Int) throws(I2CError) -> I2CBytes {
            var out = I2CBytes()
            for _ in 0..<readCount { out.append(0) }
            return out
        }
    }

    /// A bus that drops the last byte of answers once asked to.
    struct Short: I2CBus {
        var chip: ISL94202Emulator
        var truncate = false

        mutating func write(_ address: UInt8, _ data: I2CBytes) throws(I2CError) { try chip.write(address, data) }

        mutating func writeRead(_ address: UInt8, _ data: I2CBytes, readCount: Int) throws(I2CError) -> I2CBytes {
            let full = try chip.writeRead(address, data, readCount: readCount)
            guard truncate else { return full }
            var out = I2CBytes()
            for k in 0..<(full.count - 1) { out.append(full[k]) }
            return out
        }
    }
}
