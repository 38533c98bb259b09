import BMSCore
import PAYG
import Testing
@testable import PackSim

/// The virtual device with pay-as-you-go: the decoder (PAYG) hands its credit to the BMS core
/// every second, as the firmware will; the pack lives an off-grid life meanwhile.
@Suite struct PAYGScenarioTests {
    @Test func creditRunsOutThenANewTokenRestoresDischarge() throws {
        var key = InlineArray<16, UInt8>(repeating: 0)
        for i in 0..<16 { key[i] = UInt8(0x40 + i) }
        let chain = TokenChain(key: SipHashKey(bytes: key), startingCode: 294_117_003)
        var device = PAYGDevice(provisioning: PAYGProvisioning(chain: chain))
        var sim: Simulation<StandardProfile>! = nil
        /// Every entry is logged in the BMS's event stream, as the firmware does.
        func enter(_ token: UInt32, at seconds: UInt64) -> TokenResult {
            let (digits, count) = TokenText.characters(token, restricted: false)
            let result = device.enter(digits.span.extracting(0..<count), now: seconds)
            switch result {
            case .accepted(_, let value, _): sim.recordPAYGEntry(.accepted, value: Float(value))
            case .alreadyUsed: sim.recordPAYGEntry(.alreadyUsed, value: 0)
            case .invalid: sim.recordPAYGEntry(.invalid, value: 0)
            case .lockedOut: sim.recordPAYGEntry(.lockedOut, value: 0)
            }
            return result
        }

        var setup = SimulationSetup(chemistry: .lfp, cells: 8, capacityAh: 100)
        setup.seed = 4
        var config = setup.bmsConfig!
        config.payg.warningSeconds = 6 * 3600
        config.payg.graceSeconds = 3600
        setup.config = config
        sim = try Simulation(setup: setup, profile: StandardProfile(.offgridDay, config: config, seed: 4))

        // One day of credit at the start.
        #expect(enter(chain.token(value: 1, count: 2), at: 0) == .accepted(.addTime, value: 1, count: 2))
        var kinds: [(UInt64, BMSEventKind)] = []
        var dischargedWhileLockedAh: Float = 0, chargeWhileLocked: Float = 0
        var unservedAtLock: Double = 0
        var lockedAt: UInt64?
        for second in UInt64(0)..<(48 * 3600) {
            if second == 36 * 3600 {
                #expect(enter(chain.token(value: 2, count: 4), at: second) == .accepted(.addTime, value: 2, count: 4))
            }
            sim.updateCredit(PAYGCredit(enforced: device.state.enabled, secondsLeft: device.secondsLeft(now: second),
                                        secondsExpired: device.secondsExpired(now: second)))
            let record = sim.step()
            while let e = sim.nextEvent() {
                kinds.append((second, e.kind))
                if e.kind == .paygLocked { lockedAt = second; unservedAtLock = sim.stats.unservedLoadWh }
                #expect(e.kind != .trip, "a protection trip: \(e)")
            }
            if sim.bms.payg.locked {
                dischargedWhileLockedAh += max(-record.current, 0) / 3600
                chargeWhileLocked = max(chargeWhileLocked, record.current)
            }
        }
        // Warned 6 h before the end of the day, locked 1 h after it, unlocked by the token.
        let warning = kinds.first { $0.1 == .paygWarning }?.0
        #expect(warning == 18 * 3600)
        #expect(lockedAt == 25 * 3600)
        #expect(kinds.contains { $0.0 == 36 * 3600 && $0.1 == .paygUnlocked })
        #expect(kinds.filter { $0.1 == .paygEntry }.count == 2)
        // While locked (11 h of night and morning): the loads go unserved — what flowed out is
        // the seconds in which the ideal diode still held the FET on as the sun faded, not
        // the night's load — and the morning sun still charges.
        #expect(dischargedWhileLockedAh < 0.05, "\(dischargedWhileLockedAh) Ah")
        #expect(sim.stats.unservedLoadWh - unservedAtLock > 20)
        #expect(chargeWhileLocked > 2, "\(chargeWhileLocked)")
        // After the token: discharging again, three days' credit from then less 12 h used.
        #expect(!sim.bms.payg.locked && sim.bms.allowedDirections.contains(.discharge))
        #expect(device.secondsLeft(now: 48 * 3600) == 2 * 86_400 - 12 * 3600)
    }
}
