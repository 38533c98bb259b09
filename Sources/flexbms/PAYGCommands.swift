import ArgumentParser
import FlexBMSTools
import Foundation
import PAYG

extension FlexBMS {
    /// `flexbms payg …`: OpenPAYGO Token for operators and support.
    struct PAYGCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "payg",
            abstract: "Pay-as-you-go: issue OpenPAYGO tokens, check them against a device's state.",
            subcommands: [Token.self, Device.self])
    }
}

/// The device identity every payg command takes.
struct PAYGIdentity: ParsableArguments {
    @Option(help: "The device's secret key: 32 hex digits.")
    var key: String
    @Option(help: "The device's starting code (1 … 999999999).")
    var startingCode: UInt32
    @Option(help: "Value units per day (1 … 255): a value of 1 is 1/divider day.")
    var timeDivider: UInt8 = 1
    @Flag(help: "The device has a keypad with keys 1–4 only (15-digit tokens).")
    var restricted = false

    func validate() throws {
        guard startingCode >= 1 && startingCode <= TokenChain.maximumToken else {
            throw ValidationError("--starting-code must be 1 … 999999999, got \(startingCode)")
        }
        guard timeDivider >= 1 else { throw ValidationError("--time-divider must be 1 … 255, got 0") }
        do { _ = try PAYGFiles.key(hex: key) } catch { throw ValidationError("\(error)") }
    }

    var provisioning: PAYGProvisioning {
        PAYGProvisioning(chain: TokenChain(key: try! PAYGFiles.key(hex: key), startingCode: startingCode),
                         timeDivider: timeDivider, restrictedDigits: restricted)
    }
}

extension TokenKind {
    var reportName: String {
        switch self {
        case .addTime: "add_time"
        case .setTime: "set_time"
        case .disablePAYG: "disable_payg"
        case .counterSync: "counter_sync"
        case .reserved: "reserved"
        }
    }
}

func tokenString(_ token: UInt32, restricted: Bool) -> String {
    let (digits, count) = TokenText.characters(token, restricted: restricted)
    return String(decoding: (0..<count).map { digits[$0] }, as: UTF8.self)
}

