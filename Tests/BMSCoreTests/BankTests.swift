import Testing
@testable import BMSCore

func share(_ address: UInt8, ocv: Float = 52, r: Float = 0.02, soc: Float = 0.5, capacity: Float = 100,
           ccl: Float = 90, dcl: Float = 90, allowed: Directions = .both, connected: Bool = true) -> PackShare {
    var s = PackShare(address: address)
    s.openCircuitVoltage = ocv
    s.voltage = ocv
    s.resistance = r
    s.stateOfCharge = soc
    s.capacity = capacity
    s.chargeCurrentLimit = ccl
    s.dischargeCurrentLimit = dcl
    s.chargeVoltageLimit = 56.8
    s.dischargeVoltageLimit = 44.8
    s.allowed = allowed
    s.connected = connected
    return s
}

@Suite struct BankRosterTests {
    @Test func theLowestAddressAliveLeadsAndAnotherTakesOverWhenItVanishes() {
        var roster = BankRoster(own: share(0x12))
        #expect(roster.isLeader && roster.count == 1)
        roster.receive(share(0x11), at: 1000)
        roster.receive(share(0x13), at: 1000)
        #expect(roster.leader == 0x11 && !roster.isLeader && roster.count == 3)
        roster.receive(share(0x13, soc: 0.7), at: 2000)   // an update, not a fourth pack
        #expect(roster.count == 3 && roster[2].stateOfCharge == 0.7)
        let none = roster.expire(now: 4000)               // 3000 ms: still within the timeout
        let first = roster.expire(now: 4001)              // 0x11 gone, 0x13 heard at 2000
        #expect(none == 0 && first == 1)
        #expect(roster.leader == 0x12 && roster.isLeader)
        let second = roster.expire(now: 5001)
        #expect(second == 1 && roster.count == 1)
    }

    @Test func theRosterHoldsEightOthersAndIgnoresItsOwnEcho() {
        var roster = BankRoster(own: share(0x20))
        for a in 0..<8 {
            let taken = roster.receive(share(UInt8(0x30 + a)), at: 0)
            #expect(taken)
        }
        let ninth = roster.receive(share(0x40), at: 0)
        let echo = roster.receive(share(0x20), at: 0)
        #expect(!ninth && echo && roster.count == 9)
    }
}

@Suite struct BankLimitsTests {
    @Test func equalPacksAddUp() {
        var roster = BankRoster(own: share(1))
        roster.receive(share(2), at: 0)
        roster.receive(share(3), at: 0)
        let b = BankLimits.of(roster)
        #expect(abs(b.chargeCurrentLimit - 270) < 0.01 && abs(b.dischargeCurrentLimit - 270) < 0.01)
        #expect(b.online == 3 && b.offline == 0 && b.capacity == 300)
        #expect(b.chargeAllowed && b.dischargeAllowed)
    }

    @Test func aPackThatWouldTakeMoreThanItsShareDeratesTheBank() {
        // Pack 3 is emptier (OCV 0.2 V lower): in a charge it takes more than the others.
        var roster = BankRoster(own: share(1))
        roster.receive(share(2), at: 0)
        roster.receive(share(3, ocv: 51.8), at: 0)
        let b = BankLimits.of(roster)
        // The bus may rise to 51.8 + 90 × 0.02 = 53.6 V: 90 A into pack 3, 80 A into each other.
        #expect(abs(b.chargeCurrentLimit - 250) < 0.01)
        // Discharging, pack 1 and 2 reach their 90 A at 50.2 V, where pack 3 gives 80 A.
        #expect(abs(b.dischargeCurrentLimit - 260) < 0.01)
        // A stiffer pack (half the resistance) likewise takes more and lowers the limit.
        var stiff = BankRoster(own: share(1))
        stiff.receive(share(2, r: 0.01), at: 0)
        let s = BankLimits.of(stiff)
        #expect(abs(s.chargeCurrentLimit - 135) < 0.01)  // 90 A in the stiff pack, 45 A in the other
    }

