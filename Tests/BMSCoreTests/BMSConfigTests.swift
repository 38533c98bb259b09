import Testing
@testable import BMSCore

@Suite struct BMSConfigTests {
    static let presetChemistries: [Chemistry] = [.lfp, .nmc, .nca, .lto]

    @Test(arguments: presetChemistries, [UInt8(3), 4, 8, 15, 16])
    func presetIsValid(chemistry: Chemistry, cells: UInt8) {
        for capacity: Float in [5, 50, 100, 280, 1000, 2600, 5000] {
            let config = BMSConfig.preset(chemistry, cells: cells, capacityAh: capacity)!
            let violations = config.validate()
            #expect(violations.isEmpty, "\(chemistry) \(cells)S \(capacity) Ah: \(Array(violations).map(\.field))")
        }
    }

    @Test func customChemistryMayGoAboveThePresetCeiling() {
        var config = lfp16()
        config.pack.chemistry = .custom
        config.cellVoltage.overvoltage = 3.95
        #expect(config.validate().isEmpty)
    }

    @Test func ltoImbalanceResetIsExact() {
        let v = BMSConfig.preset(.lto, cells: 10, capacityAh: 40)!.cellVoltage
        #expect(v.imbalanceLimit == 0.30)
        #expect(v.imbalanceReset == 0.20)
    }

    @Test func customHasNoPreset() {
        #expect(BMSConfig.preset(.custom, cells: 16, capacityAh: 100) == nil)
    }

    @Test func presetClampsOvercurrentToBoardAndPutsShortCircuitAtTwice() {
        let c = BMSConfig.preset(.lfp, cells: 16, capacityAh: 280)!.current
        #expect(c.chargeOvercurrent == 100)
        #expect(c.dischargeOvercurrent == 100)
        #expect(c.shortCircuit == 200)
        let small = BMSConfig.preset(.nmc, cells: 14, capacityAh: 50)!.current
        #expect(small.dischargeOvercurrent == 50)
        #expect(small.shortCircuit == 100)
        #expect(small.chargeOvercurrentDelayMs == 320)
        #expect(small.shortCircuitDelayUs == 200)
    }

    @Test func lfpPresetMatchesReferenceTable() {
        let v = lfp16().cellVoltage
        #expect(v.overvoltage == 3.80)
        #expect(v.chargeTarget == 3.55)
        #expect(v.overvoltageReset == 3.40)
        #expect(v.balanceMinimum == 3.30)
        #expect(v.undervoltageReset == 3.10)
        #expect(v.dischargeCutoff == 2.80)
        #expect(v.undervoltage == 2.50)
    }

    @Test func recoveryTableHasOneSlotPerFault() {
        var table = RecoveryTable(repeating: .immediate)
        for raw in 0..<UInt8(Fault.count) {
            let fault = Fault(rawValue: raw)!
            table[fault] = RecoveryPolicy(delaySeconds: UInt32(raw) + 1)
        }
        for raw in 0..<UInt8(Fault.count) {
            #expect(table[Fault(rawValue: raw)!].delaySeconds == UInt32(raw) + 1)
        }
        #expect(Fault(rawValue: UInt8(Fault.count)) == nil)
        #expect(Fault.allCases.count == Fault.count)
    }

    // MARK: - every rule is found, and each one separately

