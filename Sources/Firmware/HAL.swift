import AFE
import Inverter

/// The hardware the firmware application talks to, as small protocols: each has an MCU
/// implementation (Sources/FirmwareImage over Sources/Board) and a host one (the virtual
/// device and the tests). I2C is `AFE.I2CBus`; the AFE chip itself is an `AFEDriver`.

/// Why a flash operation failed.
public enum FlashError: Error, Equatable, Sendable {
    /// Outside the region, or not aligned to the programming unit.
    case outOfRange
    /// The controller reported a failure (or the written bytes did not read back).
    case failed
}

/// Flash pages for settings and state, with NOR semantics: an erased page reads 0xFF, a write
/// only clears bits, and writes go in units of `writeUnit` bytes (8 on the STM32G0).
public protocol FlashMemory {
    var pageSize: Int { get }
    var pageCount: Int { get }
    var writeUnit: Int { get }
    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws(FlashError)
    mutating func write(at offset: Int, _ bytes: UnsafeRawBufferPointer) throws(FlashError)
    mutating func erase(page: Int) throws(FlashError)
}

/// A byte-oriented serial port (the console UART).
public protocol SerialPort {
    /// The next received byte, or `nil` when none is waiting.
    mutating func read() -> UInt8?
    mutating func write(_ bytes: UnsafeRawBufferPointer)
}

/// The board's discrete lines.
public protocol BoardPins {
    /// The AFE's ALERT output.
    var afeAlert: Bool { get }
    /// Forces the FETs off through the AFE's CFETOFF/DFETOFF pins, without I2C.
    mutating func forceFETsOff(charge: Bool, discharge: Bool)
    mutating func setLED(_ on: Bool)
}

/// The uptime clock.
public protocol Clock {
    /// Milliseconds since start; wraps after 49 days (the application works with differences).
    var milliseconds: UInt32 { get }
}

/// The independent watchdog, started by the board at boot.
public protocol Watchdog {
    mutating func kick()
}

/// The CAN bus to the inverter (500 kbit/s, 11-bit IDs).
public protocol CANController {
    /// Sends a frame; `milliseconds` is the board clock (for boards that log the bus).
    mutating func send(_ frame: InverterFrame, at milliseconds: UInt32)
    /// The next received frame, or `nil`.
    mutating func receiveFrame() -> InverterFrame?
}

/// Everything the main loop needs of a board besides the AFE (behind its driver) and the
/// flash (owned by the application).
public typealias DeviceBoard = SerialPort & BoardPins & Clock & Watchdog & CANController
