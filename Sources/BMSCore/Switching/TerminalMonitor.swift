/// What stands at the pack terminals while a switch is open, judged from the terminal voltage
/// against the stack voltage: a charger holds the terminals above the stack (its set point);
/// a load pulls them below it, and a short pulls them to almost nothing.
///
/// It lets a charger revive a pack after the full cutoff (cell under-voltage opens both
/// switches, so no current can tell the BMS that a hybrid inverter wants to charge), and it
/// keeps discharge off while the terminals read a short, so a fault's recovery does not close
/// the switch onto it again. A reading must hold for one second to count.
public struct TerminalMonitor: Sendable {
    public private(set) var chargerPresent = false
    public private(set) var loadPresent = false
    /// The terminals read a short (below a tenth of the stack) with discharge open.
    public private(set) var shortPresent = false
    var chargerSince: Timestamp?
    var loadSince: Timestamp?
    /// When charge current last flowed through a charge switch closed for a detected charger.
    var lastChargeCurrent: Timestamp?

    /// How long a reading must hold, ms, and how long a charger may deliver nothing before it
    /// counts as gone, ms.
    public static var debounceMs: UInt32 { 1000 }
    public static var goneAfterMs: UInt32 { 10_000 }

    public init() {}

    /// Judges `m` taken with the switches `commanded`; returns the event it causes, if any.
    /// `reviving`: the charge switch is closed because of the charger (under the full cutoff);
    /// closed for another reason (the ideal diode while discharging), it says nothing about
    /// the charger, which then stays as it was judged — otherwise a charger at a full pack
    /// would be lost and found again each time the diode switch closes and opens.
    mutating func update(_ m: Measurement, commanded: SwitchCommand, idleCurrent: Float,
                         reviving: Bool = true) -> BMSEventKind? {
        guard let terminal = m.packVoltage, let stack = m.stackVoltage, stack > 1 else { return nil }
        let now = m.timestamp
        var event: BMSEventKind?
        // A charger: the terminals 2 % above the stack while the charge switch is open; once
        // it is closed, the charger is there as long as it delivers current.
        if !commanded.chargeOn {
            if terminal >= stack * 1.02 {
                let since = chargerSince ?? now
                chargerSince = since
                if !chargerPresent && now.milliseconds(since: since) >= TerminalMonitor.debounceMs {
                    chargerPresent = true
                    lastChargeCurrent = now
                    event = .chargerPresent
                }
            } else {
                chargerSince = nil
                chargerPresent = false
            }
        } else if chargerPresent && reviving {
            if m.current > idleCurrent { lastChargeCurrent = now }
            if let last = lastChargeCurrent, now.milliseconds(since: last) >= TerminalMonitor.goneAfterMs {
                chargerPresent = false
                chargerSince = nil
            }
        }
        // A load or a short: the terminals pulled below the stack while discharge is open.
        if !commanded.dischargeOn {
            if terminal <= stack * 0.9 {
                let since = loadSince ?? now
                loadSince = since
                if now.milliseconds(since: since) >= TerminalMonitor.debounceMs {
                    if !loadPresent { event = event ?? .loadPresent }
                    loadPresent = true
                    shortPresent = terminal < stack * 0.1
                }
            } else {
                loadSince = nil
                loadPresent = false
                shortPresent = false
            }
        }
        return event
    }
}
