import ArgumentParser
import BMSCore
import FlexBMSLink
import FlexBMSTools
import Foundation
import ThingSet

/// What every command that talks to a device shares.
struct DeviceOptions: ParsableArguments {
    @Option(help: "The device: tcp://HOST:PORT (binary mode, e.g. the virtual device of flexbms sim --realtime --thingset-tcp) or serial:///dev/ttyX (text mode, a USB serial adapter or the virtual device's --thingset-pty).")
    var device = "tcp://127.0.0.1:9001"
    @Option(help: "Authenticate first with this xAuth token (expert or manufacturer).")
    var token: String?
    @Flag(help: "Print JSON.")
    var json = false

    /// Connects, authenticates if asked, and returns the link.
    func connect() throws -> DeviceLink {
        let link: DeviceLink
        do {
            link = try DeviceLink.open(device)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        if let token {
            let (status, _) = try talk { try link.exec("xAuth", [CBORJSON.quoted(token)]) }
            guard status == ThingSetStatus.changed.rawValue else {
                printError("xAuth: \(statusName(status))")
                throw ExitCode(1)
            }
        }
        return link
    }
}

/// Runs one exchange; a lost connection or a timeout exits 2 with the reason.
func talk<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as JSONCBOR.Failure {
        throw ValidationError("\(error)")
    } catch {
        printError("\(error)")
        throw ExitCode(2)
    }
}

/// Builds a request with `body` and sends it.
func send(_ client: any BinaryTransport, _ body: (inout CBORWriter) throws -> Void) throws -> (UInt8, [UInt8]) {
    var storage = [UInt8](repeating: 0, count: 4096)
    let bytes = try storage.withUnsafeMutableBufferPointer { buffer -> [UInt8] in
        var w = CBORWriter(buffer)
        try body(&w)
        return Array(buffer[0..<w.count])
    }
    do {
        return try client.request(bytes)
    } catch {
        printError("\(error)")
        throw ExitCode(2)
    }
}

/// The device's reason for a refusal, if it gave one (a JSON string), as `: reason`.
func because(_ json: String) -> String {
    guard json.hasPrefix("\""), json.count > 2 else { return "" }
    return ": " + json.dropFirst().dropLast().replacingOccurrences(of: "\\\"", with: "\"")
}

/// `85 Content`, `A4 Not Found`, …
func statusName(_ code: UInt8) -> String {
    let names: [UInt8: String] = [0x81: "Created", 0x82: "Deleted", 0x84: "Changed", 0x85: "Content",
                                  0xA0: "Bad Request", 0xA1: "Unauthorized (authenticate with --token)",
                                  0xA3: "Forbidden (read-only)", 0xA4: "Not Found", 0xA5: "Method Not Allowed",
                                  0xA8: "Request Incomplete", 0xA9: "Conflict (the value breaks a rule of the configuration)",
                                  0xAD: "Request Too Large", 0xAF: "Unsupported Format (wrong kind of value)",
                                  0xC0: "Internal Server Error", 0xC1: "Not Implemented", 0xC5: "Not a Gateway"]
    return String(format: "%02X ", code) + (names[code] ?? "unknown status")
}

