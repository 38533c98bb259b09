import BMSCore
import Inverter
import Testing
@testable import Firmware

/// A 16S LFP 100 Ah BMS and an inverter bridge stepped together once a second.
struct InverterRig {
    var bms = try! BatteryManager(config: BMSConfig.preset(.lfp, cells: 16, capacityAh: 100)!)
    var bridge: InverterBridge
    var ms: UInt32 = 0

    init(_ profile: InverterProfile = .pylon, _ adjust: (inout InverterSettings) -> Void = { _ in }) {
        var settings = InverterSettings(profile: profile)
        adjust(&settings)
        bridge = InverterBridge(settings: settings)
    }

    /// Steps `seconds` times, `every` ms apart, with all cells at `cell` V (cell 5 at `cell5`).
    mutating func run(_ seconds: Int, cell: Float = 3.3, cell5: Float? = nil, current: Float = -5,
                      every: UInt32 = 1000) {
        for _ in 0..<seconds {
            ms &+= every
            var m = Measurement(timestamp: Timestamp(milliseconds: ms), cellVoltage: cell, current: current)
            if let v = cell5 { m.cellVoltages[4] = v }
            m.addTemperature(24, role: .cell)
            m.addTemperature(28, role: .cell)
            m.addTemperature(35, role: .mosfet)
            m.packVoltage = cell * 16
            _ = bms.step(m, now: Timestamp(milliseconds: ms))
            bridge.update(bms, now: Timestamp(milliseconds: ms))
        }
    }

    /// Every frame due now.
    mutating func frames() -> [InverterFrame] {
        var out: [InverterFrame] = []
        // The whole set, due over the next second.
        for t in stride(from: ms, through: ms + 999, by: 10) {
            while let (f, _) = bridge.nextFrame(now: Timestamp(milliseconds: t)) { out.append(f) }
        }
        return out
    }
}

@Suite struct InverterBridgeTests {
    @Test func nothingIsSentBeforeTheFirstMeasurement() {
        var rig = InverterRig()
        #expect(rig.bridge.nextFrame(now: Timestamp(milliseconds: 0)) == nil)
        rig.run(1)
        #expect(rig.frames().map(\.id) == [0x351, 0x355, 0x356, 0x359, 0x35C, 0x35E])
    }

    @Test func theReportIsTheBMSsView() {
        var rig = InverterRig(.victron)
        rig.run(5, cell: 3.3, cell5: 3.35, current: -20)
        let r = rig.bridge.report
        #expect(abs(r.voltage - 52.8) < 1e-3)
        #expect(abs(r.current + 20) < 1e-3)
        #expect(r.maxCell == .init(index: 5) && abs(r.maxCellVoltage - 3.35) < 1e-6)
        #expect(r.minCell == .init(index: 1) && abs(r.minCellVoltage - 3.3) < 1e-6)
        #expect(r.temperature == 26 && r.minTemperature == 24 && r.maxTemperature == 28)
        #expect(r.coldest == .init(index: 1) && r.warmest == .init(index: 2))  // MOSFET not a cell
        #expect(r.chargeAllowed && r.dischargeAllowed)
        #expect(r.chargeCurrentLimit == rig.bms.limits.chargeCurrent && r.chargeCurrentLimit > 0)
        #expect(r.dischargeVoltageLimit == rig.bms.limits.dischargeVoltage)
        #expect(r.protections.isEmpty && r.warnings.isEmpty && r.requests.isEmpty)
        #expect(r.installedCapacity == 100 && r.stateOfCharge == rig.bms.packSOC)
        let f = rig.frames().first { $0.id == 0x351 }!
        #expect(Int(f.s16(at: 2)) == Int((r.chargeCurrentLimit * 10).rounded()))
    }

