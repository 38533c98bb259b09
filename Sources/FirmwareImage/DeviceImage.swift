#if FLEXBMS_DEVICE
// The FlexBMS firmware for the board (Libre Solar BMS-16S100-SC: STM32G0B1 and BQ76952): the
// device application on the board's I2C, UART, flash, watchdog and FET-off lines. Built by
// `scripts/firmware build m0 --board device`; not run here (no STM32G0 in QEMU).
import AFE
import BMSCore
import Board
import Firmware
import ThingSet

typealias DeviceApp = DeviceApplication<BQ76952Driver<BoardI2C>, BoardFlash>

@main struct DeviceImage {
    static func main() {
        board_init()
        board_afe_fets_off(1, 1)
        print("FlexBMS firmware 0.7.0 (BMS-16S100-SC)")
        run()
    }

    // Not inlined into main: the application is built once, here, and lives in this frame.
    @inline(never)
    static func run() -> Never {
        let defaults = BMSConfig.preset(.lfp, cells: 16, capacityAh: 100)!
        // The node ID: on the board, from the MCU's unique ID (to come); a fixed one until then.
        var id = InlineArray<16, UInt8>(repeating: 0x30)
        id[15] = 0x31
        var app: DeviceApp
        do {
            app = try DeviceApp(chip: BQ76952Driver(bus: BoardI2C(), shuntResistance: 0.0003), flash: BoardFlash(),
                                defaults: defaults, nodeID: id,
                                tokens: AuthTokens(expert: "expert", manufacturer: "maker"), now: board_millis())
        } catch {
            // The stored settings and the defaults do not make a configuration: stay safe.
            print("configuration invalid; FETs held off")
            while true { board_watchdog_kick() }
        }
        board_watchdog_start(1000)
        var board = MCUBoard()
        while true { app.pass(on: &board) }
    }
}
#endif
