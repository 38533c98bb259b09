/// Why an I2C transfer failed.
public enum I2CError: Error, Equatable, Sendable {
    /// No device acknowledged the address (absent, unpowered, or a wrong address).
    case noAcknowledge
    /// The bus hung or the transfer timed out.
    case busError
}

/// Up to 64 bytes of one I2C transfer, without allocation.
public struct I2CBytes: Sendable {
    public static let capacity = 64
    public var storage = InlineArray<64, UInt8>(repeating: 0)
    public private(set) var count = 0

    public init() {}

    /// Appends a byte; bytes beyond `capacity` are a programming error the caller checks with
    /// `isFull` (transfers of the drivers here are at most 2 + 2 × 32 bytes with CRCs).
    public mutating func append(_ byte: UInt8) {
        guard count < I2CBytes.capacity else { return }
        storage[count] = byte
        count += 1
    }

    public mutating func removeAll() { count = 0 }

    public var isFull: Bool { count == I2CBytes.capacity }

    public subscript(index: Int) -> UInt8 {
        get { storage[index] }
        set { storage[index] = newValue }
    }
}

/// An I2C master as the drivers see it: 7-bit addresses, a write, or a write followed by a
/// repeated-start read. The MCU implements it over its peripheral; tests and the simulated
/// board implement it with a chip emulator.
public protocol I2CBus {
    mutating func write(_ address: UInt8, _ data: I2CBytes) throws(I2CError)
    mutating func writeRead(_ address: UInt8, _ data: I2CBytes, readCount: Int) throws(I2CError) -> I2CBytes
}

/// CRC-8 with the polynomial x⁸ + x² + x + 1 (0x07), initial value 0: the CRC TI's battery
/// monitors (bq769x0, bq769x2) append to I2C bytes in CRC mode.
public struct CRC8: Sendable {
    public private(set) var value: UInt8 = 0

    public init() {}

    public mutating func add(_ byte: UInt8) {
        var c = value ^ byte
        for _ in 0..<8 { c = c & 0x80 != 0 ? (c << 1) ^ 0x07 : c << 1 }
        value = c
    }
}

extension I2CBus {
    /// Writes `register` and reads `count` bytes back in one transfer. In CRC mode (TI's
    /// monitors) each byte comes with a CRC-8: the first covers `prefix` and the byte, every
    /// later one its byte alone; a wrong CRC or a short answer is `.corrupted`.
    mutating func readChecked(_ address: UInt8, register: UInt8, count: Int, crcMode: Bool,
                              prefix: I2CBytes) throws(AFEError) -> I2CBytes {
        var request = I2CBytes()
        request.append(register)
        let raw: I2CBytes
        do { raw = try writeRead(address, request, readCount: crcMode ? 2 * count : count) } catch { throw .bus(error) }
        guard crcMode else {
            guard raw.count == count else { throw .corrupted }
            return raw
        }
        guard raw.count == 2 * count else { throw .corrupted }
        var out = I2CBytes()
        for k in 0..<count {
            var crc = CRC8()
            if k == 0 { for j in 0..<prefix.count { crc.add(prefix[j]) } }
            crc.add(raw[2 * k])
            guard crc.value == raw[2 * k + 1] else { throw .corrupted }
            out.append(raw[2 * k])
        }
        return out
    }
}