    @Test func strictAndLenientPolicies() {
        var roster = BankRoster(own: share(1))
        roster.receive(share(2, allowed: .discharge), at: 0)
        let strict = BankLimits.of(roster)
        #expect(!strict.chargeAllowed && strict.chargeCurrentLimit == 0 && strict.blockingCharge == 1)
        #expect(strict.dischargeAllowed && abs(strict.dischargeCurrentLimit - 180) < 0.01)
        let lenient = BankLimits.of(roster, policy: .lenient)
        #expect(lenient.chargeAllowed && abs(lenient.chargeCurrentLimit - 90) < 0.01)
        let capped = BankLimits.of(roster, maximumCurrent: 150)
        #expect(capped.dischargeCurrentLimit == 150)
    }

    @Test func disconnectedPacksAreOfflineAndEveryFaultIsInTheUnion() {
        var roster = BankRoster(own: share(1, soc: 0.8, capacity: 100))
        var tripped = share(2, soc: 0.2, capacity: 100, allowed: .none, connected: false)
        tripped.faults.insert(.cellOvervoltage)
        var weak = share(3, soc: 0.5, capacity: 50)
        weak.stateOfHealth = 0.8
        weak.warnings.insert(.chargeOvertemperature)
        roster.receive(tripped, at: 0)
        roster.receive(weak, at: 0)
        let b = BankLimits.of(roster)
        #expect(b.online == 2 && b.offline == 1)
        #expect(b.faults.contains(.cellOvervoltage) && b.warnings.contains(.chargeOvertemperature))
        #expect(b.chargeAllowed)   // the tripped pack is out of the bank, not blocking it
        // SOC weighted by usable capacity: (0.8 × 100 + 0.5 × 40) / 140.
        #expect(abs(b.stateOfCharge - 100.0 / 140) < 1e-5)
        #expect(abs(b.stateOfHealth - (100 + 40) / 150.0) < 1e-5)
        #expect(b.chargeVoltageLimit == 56.8 && b.dischargeVoltageLimit == 44.8)
    }

    @Test func noPackOnlineMeansNothingAllowed() {
        let b = BankLimits.of(BankRoster(own: share(1, connected: false)))
        #expect(b.online == 0 && !b.chargeAllowed && !b.dischargeAllowed && b.chargeCurrentLimit == 0)
    }
}

@Suite struct JoinGateTests {
    func gate(_ g: inout JoinGate, stack: Float, bus: Float, current: Float = 0, connected: Bool) -> Directions {
        g.update(stack: stack, bus: bus, current: current, resistance: 0.02, alone: false,
                 chargeSwitch: connected, dischargeSwitch: connected, chargeLimit: 90, dischargeLimit: 90)
    }

    @Test func aPackCloseToTheBusJoinsAtOnce() {
        var g = JoinGate(joinDifference: 1.0)
        let e1 = gate(&g, stack: 52.0, bus: 53.0, connected: false)
        #expect(e1 == .both && g.mode == .joined)
    }

    @Test func aPackFarBelowTheBusEqualizesByChargeThenJoins() {
        var g = JoinGate(joinDifference: 1.0)
        let e2 = gate(&g, stack: 52.0, bus: 54.0, connected: false)
        #expect(e2 == Directions.none)   // 100 A > 90 A
        let e2b = gate(&g, stack: 52.2, bus: 53.7, connected: false)
        #expect(e2b == Directions.none)  // 75 A: within 90 A but not with a fifth in hand
        #expect(g.mode == .isolated)
        let e3 = gate(&g, stack: 52.3, bus: 53.7, connected: false)
        #expect(e3 == .charge)           // 70 A: within 80 % of its 90 A
        #expect(g.mode == .equalizingByCharge)
        // The switch closes a step later; the 0 A of before it conducted does not count.
        let e3b = gate(&g, stack: 52.3, bus: 53.7, current: 0, connected: true)
        #expect(e3b == .charge)
        let e4 = gate(&g, stack: 52.5, bus: 53.7, current: 60, connected: true)
        #expect(e4 == .charge)
        let e5 = gate(&g, stack: 52.9, bus: 53.7, current: 50, connected: true)
        #expect(e5 == .both)  // 1.0 V / 0.02 Ω
        #expect(g.mode == .joined)
        let e6 = gate(&g, stack: 53, bus: 53.1, current: 20, connected: true)
        #expect(e6 == .both)
        // Its protection opened both switches: it checks again before reconnecting.
        let e7 = gate(&g, stack: 55.5, bus: 53.0, connected: false)
        #expect(e7 == Directions.none)
        let e8 = gate(&g, stack: 54.4, bus: 53.0, connected: false)
        #expect(e8 == .discharge)
    }

