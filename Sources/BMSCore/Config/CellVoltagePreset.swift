/// The per-chemistry cell-voltage defaults: one row of the preset table.
///
/// Ordered from the top: `overvoltage` > `chargeTarget` > `recharge` > `undervoltageReset` >
/// `dischargeCutoff` > `undervoltage`, and `overvoltageReset` between `undervoltageReset` and
/// `overvoltage` (above or below `recharge` depending on the chemistry). All values in volts
/// per cell.
public struct CellVoltagePreset: Sendable {
    public var overvoltage: Float
    public var chargeTarget: Float
    public var overvoltageReset: Float
    public var recharge: Float
    public var balanceMinimum: Float
    public var undervoltageReset: Float
    public var dischargeCutoff: Float
    public var undervoltage: Float
    /// Pre-alarm distance from the voltage trips (V).
    public var warningMargin: Float

    /// The preset of `chemistry`, or `nil` for `.custom`.
    ///
    /// LFP, NMC and LTO: the Libre Solar BMS firmware defaults (`bms_init_config()`,
    /// see ../shared/specs/libresolar-bms-reference.md §4): OV trip, charge target, OV release,
    /// balancing minimum, UV release, discharge limit (= our discharge cutoff), UV trip
    /// (= our full cutoff).
    /// NCA (not in the reference): Panasonic NCR18650B datasheet limits — charge 4.20 V,
    /// discharge end 2.50 V — with the same distances as NMC above 4.2 V and a full cutoff at
    /// 2.70 V, discharge cutoff 3.00 V, so the cell never reaches the datasheet end voltage.
    /// `recharge` (the level at which a pack marked full may take charge again) and
    /// `warningMargin` are FlexBMS choices: a rested full LFP cell sits near 3.39 V (OCV table,
    /// reference §7), so 3.35 V avoids micro-cycles on the plateau; for the others the
    /// recharge level is 0.10–0.15 V under the charge target.
    public static func of(_ chemistry: Chemistry) -> CellVoltagePreset? {
        switch chemistry {
        case .lfp:
            CellVoltagePreset(overvoltage: 3.80, chargeTarget: 3.55, overvoltageReset: 3.40,
                              recharge: 3.35, balanceMinimum: 3.30, undervoltageReset: 3.10,
                              dischargeCutoff: 2.80, undervoltage: 2.50, warningMargin: 0.10)
        case .nmc:
            CellVoltagePreset(overvoltage: 4.25, chargeTarget: 4.20, overvoltageReset: 4.05,
                              recharge: 4.10, balanceMinimum: 3.80, undervoltageReset: 3.50,
                              dischargeCutoff: 3.20, undervoltage: 3.00, warningMargin: 0.03)
        case .nca:
            CellVoltagePreset(overvoltage: 4.25, chargeTarget: 4.20, overvoltageReset: 4.05,
                              recharge: 4.10, balanceMinimum: 3.80, undervoltageReset: 3.40,
                              dischargeCutoff: 3.00, undervoltage: 2.70, warningMargin: 0.03)
        case .lto:
            CellVoltagePreset(overvoltage: 2.85, chargeTarget: 2.80, overvoltageReset: 2.70,
                              recharge: 2.65, balanceMinimum: 2.50, undervoltageReset: 2.10,
                              dischargeCutoff: 2.00, undervoltage: 1.90, warningMargin: 0.03)
        case .custom:
            nil
        }
    }
}
