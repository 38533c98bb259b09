import BMSCore
import Firmware
import FlexBMSTools
import Inverter
import PackSim
import Testing
import ThingSet

/// Three packs (the third second-life and smaller) on one bus, 2 h of the off-grid day.
func bankRun(faults: [(pack: Int, fault: ScheduledFault)], hours: Double = 2) throws -> (BankReport, SimulatedBank<StandardProfile>) {
    var packs: [Simulation<NoDemand>] = []
    for k in 0..<3 {
        var setup = SimulationSetup(chemistry: .lfp, cells: 16, capacityAh: k == 2 ? 80 : 100)
        setup.spread = k == 2 ? .secondLife : .new
        setup.initialSOC = 0.6
        setup.seed = 3 &+ UInt64(k) &* 7919
        var sim = try Simulation(setup: setup, profile: NoDemand())
        for f in faults where f.pack == k + 1 { sim.schedule(f.fault) }
        packs.append(sim)
    }
    let config = BMSConfig.preset(.lfp, cells: 16, capacityAh: 280)!
    let bus = ParallelSimulation(packs: packs, profile: StandardProfile(.offgridDay, config: config, seed: 3))
    var bank = try SimulatedBank(sim: bus, inverter: InverterSettings(profile: .victron), joinDifference: 1,
                                 logPath: nil)
    let report = BankRunner.run(&bank, durationMs: UInt64(hours * 3_600_000), profileName: "offgrid-day")
    return (report, bank)
}

@Suite struct BankRunTests {
    @Test func aPackFaultIsNamedByTheLeaderAndTheOthersCarryOnWithinTheirLimits() throws {
        let (report, _) = try bankRun(faults: [(2, ScheduledFault(kind: .thermistorOpen, index: 0, atMilliseconds: 1_800_000))])
        // The pack trips, and the leader (pack 1, the lowest address) names the pack and sensor.
        let trip = report.events.first { $0.record.kind == "trip" }
        #expect(trip?.pack == 2 && trip?.record.fault == "temperature_sensor" && trip?.record.sensor == 1)
        #expect(trip.map { abs($0.record.seconds - 1801) <= 1 } == true)
        let named = report.events.first { $0.record.kind == "bank_fault" }
        #expect(named?.pack == 1 && named?.about == 2 && named?.record.fault == "temperature_sensor"
                && named?.record.sensor == 1)
        #expect(report.leaderChanges.map(\.address) == [1])
        // The inverter is told less at once, and no healthy pack ever carries more than its limit.
        #expect(report.limitDrops.count == 1 && (report.limitDrops.first?.drop ?? 99) <= 2)
        for p in report.packs { #expect(p.stats.secondsOverLimit == 0, "pack \(p.number)") }
        #expect(report.unservedLoadWh < 5)
    }

    @Test func theLeadersThingSetObjectsNameThePackAndSensor() throws {
        let (_, bank) = try bankRun(faults: [(2, ScheduledFault(kind: .thermistorOpen, index: 0, atMilliseconds: 600_000))],
                                    hours: 0.25)
        var node = ThingSetNode(model: bank.objects(pack: 0))
        var channel = ThingSetChannel()
        var out = [UInt8](repeating: 0, count: 1024)
        let line = Array("?Bank".utf8)
        let n = line.withUnsafeBufferPointer { l in out.withUnsafeMutableBufferPointer { node.processText(l, into: $0, channel: &channel) } }
        let answer = String(decoding: out[0..<n], as: UTF8.self)
        #expect(answer.hasPrefix(#":85 {"rPacks":3,"rPacksOnline":2,"rLeader":1,"rErrorFlags":131072,"#), "\(answer)")
        #expect(answer.hasSuffix(#""rFaultPack":2,"rFault":"temperature_sensor","rFaultCell":0,"rFaultSensor":1}"#), "\(answer)")
    }

    @Test func whenTheLeaderFallsSilentTheNextLowestTakesOver() throws {
        let (report, bank) = try bankRun(faults: [(1, ScheduledFault(kind: .canSilent, index: 0, atMilliseconds: 3_600_000))])
        #expect(report.leaderChanges.map(\.address) == [1, 2])
        let takeover = report.leaderChanges.last?.seconds ?? 0
        #expect(takeover >= 3603 && takeover <= 3605)  // the roster's 3 s timeout
        let left = report.events.first { $0.record.kind == "pack_left" }
        #expect(left?.pack == 2 && left?.about == 1)
        // Pack 1 still sits on the bus and carries its share: only its voice is gone.
        #expect(bank.sim.packs[0].bms.command.switches.dischargeOn)
        for p in report.packs { #expect(p.stats.secondsOverLimit == 0, "pack \(p.number)") }
    }
}
