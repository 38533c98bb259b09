@testable import BMSCore

/// The configuration most tests run on: 16 LFP cells, 100 Ah, the preset as it is.
func lfp16() -> BMSConfig {
    BMSConfig.preset(.lfp, cells: 16, capacityAh: 100)!
}

/// A healthy sample at `ms`: every cell at `cell` volts, a matching stack voltage, one cell,
/// one MOSFET and one board sensor at 25 °C.
func sample(at ms: UInt32, cell: Float = 3.3, current: Float = 0) -> Measurement {
    var m = Measurement(timestamp: Timestamp(milliseconds: ms), cellVoltage: cell, current: current)
    m.addTemperature(25, role: .cell)
    m.addTemperature(25, role: .mosfet)
    m.addTemperature(25, role: .board)
    m.stackVoltage = cell * 16
    return m
}

extension Measurement {
    /// Sets one cell and keeps the stack voltage equal to the sum of the cells.
    mutating func setCell(_ index: Int, to volts: Float) {
        cellVoltages[index] = volts
        var sum: Float = 0
        for i in 0..<16 { sum += cellVoltages[i] }
        stackVoltage = sum
    }
}

/// Drives a `BatteryManager` through time and keeps every event.
struct Rig {
    var bms: BatteryManager
    var events: [BMSEvent] = []
    var now: UInt32 = 0

    init(_ config: BMSConfig = lfp16()) {
        bms = try! BatteryManager(config: config)
    }

    /// One step on `m` taken at the current time.
    @discardableResult
    mutating func step(_ m: Measurement) -> Command {
        let command = bms.step(m, now: Timestamp(milliseconds: now))
        while let e = bms.nextEvent() { events.append(e) }
        return command
    }

    /// Steps every `period` ms from now up to and including `until`, with `make(t)` each time.
    mutating func run(until: UInt32, period: UInt32 = 100, _ make: (UInt32) -> Measurement) {
        while now <= until {
            step(make(now))
            now += period
        }
    }

    /// Advances to `ms` and steps once with `make(ms)`.
    @discardableResult
    mutating func step(at ms: UInt32, _ make: (UInt32) -> Measurement) -> Command {
        now = ms
        return step(make(ms))
    }

    func isActive(_ fault: Fault) -> Bool { bms.protection.active.contains(fault) }
    func kinds(_ fault: Fault) -> [BMSEventKind] {
        events.filter { $0.fault == fault }.map(\.kind)
    }
}