extension FlexBMS.PAYGCommand {
    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a token: add days (default), set days, disable PAYG for good, or resynchronise the count.",
            discussion: """
                --count is the last count used for this device (1 for a new one); the token \\
                takes the next count of its kind, which is printed: store it for the next token.

                Example: flexbms payg token --key 000102030405060708090a0b0c0d0e0f --starting-code 123456789 --count 1 --days 7
                """)

        @OptionGroup var device: PAYGIdentity
        @Option(help: "The last count used for this device.")
        var count: UInt32
        @Option(help: "Days to add (or to set with --set): rounded to 1/divider day, at most 995 units.")
        var days: Double?
        @Flag(help: "Set the credit to --days from now instead of adding (also re-enables PAYG).")
        var set = false
        @Flag(help: "Disable PAYG for good (the unit stays on until a --set token).")
        var disable = false
        @Flag(help: "A counter-sync token: no time change, brings the device's count forward.")
        var sync = false
        @Flag(help: "Print JSON.")
        var json = false

        var kind: TokenKind {
            disable ? .disablePAYG : sync ? .counterSync : set ? .setTime : .addTime
        }

        func validate() throws {
            guard [set, disable, sync].filter({ $0 }).count <= 1 else {
                throw ValidationError("choose at most one of --set, --disable, --sync")
            }
            if kind == .addTime || kind == .setTime {
                guard let days else { throw ValidationError("--days is needed to add or set time") }
                let units = (days * Double(device.timeDivider)).rounded()
                guard days.isFinite, days >= 0, units <= 995 else {
                    throw ValidationError("--days must be 0 … \(995 / Double(device.timeDivider)) with --time-divider \(device.timeDivider) (at most 995 units), got \(days)")
                }
            } else if days != nil {
                throw ValidationError("--days does not go with --disable or --sync")
            }
            guard count >= 1, count < UInt32.max - 2 else { throw ValidationError("--count must be at least 1, got \(count)") }
        }

        func run() throws {
            let value: UInt32 = switch kind {
            case .disablePAYG: TokenKind.disableValue
            case .counterSync: TokenKind.syncValue
            default: UInt32((days! * Double(device.timeDivider)).rounded())
            }
            let next = TokenCount.next(after: count, for: kind)
            let token = tokenString(device.provisioning.chain.token(value: value, count: next), restricted: device.restricted)
            if json {
                print("{\"token\": \"\(token)\", \"count\": \(next), \"kind\": \"\(kind.reportName)\", \"value\": \(value)}")
            } else {
                print("token \(token)")
                print("count \(next)  (store it: the next token for this device starts from it)")
            }
        }
    }

    struct Device: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the device decoder against a state file: enter a token, or show the status.",
            discussion: """
                The state file holds what the device remembers (counts used, credit, lockout) \\
                and is created if missing. --now sets the device clock in seconds (the device \\
                counts its own running time, it has no settable date); without it the clock \\
                stays where the file left it. Prints JSON: result (accepted, already_used, \\
                invalid, locked_out), kind, value, count, credit_days_left and the state.

                Example: flexbms payg device --key 000102030405060708090a0b0c0d0e0f --starting-code 123456789 --state customer.json --now 86400 enter 123456789
                """)

        @OptionGroup var device: PAYGIdentity
        @Option(help: "The device's state file (JSON; created if missing).")
        var state: String
        @Option(help: "The device clock, seconds of running time.")
        var now: UInt64?
        @Argument(help: "enter or status.")
        var action: String
        @Argument(help: "The token as typed (for enter).")
        var token: String?

        func validate() throws {
            switch action {
            case "enter": guard token != nil else { throw ValidationError("enter needs the token") }
            case "status": guard token == nil else { throw ValidationError("status takes no token") }
            default: throw ValidationError("the action must be enter or status, got \(action)")
            }
        }

        func run() throws {
            var stored: PAYGFiles.Stored
            do {
                stored = try PAYGFiles.read(path: state)
                    ?? PAYGFiles.Stored(state: PAYGState(maxCount: device.provisioning.initialCount), clock: 0)
            } catch {
                printError("\(error)")
                throw ExitCode(2)
            }
            if let now {
                guard now >= stored.clock else {
                    printError("--now \(now) is before the device clock in \(state) (\(stored.clock) s): a device clock never runs back")
                    throw ExitCode(2)
                }
                stored.clock = now
            }
            var decoder = PAYGDevice(provisioning: device.provisioning, state: stored.state)
            var fields: [String] = []
            if let token {
                let result = decoder.enter(Array(token.utf8).span, now: stored.clock)
                stored.state = decoder.state
                // Persist before reporting: the device acts only on a stored state.
                do { try PAYGFiles.write(stored, to: state) } catch {
                    printError("\(error)")
                    throw ExitCode(2)
                }
                switch result {
                case .accepted(let kind, let value, let count):
                    fields += ["\"result\": \"accepted\"", "\"kind\": \"\(kind.reportName)\"", "\"value\": \(value)", "\"count\": \(count)"]
                case .alreadyUsed: fields.append("\"result\": \"already_used\"")
                case .invalid: fields.append("\"result\": \"invalid\"")
                case .lockedOut(let seconds): fields += ["\"result\": \"locked_out\"", "\"locked_for_s\": \(seconds)"]
                }
            } else {
                do { try PAYGFiles.write(stored, to: state) } catch {
                    printError("\(error)")
                    throw ExitCode(2)
                }
            }
            let clock = stored.clock
            let left = decoder.secondsLeft(now: clock)
            let s = decoder.state
            fields += [
                "\"payg_enabled\": \(s.enabled)",
                "\"active\": \(decoder.isActive(now: clock))",
                "\"credit_seconds_left\": \(left)",
                "\"credit_days_left\": \(fixed(Double(left) / 86_400, 3))",
                "\"max_count\": \(s.maxCount)",
                "\"invalid_streak\": \(s.invalidStreak)",
                "\"locked_for_s\": \(s.lockedUntil > clock ? s.lockedUntil - clock : 0)",
                "\"clock_s\": \(clock)",
            ]
            // "locked_for_s" once: a locked_out result already carries it.
            var seen = Set<String>()
            fields = fields.filter { seen.insert(String($0.prefix(while: { $0 != ":" }))).inserted }
            print("{" + fields.joined(separator: ", ") + "}")
        }
    }
}