extension FlexBMS {
    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a value or a group from a device, e.g. flexbms get Meas/rSOC_pct.",
            discussion: "PATH is a ThingSet path (Meas, Meas/rCellVoltages_V, Conf/sCellOvervoltage_V; \"\" for the root). Groups print as a JSON object of their values (sub-groups null).")
        @Argument(help: "The path.") var path: String
        @OptionGroup var options: DeviceOptions

        func run() throws {
            let link = try options.connect()
            let (status, value) = try talk { try link.get(path) }
            guard status == ThingSetStatus.content.rawValue else {
                printError("\(path): \(statusName(status))")
                throw ExitCode(1)
            }
            print(options.json ? "{\"path\":\(CBORJSON.quoted(path)),\"value\":\(value)}" : "\(path) = \(value)")
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a value on a device, e.g. flexbms set Conf/sCellOvervoltage_V 3.7 --token expert.",
            discussion: "VALUE is JSON (3.7, true, \"LFP\", [3.6, …]); a bare word is a string. Settings (Conf) need the expert token, calibration (p…) the manufacturer's; the device refuses a value that breaks a rule of its configuration (Conflict) and keeps the old one.")
        @Argument(help: "The path of the item.") var path: String
        @Argument(help: "The new value (JSON).") var value: String
        @OptionGroup var options: DeviceOptions

        func run() throws {
            let parent = path.split(separator: "/").dropLast().joined(separator: "/")
            let name = String(path.split(separator: "/").last ?? "")
            let link = try options.connect()
            let (status, reason) = try talk { try link.update(parent: parent, name: name, value: value) }
            guard status == ThingSetStatus.changed.rawValue else {
                printError("\(path) = \(value): \(statusName(status))" + because(reason))
                throw ExitCode(1)
            }
            print(options.json ? "{\"path\":\(CBORJSON.quoted(path)),\"status\":\"changed\"}" : "\(path) = \(value)")
        }
    }

    struct Exec: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a function on a device, e.g. flexbms exec Conf/xPresetLFP 100 --token expert.",
            discussion: "Each ARG is one parameter as JSON, in the function's order (flexbms schema lists them).")
        @Argument(help: "The path of the function.") var path: String
        @Argument(help: "Its parameters.") var args: [String] = []
        @OptionGroup var options: DeviceOptions

        func run() throws {
            let link = try options.connect()
            let (status, result) = try talk { try link.exec(path, args) }
            guard status == ThingSetStatus.changed.rawValue else {
                printError("\(path): \(statusName(status))")
                throw ExitCode(1)
            }
            print(options.json ? "{\"path\":\(CBORJSON.quoted(path)),\"result\":\(result)}" : "\(path) → \(result == "null" ? "done" : result)")
        }
    }

    struct Schema: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every object of a device: path, ID, type and access.",
            discussion: "Access is the ThingSet byte: bits 0-3 read, 4-7 write, for user (1), expert (2), manufacturer (4); 0x07 read-only, 0x77 anyone writes, 0x67 experts write, 0x47 the manufacturer writes.")
        @OptionGroup var options: DeviceOptions

        func run() throws {
            guard case .tcp(let client) = try options.connect() else {
                printError("flexbms schema needs a tcp:// or slcan:// device: the types and access come from the _Metadata overlay of binary mode")
                throw ExitCode(2)
            }
            var rows: [(path: String, id: UInt64, type: String, access: UInt64)] = []
            try walk(client, id: 0, prefix: "", into: &rows)
            if options.json {
                print("[\n" + rows.map { "  {\"path\":\(CBORJSON.quoted($0.path)),\"id\":\($0.id),\"type\":\(CBORJSON.quoted($0.type)),\"access\":\($0.access)}" }
                    .joined(separator: ",\n") + "\n]")
            } else {
                for r in rows {
                    print(r.path.padding(toLength: 44, withPad: " ", startingAt: 0)
                          + String(format: "0x%03llX  ", r.id) + r.type.padding(toLength: max(18, r.type.count + 2), withPad: " ", startingAt: 0)
                          + String(format: "0x%02llX", r.access))
                }
            }
        }

        func walk(_ client: any BinaryTransport, id: UInt64, prefix: String,
                  into rows: inout [(path: String, id: UInt64, type: String, access: UInt64)]) throws {
            let (status, ids) = try send(client) { w in
                try w.byte(ThingSetFunction.fetch.rawValue)
                try w.uint(id)
                try w.null()
            }
            guard status == ThingSetStatus.content.rawValue else { return }
            let children: [UInt64] = try ids.withUnsafeBufferPointer { p in
                var r = CBORReader(p)
                guard let n = try r.readArrayHeader() else { return [] }
                return try (0..<n).map { _ in try r.readUInt() }
            }
            guard !children.isEmpty else { return }
            // Metadata eight objects at a time: small devices (and CAN's ISO-TP buffers) do not
            // answer a hundred at once.
            var entries: [(String, String, UInt64)] = []
            for batch in stride(from: 0, to: children.count, by: 8) {
                let part = Array(children[batch..<min(batch + 8, children.count)])
                let (mstatus, metadata) = try send(client) { w in
                    try w.byte(ThingSetFunction.fetch.rawValue)
                    try w.uint(UInt64(ThingSetWellKnown.metadata))
                    try w.arrayHeader(part.count)
                    for c in part { try w.uint(c) }
                }
                guard mstatus == ThingSetStatus.content.rawValue else { return }
                entries += try metadata.withUnsafeBufferPointer { p in
                    var r = CBORReader(p)
                    let n = try r.readArrayHeader() ?? 0
                    return try (0..<n).map { _ in
                        var name = "", type = "", access: UInt64 = 0
                        let pairs = try r.readMapHeader() ?? 0
                        for _ in 0..<pairs {
                            let key = try r.readUInt()
                            if key == ThingSetWellKnown.metadataAccess {
                                access = try r.readUInt()
                            } else {
                                let range = try r.readTextRange()
                                let text = String(decoding: UnsafeBufferPointer(rebasing: r.data[range]), as: UTF8.self)
                                if key == ThingSetWellKnown.metadataName { name = text } else { type = text }
                            }
                        }
                        return (name, type, access)
                    }
                }
            }
            for (k, child) in children.enumerated() where k < entries.count {
                let (name, type, access) = entries[k]
                let path = prefix.isEmpty ? name : prefix + "/" + name
                rows.append((path, child, type, access))
                if type == "group" || type == "record" || type.hasPrefix("(") {
                    try walk(client, id: child, prefix: path, into: &rows)
                }
            }
        }
    }
}

