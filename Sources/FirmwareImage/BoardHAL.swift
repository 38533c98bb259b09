import AFE
import Board
import Firmware
import Inverter

/// The settings flash of the board (Sources/Board: on QEMU, RAM mirrored to a host file).
struct BoardFlash: FlashMemory {
    var pageSize: Int { Int(board_flash_page_size()) }
    var pageCount: Int { Int(board_flash_pages()) }
    var writeUnit: Int { 8 }

    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(FlashError) {
        guard let base = buffer.baseAddress else { return }
        guard board_flash_read(UInt32(offset), base.assumingMemoryBound(to: UInt8.self), buffer.count) == 0 else {
            throw .outOfRange
        }
    }

    mutating func write(at offset: Int, _ bytes: UnsafeRawBufferPointer) throws(FlashError) {
        guard let base = bytes.baseAddress else { return }
        let r = board_flash_write(UInt32(offset), base.assumingMemoryBound(to: UInt8.self), bytes.count)
        guard r == 0 else { throw r == -1 ? .outOfRange : .failed }
    }

    mutating func erase(page: Int) throws(FlashError) {
        guard board_flash_erase(UInt32(page)) == 0 else { throw .failed }
    }
}

/// The board's I2C master (Sources/Board): the AFE's bus on the device.
struct BoardI2C: I2CBus {
    mutating func write(_ address: UInt8, _ data: I2CBytes) throws(I2CError) {
        var bytes = data
        let r = withUnsafeBytes(of: &bytes.storage) { raw in
            board_i2c_write(address, raw.baseAddress!.assumingMemoryBound(to: UInt8.self), data.count)
        }
        if r != 0 { throw r == -1 ? .noAcknowledge : .busError }
    }

    mutating func writeRead(_ address: UInt8, _ data: I2CBytes, readCount: Int) throws(I2CError) -> I2CBytes {
        var request = data
        var answer = I2CBytes()
        var into = InlineArray<64, UInt8>(repeating: 0)
        let n = min(readCount, I2CBytes.capacity)
        let r = withUnsafeBytes(of: &request.storage) { out in
            withUnsafeMutableBytes(of: &into) { inp in
                board_i2c_write_read(address, out.baseAddress!.assumingMemoryBound(to: UInt8.self), data.count,
                                     inp.baseAddress!.assumingMemoryBound(to: UInt8.self), n)
            }
        }
        if r != 0 { throw r == -1 ? .noAcknowledge : .busError }
        for k in 0..<n { answer.append(into[k]) }
        return answer
    }
}

/// Writes console bytes to the UART.
func writeConsole(_ bytes: UnsafeRawBufferPointer) {
    if let base = bytes.baseAddress { board_uart_write(base.assumingMemoryBound(to: UInt8.self), bytes.count) }
}

/// The board's UART, lines, LED and watchdog (Sources/Board) as the application's
/// `DeviceBoard`. Its clock is SysTick, or the simulation's in the QEMU image (`simulatedTime`),
/// where time moves as fast as the emulated CPU runs.
struct MCUBoard: DeviceBoard {
    var simulatedTime: UInt32?

    var milliseconds: UInt32 { simulatedTime ?? board_millis() }

    mutating func read() -> UInt8? {
        let c = board_uart_read()
        return c >= 0 ? UInt8(truncatingIfNeeded: c) : nil
    }

    mutating func write(_ bytes: UnsafeRawBufferPointer) { writeConsole(bytes) }

    var afeAlert: Bool { board_afe_alert() != 0 }

    mutating func forceFETsOff(charge: Bool, discharge: Bool) { board_afe_fets_off(charge ? 1 : 0, discharge ? 1 : 0) }

    mutating func setLED(_ on: Bool) { board_led(on ? 1 : 0) }

    mutating func kick() { board_watchdog_kick() }

    #if FLEXBMS_DEVICE
    // The STM32G0B1's FDCAN has no driver yet: the device image is built without an inverter,
    // so nothing is ever sent here.
    mutating func send(_ frame: InverterFrame, at milliseconds: UInt32) {}
    #else
    /// The QEMU boards have no CAN controller: a frame goes to the console as
    /// `#can <ms> <ID> <data>` (hex), which scripts/firmware-scenarios turns into a candump log
    /// for cantools.
    mutating func send(_ frame: InverterFrame, at milliseconds: UInt32) {
        var line = ConsoleLine()
        line.put("#can ")
        line.decimal(milliseconds)
        line.put(" ")
        line.hex(UInt32(frame.id), digits: 3)
        line.put(" ")
        for k in 0..<frame.count { line.hex(UInt32(frame[k]), digits: 2) }
        line.put("\n")
        line.write()
    }
    #endif

    /// Nothing is received: no inverter sends keep-alives into the QEMU board.
    mutating func receiveFrame() -> InverterFrame? { nil }
}

/// A console line built without allocation (a struct, not nested functions capturing locals:
/// those capture boxes, which Embedded Swift puts on a heap).
struct ConsoleLine {
    var bytes = InlineArray<48, UInt8>(repeating: 0)
    var count = 0

    mutating func byte(_ b: UInt8) {
        guard count < 48 else { return }
        bytes[count] = b
        count += 1
    }

    mutating func put(_ s: StaticString) {
        for k in 0..<s.utf8CodeUnitCount { byte(s.utf8Start[k]) }
    }

    mutating func decimal(_ value: UInt32) {
        var digits = InlineArray<10, UInt8>(repeating: 0)
        var n = 0, v = value
        repeat { digits[n] = UInt8(v % 10) + 0x30; v /= 10; n += 1 } while v > 0
        while n > 0 { n -= 1; byte(digits[n]) }
    }

    mutating func hex(_ value: UInt32, digits: Int) {
        var k = digits
        while k > 0 {
            k -= 1
            let d = UInt8((value >> UInt32(4 * k)) & 0xF)
            byte(d < 10 ? 0x30 + d : 0x37 + d)
        }
    }

    mutating func write() {
        let n = count
        withUnsafeBytes(of: &bytes) { raw in writeConsole(UnsafeRawBufferPointer(rebasing: raw[0..<n])) }
    }
}
