extension BMSConfig {
    /// Board maximum current assumed by presets when none is given: the 100 A of the
    /// Libre Solar BMS-16S100-SC / BMS C1 boards.
    public static let defaultBoardMaximumCurrent: Float = 100

    /// The defaults for `chemistry` with `cells` in series and `capacityAh`, or `nil` for
    /// `.custom` (which has no table).
    ///
    /// Protection defaults follow the Libre Solar firmware (reference §5): over-current 1 C for
    /// 320 ms in both directions, clamped to the board maximum; short circuit at twice the
    /// discharge over-current, 200 µs; voltage trips 2000 ms; temperature windows −20…45 °C
    /// discharge and 0…45 °C charge with 5 K hysteresis. MOSFET 80 °C and board 85 °C are the
    /// BQ76952's own OTF / OTINT defaults. Recovery: over-current and short circuit retry after
    /// 60 s (as the reference's bq769x0 driver does) and latch at the 5th (over-current) or
    /// 3rd (short circuit) trip within an hour (Seplos locks out after 5 over-currents);
    /// everything else releases on its hysteresis.
    public static func preset(_ chemistry: Chemistry, cells: UInt8, capacityAh: Float,
                              parallelCells: UInt8 = 1,
                              boardMaximumCurrent: Float = defaultBoardMaximumCurrent) -> BMSConfig? {
        guard let v = CellVoltagePreset.of(chemistry) else { return nil }
        let oneC = capacityAh
        let overcurrent = min(oneC, boardMaximumCurrent)
        // LTO's whole window is under 1 V wide, so its imbalance limit is tighter.
        let imbalance: Float = chemistry == .lto ? 0.30 : 0.50
        let imbalanceReset: Float = chemistry == .lto ? 0.20 : 0.40

        var recovery = RecoveryTable(repeating: .immediate)
        recovery[.shortCircuit] = RecoveryPolicy(delaySeconds: 60, latchAfter: 3, windowSeconds: 3600)
        recovery[.dischargeOvercurrent] = RecoveryPolicy(delaySeconds: 60, latchAfter: 5, windowSeconds: 3600)
        recovery[.chargeOvercurrent] = RecoveryPolicy(delaySeconds: 60, latchAfter: 5, windowSeconds: 3600)
        recovery[.openWire] = RecoveryPolicy(delaySeconds: 10)

        return BMSConfig(
            pack: PackConfig(seriesCells: cells, parallelCells: parallelCells,
                             capacityAh: capacityAh, chemistry: chemistry),
            cellVoltage: CellVoltageLimits(
                overvoltage: v.overvoltage, overvoltageReset: v.overvoltageReset,
                overvoltageDelayMs: 2000, chargeTarget: v.chargeTarget, recharge: v.recharge,
                balanceMinimum: v.balanceMinimum, undervoltageReset: v.undervoltageReset,
                dischargeCutoff: v.dischargeCutoff, undervoltage: v.undervoltage,
                undervoltageDelayMs: 2000, imbalanceLimit: imbalance,
                imbalanceReset: imbalanceReset, imbalanceDelayMs: 5000),
            current: CurrentLimits(
                chargeOvercurrent: overcurrent, chargeOvercurrentDelayMs: 320,
                dischargeOvercurrent: overcurrent, dischargeOvercurrentDelayMs: 320,
                shortCircuit: 2 * overcurrent, shortCircuitDelayUs: 200,
                boardMaximum: boardMaximumCurrent,
                fullTailCurrent: min(oneC / 20, overcurrent / 4), fullDelaySeconds: 60,
                idealDiodeCurrent: min(max(0.5, oneC / 50), boardMaximumCurrent / 10, 50)),
            temperature: TemperatureLimits(
                chargeMinimum: 0, chargeMaximum: 45, dischargeMinimum: -20,
                dischargeMaximum: 45, hysteresis: 5, delayMs: 2000,
                mosfetMaximum: 80, boardMaximum: 85),
            balancing: BalancingConfig(targetVoltageDifference: 0.01, idleDelaySeconds: 1800,
                                       idleCurrent: 0.1),
            warnings: WarningMargins(voltage: v.warningMargin, currentPercent: 10, temperature: 5),
            plausibility: PlausibilityLimits(
                cellSenseMinimum: 0.5, cellSenseMaximum: 5.0, cellSumTolerancePerCell: 0.05,
                thermistorMinimum: -50, thermistorMaximum: 150, delayMs: 1000,
                measurementTimeoutMs: 2000),
            recovery: recovery,
            inputs: EnableInputs())
    }
}
