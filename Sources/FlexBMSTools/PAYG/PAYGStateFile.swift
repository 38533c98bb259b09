import FlexBMSLink
import Foundation
import PAYG

/// The host side of PAYG: a device key from hex, and a device's state kept in a JSON file
/// (what a support agent's copy of a customer's device remembers).
public enum PAYGFiles {
    public enum FileError: Error, CustomStringConvertible {
        case badKey(String)
        case unreadable(String, String)
        case badState(String, String)
        case unwritable(String, String)

        public var description: String {
            switch self {
            case .badKey(let why): "--key: \(why)"
            case .unreadable(let path, let why): "cannot read \(path): \(why)"
            case .badState(let path, let why): "\(path) is not a PAYG state file: \(why)"
            case .unwritable(let path, let why): "cannot write \(path): \(why)"
            }
        }
    }

    /// A 16-byte key written as 32 hex digits.
    public static func key(hex: String) throws(FileError) -> SipHashKey {
        let chars = Array(hex.utf8)
        guard chars.count == 32 else { throw .badKey("expected 32 hex digits (16 bytes), got \(chars.count) characters") }
        var bytes = InlineArray<16, UInt8>(repeating: 0)
        for i in 0..<16 {
            guard let byte = UInt8(String(decoding: chars[2 * i...2 * i + 1], as: UTF8.self), radix: 16) else {
                throw .badKey("\"\(String(decoding: chars[2 * i...2 * i + 1], as: UTF8.self))\" at position \(2 * i + 1) is not hex")
            }
            bytes[i] = byte
        }
        return SipHashKey(bytes: bytes)
    }

    /// A stored device: its PAYG state and the device clock it last saw, s.
    public struct Stored: Equatable {
        public var state: PAYGState
        public var clock: UInt64
        public init(state: PAYGState, clock: UInt64) {
            self.state = state
            self.clock = clock
        }
    }

    /// Reads the state file at `path`, or `nil` if there is none.
    public static func read(path: String) throws(FileError) -> Stored? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let object: [String: JSONValue]
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            guard case .object(let parsed) = try JSONDecoder().decode(JSONValue.self, from: data) else {
                throw FileError.badState(path, "not a JSON object")
            }
            object = parsed
        } catch let error as FileError {
            throw error
        } catch is DecodingError {
            throw .badState(path, "not valid JSON")
        } catch {
            throw .unreadable(path, error.localizedDescription)
        }
        func integer(_ key: String, max: UInt64) throws(FileError) -> UInt64 {
            guard case .number(let d)? = object[key], d >= 0, d <= Double(max), d.rounded() == d else {
                throw .badState(path, "\(key) must be a whole number from 0 to \(max)")
            }
            return UInt64(d)
        }
        guard case .bool(let enabled)? = object["payg_enabled"] else { throw .badState(path, "payg_enabled must be true or false") }
        var state = PAYGState(maxCount: UInt32(try integer("max_count", max: UInt64(UInt32.max))))
        state.usedMask = UInt16(try integer("used_mask", max: UInt64(UInt16.max)))
        state.enabled = enabled
        state.activeUntil = try integer("active_until_s", max: 1 << 53)
        state.invalidStreak = UInt8(try integer("invalid_streak", max: 255))
        state.lockedUntil = try integer("locked_until_s", max: 1 << 53)
        return Stored(state: state, clock: try integer("clock_s", max: 1 << 53))
    }

    /// Writes `stored` to `path` atomically.
    public static func write(_ stored: Stored, to path: String) throws(FileError) {
        let s = stored.state
        let text = """
            {
              "max_count": \(s.maxCount),
              "used_mask": \(s.usedMask),
              "payg_enabled": \(s.enabled),
              "active_until_s": \(s.activeUntil),
              "invalid_streak": \(s.invalidStreak),
              "locked_until_s": \(s.lockedUntil),
              "clock_s": \(stored.clock)
            }

            """
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw .unwritable(path, error.localizedDescription)
        }
    }
}
