// Minimal image for testing the build/run pipeline (scripts/firmware); the real application
// replaces this file. No string interpolation, no heap: text goes out as StaticString or
// bytes. The first word of the QEMU command line picks a scenario (anything else: hello):
//   hello     print and exit 0
//   watchdog  start the watchdog and stop kicking it; after the reset, exit 0 if the board
//             says the reset was the watchdog's
//   flash     count boots in the settings flash (run twice with the same FLASHFILE: 1, 2)
//   echo      echo the UART input back until 300 ms pass without a byte
//   hardfault jump to a non-executable address: the fault handler prints "hardfault", exit 90
import Board

@main struct FirmwareImage {
    static func main() {
        board_init()
        print("FlexBMS image")

        var line = InlineArray<128, UInt8>(repeating: 0)
        var span = line.mutableSpan
        let count = span.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { board_command_line($0.baseAddress, $0.count) }
        }
        print("command line: ", terminator: "")
        span.withUnsafeMutableBufferPointer { board_uart_write($0.baseAddress, count) }
        print("")

        let scenario: UInt8 = span.withUnsafeMutableBufferPointer { buffer in
            let words = UnsafeBufferPointer(rebasing: buffer[0..<count])
            if firstWord(words, is: "watchdog") { return 1 }
            if firstWord(words, is: "flash") { return 2 }
            if firstWord(words, is: "echo") { return 3 }
            if firstWord(words, is: "hardfault") { return 4 }
            return 0   // hello, or anything else
        }
        switch scenario {
        case 1:
            if board_reset_was_watchdog() != 0 {
                print("reset by watchdog")
                exit(0)
            }
            board_watchdog_start(200)
            let start = board_millis()
            while board_millis() &- start < 100 { board_watchdog_kick() }
            print("watchdog: stopped kicking")
            while board_millis() &- start < 5000 {}
            print("watchdog did not reset")
            exit(1)
        case 2:
            var boots: UInt8 = 0
            var index: UInt32 = 0
            // boot n clears bit n-1 of the first byte (NOR: bits only clear)
            var byte: UInt8 = 0
            _ = board_flash_read(0, &byte, 1)
            while index < 8 && byte & (1 << index) == 0 { index += 1 }
            boots = UInt8(index + 1)
            if index < 8 {
                var value = byte & ~(UInt8(1) << index)
                _ = board_flash_write(0, &value, 1)
            } else {
                _ = board_flash_erase(0)
            }
            print("boot ", terminator: "")
            putDecimal(UInt32(boots))
            print("")
        case 3:
            var last = board_millis()
            while board_millis() &- last < 300 {
                let c = board_uart_read()
                if c >= 0 {
                    var b = UInt8(truncatingIfNeeded: c)
                    board_uart_write(&b, 1)
                    last = board_millis()
                }
            }
            print("")
        case 4:
            let bad = unsafeBitCast(UInt(0xFFFF_FFF1), to: (@convention(c) () -> Void).self)
            bad()
        default:
            break
        }
        print("stack used: ", terminator: "")
        putDecimal(board_stack_used())
        print("")
        exit(0)
    }

    static func exit(_ code: Int32) -> Never { board_exit(code) }

    /// Whether the command line's first word is `word`.
    static func firstWord(_ line: UnsafeBufferPointer<UInt8>, is word: StaticString) -> Bool {
        word.withUTF8Buffer { w in
            if line.count < w.count { return false }
            if line.count > w.count && line[w.count] != UInt8(ascii: " ") { return false }
            for i in 0..<w.count where line[i] != w[i] { return false }
            return true
        }
    }

    static func putDecimal(_ value: UInt32) {
        var divisor: UInt32 = 1
        while value / divisor >= 10 { divisor *= 10 }
        while divisor > 0 {
            _ = putchar(Int32(48 + (value / divisor) % 10))
            divisor /= 10
        }
    }
}