    /// (what to break, the field expected in the violation, the rule)
    static let brokenRules: [(String, @Sendable (inout BMSConfig) -> Void, ConfigField, ConfigRule)] = [
        ("cells 2", { $0.pack.seriesCells = 2 }, .seriesCellCount, .outOfRange),
        ("cells 17", { $0.pack.seriesCells = 17 }, .seriesCellCount, .outOfRange),
        ("parallel 0", { $0.pack.parallelCells = 0 }, .parallelCellCount, .outOfRange),
        ("capacity NaN", { $0.pack.capacityAh = .nan }, .nominalCapacity, .outOfRange),
        ("capacity 0.5", { $0.pack.capacityAh = 0.5 }, .nominalCapacity, .outOfRange),
        ("OV reset above OV", { $0.cellVoltage.overvoltageReset = 3.81 }, .cellOvervoltageReset, .mustBeBelow),
        ("OV reset equal OV", { $0.cellVoltage.overvoltageReset = 3.80 }, .cellOvervoltageReset, .mustBeBelow),
        ("target above OV", { $0.cellVoltage.chargeTarget = 3.85 }, .cellChargeVoltage, .mustBeBelow),
        ("recharge above target", { $0.cellVoltage.recharge = 3.56 }, .cellRechargeVoltage, .mustBeBelow),
        ("UV reset above recharge", { $0.cellVoltage.undervoltageReset = 3.36 }, .cellUndervoltageReset, .mustBeBelow),
        ("cutoff above UV reset", { $0.cellVoltage.dischargeCutoff = 3.2 }, .cellDischargeCutoff, .mustBeBelow),
        ("full cutoff above discharge cutoff", { $0.cellVoltage.undervoltage = 2.9 }, .cellUndervoltage, .mustBeBelow),
        ("balance minimum below cutoff", { $0.cellVoltage.balanceMinimum = 2.7 }, .cellDischargeCutoff, .mustBeBelow),
        ("balance minimum above target", { $0.cellVoltage.balanceMinimum = 3.6 }, .balanceMinimumVoltage, .mustBeBelow),
        ("OV 5.1 V", { $0.cellVoltage.overvoltage = 5.1 }, .cellOvervoltage, .outOfRange),
        ("OV delay 61 s", { $0.cellVoltage.overvoltageDelayMs = 61_000 }, .cellOvervoltageDelay, .outOfRange),
        ("warning at target", { $0.warnings.voltage = 0.25 }, .voltageWarningMargin, .warningBelowChargeTarget),
        ("imbalance reset above limit", { $0.cellVoltage.imbalanceReset = 0.6 }, .cellImbalanceReset, .mustBeBelow),
        ("COC above board", { $0.current.chargeOvercurrent = 101 }, .chargeOvercurrent, .overcurrentAboveBoardMaximum),
        ("DOC above board", { $0.current.dischargeOvercurrent = 101 }, .dischargeOvercurrent, .overcurrentAboveBoardMaximum),
        ("SC at DOC", { $0.current.shortCircuit = 100 }, .shortCircuitLimit, .shortCircuitNotAboveOvercurrent),
        ("SC delay 5 us", { $0.current.shortCircuitDelayUs = 5 }, .shortCircuitDelay, .outOfRange),
        ("tail above COC", { $0.current.fullTailCurrent = 100 }, .fullTailCurrent, .mustBeBelow),
        ("full delay 0", { $0.current.fullDelaySeconds = 0 }, .fullDelay, .outOfRange),
        ("charge window narrow", { $0.temperature.chargeMaximum = 10 }, .chargeMaximumTemperature, .temperatureWindowTooNarrow),
        ("discharge window inverted", { $0.temperature.dischargeMaximum = -30 }, .dischargeMaximumTemperature, .temperatureWindowTooNarrow),
        ("temperature 121", { $0.temperature.chargeMaximum = 121 }, .chargeMaximumTemperature, .outOfRange),
        ("hysteresis 0", { $0.temperature.hysteresis = 0 }, .temperatureHysteresis, .outOfRange),
        ("MOSFET 30", { $0.temperature.mosfetMaximum = 30 }, .mosfetMaximumTemperature, .outOfRange),
        ("current margin 60", { $0.warnings.currentPercent = 60 }, .currentWarningMargin, .outOfRange),
        ("sense min above UV", { $0.plausibility.cellSenseMinimum = 2.6 }, .cellSenseMinimum, .senseRangeInsideLimits),
        ("sense max below OV", { $0.plausibility.cellSenseMaximum = 3.7 }, .cellSenseMaximum, .senseRangeInsideLimits),
        ("thermistor min above window", { $0.plausibility.thermistorMinimum = -10 }, .thermistorMinimum, .senseRangeInsideLimits),
        ("thermistor max below MOSFET", { $0.plausibility.thermistorMaximum = 70 }, .thermistorMaximum, .senseRangeInsideLimits),
        ("timeout 50 ms", { $0.plausibility.measurementTimeoutMs = 50 }, .measurementTimeout, .outOfRange),
        ("LFP with NMC voltages", { $0.cellVoltage.overvoltage = 4.25 }, .cellOvervoltage, .aboveChemistryMaximum),
        ("LFP target 3.9", { $0.cellVoltage.chargeTarget = 3.85; $0.cellVoltage.overvoltage = 3.85 }, .cellChargeVoltage, .aboveChemistryMaximum),
        ("bal idle delay beyond u16", { $0.balancing.idleDelaySeconds = 65_536 }, .balanceIdleDelay, .outOfRange),
        ("latch 17", { $0.recovery[.shortCircuit].latchAfter = 17 }, .latchAfter(.shortCircuit), .outOfRange),
        ("latch without window", { $0.recovery[.chargeOvercurrent].windowSeconds = 60 }, .latchWindow(.chargeOvercurrent), .latchWindowMissing),
    ]

