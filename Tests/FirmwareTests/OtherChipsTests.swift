import AFE
import BMSCore
import FlexBMSTools
import PackSim
import Testing
import ThingSet
@testable import Firmware

/// The device application is generic over the AFE: the same code on the bq76940 (15 cells) and
/// the ISL94202 (8 cells), each emulator driven by the simulated pack.
struct OtherChipsTests {
    static func setup(cells: Int, soc: Float) -> SimulationSetup {
        var setup = SimulationSetup(chemistry: .lfp, cells: cells, capacityAh: 100)
        setup.initialSOC = soc
        setup.stepMilliseconds = 100
        return setup
    }

    static func app<Driver: AFEDriver>(_ driver: Driver, cells: Int) throws -> DeviceApplication<Driver, RAMFlash> {
        var id = InlineArray<16, UInt8>(repeating: 0x30)
        id[15] = 0x32
        return try DeviceApplication(chip: driver, flash: RAMFlash(),
                                     defaults: BMSConfig.preset(.lfp, cells: UInt8(cells), capacityAh: 100)!,
                                     nodeID: id, tokens: AuthTokens(expert: "expert", manufacturer: "maker"), now: 0)
    }

    /// Passes every 10 ms with the board's lines to the chip; returns what was printed.
    static func run<Chip: SimulatedChip, Driver: AFEDriver>(
        _ app: inout DeviceApplication<Driver, RAMFlash>, from start: UInt32, ms: UInt32,
        board: (inout DeviceApplication<Driver, RAMFlash>) -> Void = { _ in },
        chip: WritableKeyPath<DeviceApplication<Driver, RAMFlash>, EmulatedBoard<StandardProfile, Chip>>
    ) -> String {
        var out = ""
        var t = start
        while t < start + ms {
            t += 10
            app[keyPath: chip].advance(to: UInt64(t))
            app[keyPath: chip].chip.forceOff(charge: app.forceChargeOff, discharge: app.forceDischargeOff)
            let alert = app[keyPath: chip].chip.alert
            _ = app.poll(now: t, alert: alert) { out += String(decoding: $0, as: UTF8.self) }
        }
        return out
    }

    @Test func bq76940FifteenCellsProtectsAndCutsAShort() throws {
        typealias Board = EmulatedBoard<StandardProfile, BQ769x0Emulator>
        let defaults = BMSConfig.preset(.lfp, cells: 15, capacityAh: 100)!
        let board = try Board(setup: Self.setup(cells: 15, soc: 0.6),
                              profile: StandardProfile(.offgridDay, config: defaults, seed: 3),
                              chip: BQ769x0Emulator(part: .bq76940, shuntResistance: 0.001),
                              inputMask: BQ769x0.cellMask(cells: 15, part: .bq76940))
        var app = try Self.app(BQ769x0Driver(bus: board, part: .bq76940, cells: 15, shuntResistance: 0.001), cells: 15)
        let key = \DeviceApplication<BQ769x0Driver<Board>, RAMFlash>.chip.bus
        var out = Self.run(&app, from: 0, ms: 3000, chip: key)
        #expect(app.afeStarted)
        #expect(app.chip.bus.chip.chargeFET && app.chip.bus.chip.dischargeFET, "\(out)")
        let reading = try #require(app.lastReading)
        #expect(reading.cellCount == 15)
        #expect(abs(reading.cellVoltages[14] - app.chip.bus.pack.groups[14].voltage) < 0.01)
        // The chip drops both FET bits by itself (as on its own trip, or a brown-out): the
        // firmware, whose command has not changed, sees the FETs differ and sets them again.
        var clear = I2CBytes()
        clear.append(BQ769x0.Register.sysCtrl2)
        clear.append(0)
        try app.chip.bus.chip.write(BQ769x0.i2cAddress, clear)
        #expect(!app.chip.bus.chip.chargeFET && !app.chip.bus.chip.dischargeFET)
        out += Self.run(&app, from: 3000, ms: 300, chip: key)
        #expect(app.chip.bus.chip.chargeFET && app.chip.bus.chip.dischargeFET, "set again by the host")
        app.chip.bus.loadShort = true
        out += Self.run(&app, from: 3300, ms: 500, chip: key)
        #expect(!app.chip.bus.chip.dischargeFET, "the chip's SCD cut the short")
        #expect(app.bms.protection.active.contains(.shortCircuit), "\(out)")
        #expect(out.contains("trip short_circuit"))
    }

    @Test func aChipLimitBelowTheFirmwaresIsSaidOnTheConsole() throws {
        typealias Board = EmulatedBoard<StandardProfile, ISL94202Emulator>
        let defaults = BMSConfig.preset(.lfp, cells: 8, capacityAh: 100)!
        let board = try Board(setup: Self.setup(cells: 8, soc: 0.6),
                              profile: StandardProfile(.offgridDay, config: defaults, seed: 3),
                              chip: ISL94202Emulator(shuntResistance: 0.002),
                              inputMask: UInt16(ISL94202.cellSelection(cells: 8)))
        var app = try Self.app(ISL94202Driver(bus: board, shuntResistance: 0.002, cellCount: 8), cells: 8)
        let out = Self.run(&app, from: 0, ms: 300, chip: \DeviceApplication<ISL94202Driver<Board>, RAMFlash>.chip.bus)
        // The ends of the chip's tables on 2 mΩ: 24 mV = 12 A, 96 mV = 48 A, 256 mV = 128 A.
        #expect(out.contains("#afe chg_overcurrent 12 A below the configured 100 A"), "\(out)")
        #expect(out.contains("#afe dis_overcurrent 48 A below the configured 100 A"))
        #expect(out.contains("#afe short_circuit 128 A below the configured 200 A"))
        // On the BQ76952 board (0.3 mΩ) the chip holds every limit: nothing is said.
        var bq = try DeviceApplicationTests.app(DeviceApplicationTests.board(.offgridDay, soc: 0.6))
        var text = ""
        DeviceApplicationTests.run(&bq, from: 0, ms: 300, output: &text)
        #expect(!text.contains("#afe"), "\(text)")
    }

    /// A 0.2 mΩ shunt: the ISL94202's charge over-current table ends at 24 mV, which is 12 A on
    /// a 2 mΩ shunt — the chip would trip a 50 A charge (seen in a first run of this test).
    @Test func isl94202EightCellsTripsOvervoltageInFirmware() throws {
        typealias Board = EmulatedBoard<StandardProfile, ISL94202Emulator>
        let defaults = BMSConfig.preset(.lfp, cells: 8, capacityAh: 100)!
        var board = try Board(setup: Self.setup(cells: 8, soc: 0.8),
                              profile: StandardProfile(.cccvCharge, config: defaults, seed: 3),
                              chip: ISL94202Emulator(shuntResistance: 0.0002),
                              inputMask: UInt16(ISL94202.cellSelection(cells: 8)))
        board.setSOC(0.995, group: 3)
        var app = try Self.app(ISL94202Driver(bus: board, shuntResistance: 0.0002, cellCount: 8), cells: 8)
        let key = \DeviceApplication<ISL94202Driver<Board>, RAMFlash>.chip.bus
        var out = ""
        var t: UInt32 = 0
        while !out.contains("trip cell_overvoltage") && t < 600_000 {
            out += Self.run(&app, from: t, ms: 100, chip: key)
            t += 100
        }
        #expect(out.contains("trip cell_overvoltage cell 4"), "\(out)")
        #expect(!app.chip.bus.chip.chargeFET, "charge opened")
        #expect(app.lastReading?.cellCount == 8)
    }
}
