/// Exercises the inverter CAN encoders, their schedule and the keep-alive tracker so the
/// linker keeps them; see check.sh.
import Inverter

@main struct LinkCheckInverter {
    static func main() {
        var sink: UInt32 = 0
        for profile in InverterProfile.allCases {
            var settings = InverterSettings(profile: profile)
            settings.setName("FlexBMS")
            var r = BatteryReport()
            r.chargeVoltageLimit = 56.8
            r.chargeCurrentLimit = 90
            r.stateOfCharge = 0.5
            r.protections = .highVoltage
            r.minCell = .init(pack: 2, index: 7)
            var schedule = LVCANSchedule(profile: profile)
            var t: UInt32 = 0
            while t < 3000 {
                while let next = schedule.next(now: t) {
                    let f = LVCAN.frame(next.id, report: r, settings: settings)
                    for i in 0..<f.count { sink &+= UInt32(f[i]) }
                }
                t &+= 10
            }
        }
        var keepAlive = InverterKeepAlive()
        var f = InverterFrame(id: 0x305)
        f.pad(to: 8)
        if keepAlive.receive(f, at: 5) == .heard { sink &+= 1 }
        if keepAlive.poll(now: 40_000) == .silent { sink &+= 2 }
        if let v = keepAlive.inverterView { sink &+= UInt32(v.voltage) }
        // The RS485 side: a request for the analog values, answered in a fixed buffer.
        var responder = PylonResponder()
        var pack = PackDetail()
        pack.cellCount = 16
        pack.temperatureCount = 5
        let request: StaticString = "~20024642E00202FD33\r"
        var out = InlineArray<256, UInt8>(repeating: 0)
        var span = out.mutableSpan
        let n = request.withUTF8Buffer { line in
            span.withUnsafeMutableBufferPointer { responder.respond(to: line, report: BatteryReport(), pack: pack, into: $0) }
        }
        sink &+= UInt32(n)
        if sink == 0x1234_5678 { fatalError() }
    }
}