    @Test(arguments: 0..<brokenRules.count)
    func eachBrokenRuleIsReported(index: Int) {
        let (name, breakIt, field, rule) = Self.brokenRules[index]
        var config = lfp16()
        breakIt(&config)
        let violations = Array(config.validate())
        #expect(violations.contains { $0.field == field && $0.rule == rule },
                "\(name): got \(violations.map { ($0.field, $0.rule) })")
    }

    @Test func everyViolationIsListedAtOnce() {
        var config = lfp16()
        config.cellVoltage.overvoltageReset = 3.9         // above OV
        config.current.chargeOvercurrent = 150            // above board
        config.temperature.chargeMinimum = 44             // window too narrow
        config.pack.seriesCells = 20                      // out of range
        let fields = Array(config.validate()).map(\.field)
        #expect(fields.contains(.cellOvervoltageReset))
        #expect(fields.contains(.chargeOvercurrent))
        #expect(fields.contains(.chargeMaximumTemperature))
        #expect(fields.contains(.seriesCellCount))
    }

    @Test func invalidConfigIsNeverApplied() throws {
        var bms = try BatteryManager(config: lfp16())
        var bad = lfp16()
        bad.cellVoltage.overvoltage = 3.0
        #expect(throws: ConfigError.self) { try bms.apply(bad, at: .zero) }
        #expect(bms.config.cellVoltage.overvoltage == 3.80)
        #expect(throws: ConfigError.self) { _ = try BatteryManager(config: bad) }
    }

    // MARK: - the field table

    @Test func fieldNamesAreUniqueAndFollowThingSetRules() {
        var names: [String] = []
        var ocvPoints = 0, cellChannels = 0, sensors = 0
        ConfigField.forEach { field in
            // The elements of an array share one name: they are one array item, `sOcvPoints_V`.
            switch field {
            case .ocvPoint: ocvPoints += 1; return
            case .cellVoltageGain, .cellVoltageOffset: cellChannels += 1; return
            case .thermistorOffset: sensors += 1; return
            default: break
            }
            let (a, b, c) = field.nameParts
            names.append("\(a)\(b)\(c)")
        }
        #expect(Set(names).count == names.count)
        #expect(names.count == 59 + 3 * 16)
        #expect(ocvPoints == 21 && cellChannels == 32 && sensors == 8)
        #expect(ConfigField.cellVoltageOffset(.cell3).nameParts.0.description == "pCellVoltageOffset_V")
        #expect(ConfigField.ocvPoint(.soc80).nameParts.0.description == "sOcvPoints_V")
        for name in names {
            // `s` settings, `w` inputs, `p` protected calibration.
            #expect(name.first == "s" || name.first == "w" || name.first == "p", "\(name)")
            #expect(name.filter { $0 == "_" }.count <= 1, "\(name)")
        }
        #expect(names.contains("sCellOvervoltage_V"))
        #expect(names.contains("sShortCircuitRecoveryDelay_s"))
    }

    @Test func everyFieldRoundTripsThroughSetAndValue() throws {
        let original = lfp16()
        var fields: [ConfigField] = []
        ConfigField.forEach { fields.append($0) }
        for field in fields {
            var config = original
            let changed: ConfigValue = switch config.value(of: field) {
            case .float(let x): .float(x + 0.25)
            case .unsigned(let n): .unsigned(n + 1)
            case .bool(let b): .bool(!b)
            case .chemistry: .chemistry(.custom)
            }
            try config.set(field, to: changed)
            #expect(config.value(of: field) == changed, "\(field)")
            // and nothing else moved
            for other in fields where other != field {
                #expect(config.value(of: other) == original.value(of: other), "\(field) moved \(other)")
            }
        }
    }

    @Test func setRejectsWrongKindAndOversizedValues() {
        var config = lfp16()
        #expect(throws: ConfigError.self) { try config.set(.cellOvervoltage, to: .bool(true)) }
        #expect(throws: ConfigError.self) { try config.set(.seriesCellCount, to: .unsigned(256)) }
        #expect(throws: ConfigError.self) { try config.set(.chargeEnable, to: .float(1)) }
        #expect(config.pack.seriesCells == 16)
    }
}