    @Test func aFullPackThatRanDownWaitsForTheBusToComeToIt() {
        var g = JoinGate(joinDifference: 1.0)
        _ = gate(&g, stack: 53, bus: 53.2, connected: false)   // joined
        // Full: discharge only. The others charge, the bus stands 4 V above it.
        let held = g.update(stack: 52.5, bus: 56.5, current: 0, resistance: 0.04, alone: false,
                            chargeSwitch: false, dischargeSwitch: true, chargeLimit: 90, dischargeLimit: 90)
        #expect(held == .discharge)
        let close = g.update(stack: 52.5, bus: 52.7, current: -10, resistance: 0.04, alone: false,
                             chargeSwitch: false, dischargeSwitch: true, chargeLimit: 90, dischargeLimit: 90)
        #expect(close == .discharge)   // 0.2 V above: beyond the sensors' 0.1 V, not yet
        let night = g.update(stack: 52.5, bus: 52.0, current: -10, resistance: 0.04, alone: false,
                             chargeSwitch: false, dischargeSwitch: true, chargeLimit: 90, dischargeLimit: 90)
        #expect(night == .both)
    }

    @Test func aDeadBusIsJoinedByTheLeaderFirst() {
        var leader = JoinGate(), other = JoinGate()
        let first = leader.update(stack: 52, bus: 0, current: 0, resistance: 0.02, alone: false, leader: true,
                                  chargeSwitch: false, dischargeSwitch: false, chargeLimit: 90, dischargeLimit: 90)
        let second = other.update(stack: 52.3, bus: 0, current: 0, resistance: 0.02, alone: false, leader: false,
                                  chargeSwitch: false, dischargeSwitch: false, chargeLimit: 90, dischargeLimit: 90)
        #expect(first == .both && second == Directions.none)
    }

    @Test func aPackAloneJoins() {
        var g = JoinGate()
        let enables = g.update(stack: 40, bus: 55, current: 0, resistance: 0.02, alone: true,
                               chargeSwitch: false, dischargeSwitch: false, chargeLimit: 90, dischargeLimit: 90)
        #expect(enables == .both)
    }
}

@Suite struct BankEndOfRangeTests {
    @Test func aDirectionHeldByTheJoinCheckDoesNotStopTheBank() {
        var held = share(2, allowed: .discharge)
        held.chargeHeld = true
        var roster = BankRoster(own: share(1))
        roster.receive(held, at: 0)
        let b = BankLimits.of(roster)
        #expect(b.chargeAllowed && abs(b.chargeCurrentLimit - 90) < 0.01 && !b.full)
    }

    @Test func aFullPackDropsOutOfTheChargeWithoutStoppingTheOthers() {
        var full = share(1, allowed: .discharge)
        full.full = true
        var roster = BankRoster(own: full)
        roster.receive(share(2), at: 0)
        let b = BankLimits.of(roster)
        #expect(b.chargeAllowed && abs(b.chargeCurrentLimit - 90) < 0.01 && b.blockingCharge == 1 && !b.full)
        var second = share(2, allowed: .discharge)
        second.full = true
        roster.receive(second, at: 0)
        let both = BankLimits.of(roster)
        #expect(!both.chargeAllowed && both.full)
        var empty = share(3, allowed: .charge)
        empty.empty = true
        var drained = BankRoster(own: share(1))
        drained.receive(empty, at: 0)
        let d = BankLimits.of(drained)
        #expect(d.dischargeAllowed && abs(d.dischargeCurrentLimit - 90) < 0.01)
    }
}