    @Test func aCellOvervoltageTripIsAProtectionAndStopsCharging() {
        var rig = InverterRig()
        rig.run(10, cell: 3.3, cell5: 3.85, current: 10)
        let r = rig.bridge.report
        #expect(rig.bms.protection.active.contains(.cellOvervoltage))
        #expect(r.protections.contains(.highVoltage) && !r.chargeAllowed && r.dischargeAllowed)
        let frames = rig.frames()
        let limits = frames.first { $0.id == 0x351 }!
        #expect(limits.s16(at: 2) == 0)
        #expect(limits.u16(at: 0) > 0)
        #expect(frames.first { $0.id == 0x359 }![0] & 0x02 != 0)
        #expect(frames.first { $0.id == 0x35C }![0] == 0x40)
    }

    @Test func anEmptyPackIsAWarningThatBlocksDischargeAndAsksForCharge() {
        var rig = InverterRig(.sma)
        rig.run(30, cell: 2.75, current: -2)
        let r = rig.bridge.report
        #expect(rig.bms.protection.active.contains(.dischargeCutoff))
        #expect(!r.protections.contains(.lowVoltage) && r.warnings.contains(.lowVoltage))
        #expect(!r.dischargeAllowed)
        #expect(r.requests.contains(.forceCharge1) && r.requests.contains(.forceCharge2))
        // SMA: a warning, not an alarm, so the Sunny Island keeps charging.
        let alarms = rig.frames().first { $0.id == 0x35A }!
        #expect(alarms[0] == 0xAA && alarms[4] & 0b11_0000 == 0b01_0000)
    }

    @Test func forceChargeRequestsFollowTheSOCWithHysteresis() {
        var rig = InverterRig()
        let none = rig.bridge.nextRequests(soc: 0.06, empty: false, previous: [], now: .zero)
        #expect(none.isEmpty)
        let low = rig.bridge.nextRequests(soc: 0.05, empty: false, previous: [], now: .zero)
        #expect(low == .forceCharge1)
        let held = rig.bridge.nextRequests(soc: 0.079, empty: false, previous: low, now: .zero)
        #expect(held == .forceCharge1)
        let released = rig.bridge.nextRequests(soc: 0.08, empty: false, previous: held, now: .zero)
        #expect(released.isEmpty)
        let both = rig.bridge.nextRequests(soc: 0.02, empty: false, previous: [], now: .zero)
        #expect(both == [.forceCharge1, .forceCharge2])
    }

    @Test func aFullChargeIsRequestedAfterTheConfiguredDaysBelow97Percent() {
        var rig = InverterRig { $0.fullChargeRequestDays = 1 }
        rig.run(1439, current: 0, every: 60_000)
        #expect(!rig.bridge.report.requests.contains(.fullCharge))
        rig.run(2, current: 0, every: 60_000)
        #expect(rig.bridge.report.requests.contains(.fullCharge))
        #expect(rig.frames().first { $0.id == 0x35C }![0] & 0x08 != 0)
    }

    @Test func energyAndCyclesAreCounted() {
        var rig = InverterRig(.victron)
        rig.run(61, cell: 3.3, current: 10, every: 60_000)   // 1 h at 528 W after the first
        #expect(abs(rig.bridge.report.chargedEnergy - 0.528) < 0.002)
        rig.run(60, cell: 3.3, current: -50, every: 60_000)  // 1 h at 2640 W out: 50 Ah
        #expect(abs(rig.bridge.report.dischargedEnergy - 2.64) < 0.01)
        #expect(rig.bridge.report.cycleCount == 0)
        rig.run(61, cell: 3.3, current: -50, every: 60_000)  // another 50 Ah: one capacity
        #expect(rig.bridge.report.cycleCount == 1)
        let energy = rig.frames().first { $0.id == 0x378 }!
        #expect(energy.u16(at: 0) == 5 && energy.u16(at: 4) >= 52)
    }

    @Test func everyFaultHasAnInverterCondition() {
        for fault in Fault.allCases {
            var set = FaultSet()
            set.insert(fault)
            #expect(!InverterBridge.conditions(set).isEmpty, "\(fault)")
        }
    }
}
