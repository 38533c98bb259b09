import ArgumentParser
import BMSCore
import FlexBMSTools
import Foundation

extension FlexBMS {
    /// `flexbms calibrate …`: build model data from a user's own records.
    struct Calibrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Calibrate the cell model from recorded data.",
            subcommands: [OCV.self, Model.self])
    }
}

extension FlexBMS.Calibrate {
    struct OCV: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ocv",
            abstract: "Build the OCV table from a slow (C/20) full discharge followed by a full charge.",
            discussion: """
                The record is a CSV with columns time_s, current_meas_A and voltage_meas_V \
                (other columns are ignored). The OCV at each 5 % point is the mean of the \
                discharge and the charge branch, each with its SOC axis from its own charge \
                throughput.

                With --config the table is also written into that configuration file as \
                sOcvPoints_V (the file is validated whole and left unchanged if anything is \
                wrong): the BMS then uses it, and learns each cell's capacity at rests.

                Example: flexbms calibrate ocv --data cell_c20.csv --discharge-positive --out ocv.csv --config pack.json
                """)

        @Option(help: "The C/20 record (CSV).")
        var data: String
        @Option(help: "Write the table here (CSV soc_pct,ocv_V); default: print it.")
        var out: String?
        @Flag(name: .customLong("discharge-positive"), help: "The record counts discharge current as positive.")
        var dischargePositive = false
        @Option(help: "Also set the table (sOcvPoints_V) in this configuration file.")
        var config: String?

        func run() throws {
            let result: OCVCalibration.Result
            do {
                result = try OCVCalibration.calibrate(NumericTable(path: data),
                                                      currentPositiveDischarge: dischargePositive)
            } catch {
                printError("\(error)")
                throw ExitCode(2)
            }
            let text = OCVCalibration.csv(result.curve)
            // The mean of the two branches: a constant current-sensor offset adds to one and
            // takes from the other.
            let summary = "discharge \(String(format: "%.3f", result.dischargeAh)) Ah, charge \(String(format: "%.3f", result.chargeAh)) Ah (capacity about \(String(format: "%.3f", (result.dischargeAh + result.chargeAh) / 2)) Ah, their mean), largest branch half-gap \(String(format: "%.1f", result.maxHalfGap * 1000)) mV"
            if let config {
                try updateConfigFile(config) { $0.setOCVTable(result.curve) }
            }
            if let out { try writeText(text, to: out) }
            if out == nil && self.config == nil {
                print(text, terminator: "")
            } else {
                let targets = [out, config.map { "sOcvPoints_V in \($0)" }].compactMap { $0 }
                print("wrote " + targets.joined(separator: " and ") + ": " + summary)
            }
        }
    }
}

extension FlexBMS.Calibrate {
    struct Model: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "model",
            abstract: "Identify R0 and two RC pairs from a pulse record.",
            discussion: """
                The record is a CSV with time_s, a current and a voltage column (default \
                current_meas_A and voltage_meas_V; temperature_C is reported if present). It \
                must hold current pulses of at least 0.2 C lasting at most 120 s, each with a \
                minute of rest before and five minutes after (a hybrid pulse test; the virtual \
                pack's pulse-test profile makes one). Prints the median over the pulses, and \
                every pulse with --json.

                Example: flexbms sim --cells 4 --chemistry nmc --capacity 50 --profile pulse-test \
                --initial-soc 0.95 --duration 8h --sample 1s --out pulses.csv
                flexbms calibrate model --data pulses.csv --capacity 50 --current-column current_A \
                --voltage-column cell1_V
                """)

        @Option(help: "The pulse record (CSV).")
        var data: String
        @Option(help: "Cell capacity, Ah (sets what counts as a pulse and as rest).")
        var capacity: Double
        @Option(help: "Column of the current, A.")
        var currentColumn = "current_meas_A"
        @Option(help: "Column of the cell voltage, V.")
        var voltageColumn = "voltage_meas_V"
        @Flag(name: .customLong("discharge-positive"), help: "The record counts discharge current as positive.")
        var dischargePositive = false
        @Flag(help: "Print JSON with every pulse.")
        var json = false
        @Option(help: "Also set the circuit (sCellR0_mOhm … sCellTau2_s, at 25 °C) in this configuration file.")
        var config: String?

        func validate() throws { try validateCapacityOption(capacity) }

        func run() throws {
            let result: ModelCalibration.Result
            do {
                result = try ModelCalibration.identify(NumericTable(path: data), capacityAh: capacity,
                                                       currentColumn: currentColumn, voltageColumn: voltageColumn,
                                                       currentPositiveDischarge: dischargePositive)
            } catch {
                printError("\(error)")
                throw ExitCode(2)
            }
            if let config {
                var factor = 1.0
                try updateConfigFile(config) { settings in
                    // The settings are 25 °C values: resistances measured warmer or colder are
                    // scaled back by the estimator's own Arrhenius law.
                    let temperatures = result.pulses.compactMap(\.temperature)
                    let parameters = CellModelParameters.defaults(settings.pack.chemistry, capacityAh: 1)
                    if !temperatures.isEmpty {
                        let kelvin = temperatures.reduce(0, +) / Double(temperatures.count) + 273.15
                        factor = Foundation.exp(Double(parameters.activationEnergy) / 8.314 * (1 / kelvin - 1 / 298.15))
                    }
                    settings.cellModel.r0 = Float(result.r0 * 1000 / factor)
                    settings.cellModel.r1 = Float(result.r1 * 1000 / factor)
                    settings.cellModel.tau1 = Float(result.tau1)
                    settings.cellModel.r2 = Float(result.r2 * 1000 / factor)
                    settings.cellModel.tau2 = Float(result.tau2)
                }
                if !json { print("set sCellR0_mOhm … sCellTau2_s in \(config)" + (factor == 1 ? "" : " (scaled to 25 °C by \(fixed(1 / factor, 3)))")) }
            }
            if json {
                print(result.json, terminator: "")
            } else {
                print("\(result.pulses.count) pulse(s): R0 \(fixed(result.r0 * 1000, 3)) mΩ, R1 \(fixed(result.r1 * 1000, 3)) mΩ (τ1 \(fixed(result.tau1, 1)) s), R2 \(fixed(result.r2 * 1000, 3)) mΩ (τ2 \(fixed(result.tau2, 1)) s) — medians")
            }
        }
    }
}

/// Reads the configuration file at `path`, changes it, and writes it back atomically only if
/// the result is valid as a whole; otherwise prints every broken rule and leaves the file as
/// it was (exit 1; unreadable or unwritable: exit 2).
func updateConfigFile(_ path: String, _ change: (inout BMSConfig) -> Void) throws {
    var decoded: DecodedConfig
    do {
        decoded = try ConfigFile.read(path: path)
    } catch {
        printError("\(path): \(error)")
        throw ExitCode(2)
    }
    change(&decoded.config)
    let violations = decoded.config.validate()
    guard violations.isEmpty else {
        printViolations(violations, to: "\(path) (not changed)")
        throw ExitCode(1)
    }
    do {
        try ConfigFile.write(decoded.config, to: path)
    } catch {
        printError("\(error)")
        throw ExitCode(2)
    }
}