extension FlexBMS {
    struct Monitor: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A live view of a device: cells, current, SOC, temperatures, state and alarms.",
            discussion: "Reads Meas every --interval seconds and redraws the view (Ctrl-C to stop). With --once it prints one view and exits; with --json one JSON object per reading.")
        @OptionGroup var options: DeviceOptions
        @Option(help: "Seconds between readings.") var interval: Double = 1
        @Flag(help: "Print one reading and exit.") var once = false

        func validate() throws {
            guard interval >= 0.1 && interval <= 3600 else { throw ValidationError("--interval must be 0.1 to 3600 s, got \(interval)") }
        }

        func run() throws {
            let link = try options.connect()
            var first = true
            while true {
                let (status, json) = try talk { try link.get("Meas") }
                guard status == ThingSetStatus.content.rawValue else {
                    printError("Meas: \(statusName(status))")
                    throw ExitCode(1)
                }
                if options.json {
                    print(json)
                } else {
                    let view = MonitorView.render(json)
                    if !first && !once { print("\u{1B}[H\u{1B}[2J", terminator: "") }  // clear a terminal between views
                    print(view)
                }
                fflush(nil)
                first = false
                if once { return }
                Thread.sleep(forTimeInterval: interval)
            }
        }
    }
}

/// The monitor's text view of a `Meas` reading.
enum MonitorView {
    static func render(_ json: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else { return json }
        func number(_ key: String) -> Double? { (object[key] as? NSNumber)?.doubleValue }
        func fixed(_ x: Double?, _ d: Int) -> String { x.map { String(format: "%.\(d)f", $0) } ?? "–" }
        let states = ["OFF", "CHG only", "DIS only", "NORMAL", "SHUTDOWN"]
        let state = (object["rBmsState"] as? Int).map { $0 < states.count ? states[$0] : "\($0)" } ?? "–"
        var lines: [String] = []
        lines.append("pack \(fixed(number("rPackVoltage_V"), 2)) V  \(fixed(number("rPackCurrent_A"), 2)) A  SOC \(fixed(number("rSOC_pct"), 1)) %  SOH \(fixed(number("rSOH_pct"), 1)) %  state \(state)")
        lines.append("limits: charge \(fixed(number("rChargeCurrentLimit_A"), 1)) A, discharge \(fixed(number("rDischargeCurrentLimit_A"), 1)) A")
        let cells = (object["rCellVoltages_V"] as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue } ?? []
        let lo = cells.filter { $0 > 0 }.min(), hi = cells.max()
        let balancing = object["rBalancingStatus"] as? Int ?? 0
        for (k, v) in cells.enumerated() where v > 0 {
            var marks = ""
            if v == lo { marks += "  lowest" }
            if v == hi { marks += "  highest" }
            if balancing & (1 << k) != 0 { marks += "  balancing" }
            lines.append(String(format: "  cell %2d  %.3f V", k + 1, v) + marks)
        }
        if let lo, let hi { lines.append(String(format: "  spread %.0f mV", (hi - lo) * 1000)) }
        let temps = (object["rCellTemps_degC"] as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue } ?? []
        lines.append("temperatures: cells " + temps.map { String(format: "%.1f", $0) }.joined(separator: " ") + " °C, MOSFETs \(fixed(number("rMOSFETTemp_degC"), 1)) °C")
        let flags = object["rErrorFlags"] as? Int ?? 0
        var alarms: [String] = []
        var raw: UInt8 = 0
        while let fault = Fault(rawValue: raw) {
            if flags & (1 << Int(raw)) != 0 { alarms.append(fault.snakeName) }
            raw += 1
        }
        lines.append("alarms: " + (alarms.isEmpty ? "none" : alarms.joined(separator: ", ")))
        return lines.joined(separator: "\n")
    }
}

extension FlexBMS {
    struct Log: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The device's last events (Rec/EventLog_32): which fault, which cell, since when.",
            discussion: "Times are the device's uptime in seconds. The log keeps the last 32 events.")
        @OptionGroup var options: DeviceOptions

        func run() throws {
            let link = try options.connect()
            let (status, json) = try talk { try link.get("Rec/EventLog_32") }
            guard status == ThingSetStatus.content.rawValue else {
                printError("Rec/EventLog_32: \(statusName(status))")
                throw ExitCode(1)
            }
            if options.json {
                print(json)
                return
            }
            guard let records = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]] else {
                print(json)
                return
            }
            if records.isEmpty { print("no events") }
            let states = ["OFF", "CHG", "DIS", "NORMAL", "SHUTDOWN"]
            for r in records {
                let t = (r["t_s"] as? Int) ?? 0
                var line = String(format: "%8d s  %@", t, (r["rEvent"] as? String) ?? "?")
                if let f = r["rFault"] as? String, !f.isEmpty { line += " \(f)" }
                if let c = r["rCell"] as? Int, c > 0 { line += " cell \(c)" }
                if let v = (r["rValue"] as? NSNumber)?.doubleValue, v != 0 { line += " value \(CBORJSON.number(Float(v)))" }
                if let s = r["rBmsState"] as? Int, s < states.count { line += "  (\(states[s]))" }
                print(line)
            }
        }
    }
}