@Suite struct BankShareTests {
    @Test func whatThePacksReallyCarryBoundsTheModel() {
        // The model splits a charge evenly; pack 2 in fact takes 60 % of it, and its limit
        // is 30 A: the bank may charge at 50 A, not 60.
        var one = share(1, ccl: 30), two = share(2, ccl: 30)
        one.current = 8
        two.current = 12
        var roster = BankRoster(own: one)
        roster.receive(two, at: 0)
        let b = BankLimits.of(roster)
        #expect(abs(b.chargeCurrentLimit - 50) < 0.01)
        // At rest the model alone decides.
        one.current = 0.2
        two.current = -0.2
        roster.update(own: one)
        roster.receive(two, at: 0)
        #expect(abs(BankLimits.of(roster).chargeCurrentLimit - 60) < 0.01)
    }
}

@Suite struct BankFieldLessonsTests {
    @Test func aPackThatWouldTakeMoreThanItsLimitWaitsEvenWithinTheJoinDifference() {
        // 0.9 V below the bus through 8 mΩ would drive 112 A into a pack that takes 90.
        var g = JoinGate(joinDifference: 1.0)
        let e = g.update(stack: 52.1, bus: 53.0, current: 0, resistance: 0.008, alone: false,
                         chargeSwitch: false, dischargeSwitch: false, chargeLimit: 90, dischargeLimit: 90)
        #expect(e == Directions.none && g.mode == .isolated)
    }

    @Test func aDirectionThePackCanNoLongerCarryIsHeldOpenWithHysteresis() {
        var g = JoinGate()
        func step(_ dcl: Float, _ t: UInt32) -> Directions {
            g.update(stack: 52, bus: 52, current: -10, resistance: 0.02, alone: false,
                     chargeSwitch: true, dischargeSwitch: true, chargeLimit: 90, dischargeLimit: dcl, now: t)
        }
        #expect(step(50, 1000) == .both)
        #expect(step(0.9, 2000) == .charge)     // nearly empty: the others carry the load
        #expect(step(1.5, 70_000) == .charge)   // not yet back
        #expect(step(5, 61_999) == .charge)     // back, but not a minute yet
        #expect(step(2.0, 62_000) == .both)
    }

    @Test func circulatingCurrentIsSharedByDirection() {
        // Packs equalizing: pack 1 gives 60 A, 55 of them into pack 2, 5 to the loads. Pack 1
        // carries all the discharge: the bank may discharge at its 90 A, not at 90 × 5/60.
        var one = share(1, dcl: 90), two = share(2, dcl: 90)
        one.current = -60
        two.current = 55
        var roster = BankRoster(own: one)
        roster.receive(two, at: 0)
        #expect(abs(BankLimits.of(roster).dischargeCurrentLimit - 90) < 0.01)
        // A full pack feeding the others while they charge does not lift their bound: pack 2
        // takes 9 A of the 10 A charging at its 5 A limit: the charge is held near 5.6 A.
        var full = share(3, allowed: .discharge)
        full.full = true
        full.current = -1
        var a = share(1, ccl: 5), b = share(2, ccl: 5)
        a.current = 1
        b.current = 9
        var r = BankRoster(own: a)
        r.receive(b, at: 0)
        r.receive(full, at: 0)
        #expect(abs(BankLimits.of(r).chargeCurrentLimit - 5.0 * 10 / 9) < 0.01)
    }

    @Test func aFullPacksFloatVoltageDoesNotHoldTheOthersBelowFull() {
        var full = share(1, allowed: .discharge)
        full.full = true
        full.chargeVoltageLimit = 53.6
        var roster = BankRoster(own: full)
        roster.receive(share(2), at: 0)
        #expect(BankLimits.of(roster).chargeVoltageLimit == 56.8)
        var second = share(2, allowed: .discharge)
        second.full = true
        second.chargeVoltageLimit = 53.6
        roster.receive(second, at: 0)
        #expect(BankLimits.of(roster).chargeVoltageLimit == 53.6)   // all full: float
    }
}
