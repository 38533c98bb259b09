import ArgumentParser
import BMSCore
import FlexBMSTools
import Foundation

extension FlexBMS {
    /// `flexbms calibrate …`: build model data from a user's own records.
    struct Calibrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Calibrate the cell model from recorded data, and the board's sensors from reference readings.",
            subcommands: [OCV.self, Model.self, Current.self, Cells.self, Temperatures.self])
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

/// What `calibrate current|cells|temperatures` share: the device's configuration file and the
/// readings.
struct SensorCalibrationOptions: ParsableArguments {
    @Option(help: "The device's configuration file: read for the stored calibration, then updated.")
    var config: String
    @Option(help: "The readings (CSV; columns in the discussion above).")
    var readings: String
    @Flag(name: .customLong("dry-run"), help: "Print the new calibration without writing it.")
    var dryRun = false

    /// Reads both files, lets `compute` derive the change and describe it, then writes the
    /// file (validated whole; unchanged if anything is wrong) unless this is a dry run.
    func run(_ compute: (NumericTable, BMSConfig) throws -> (lines: [String], change: (inout BMSConfig) -> Void)) throws {
        let decoded: DecodedConfig
        let result: (lines: [String], change: (inout BMSConfig) -> Void)
        do {
            decoded = try ConfigFile.read(path: config)
        } catch {
            printError("\(config): \(error)")
            throw ExitCode(2)
        }
        do {
            result = try compute(try NumericTable(path: readings), decoded.config)
        } catch {
            printError("\(error)")
            throw ExitCode(2)
        }
        for line in result.lines { print(line) }
        if dryRun {
            var changed = decoded.config
            result.change(&changed)
            let violations = changed.validate()
            if !violations.isEmpty { printViolations(violations, to: "the result") ; throw ExitCode(1) }
            print("dry run: \(config) not changed")
        } else {
            try updateConfigFile(config, result.change)
            print("wrote the calibration into \(config)")
        }
    }
}

private func describe(_ name: String, _ old: SensorCalibration.Channel, _ fit: SensorCalibration.Fit, unit: String) -> String {
    let new = fit.channel
    return "\(name): gain \(fixed(old.gain, 5)) → \(fixed(new.gain, 5)), offset \(fixed(old.offset, 4)) → \(fixed(new.offset, 4)) \(unit) (\(fit.fitted); worst residual \(fixed(fit.worstResidual, 4)) \(unit))"
}

extension FlexBMS.Calibrate {
    struct Current: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "current",
            abstract: "Calibrate the current sensor (pCurrentGain, pCurrentOffset_A) against a reference meter.",
            discussion: """
                The readings are a CSV with columns bms_A (what the BMS showed, + = charging) and \
                reference_A (a calibrated clamp meter or shunt at the same moment).

                Procedure: 1. open both switches (no current can flow) and note the BMS's \
                current with reference 0: one such row sets the offset. 2. for the gain, run a \
                steady current of at least a tenth of the board's maximum (2 A at least) in \
                each direction and note both readings. Two or more rows fit gain and offset \
                together; one row away from zero fits the gain alone. The BMS also learns the \
                zero by itself whenever both switches stay open (event current_zeroed); the \
                stored offset is the starting point it learns from.

                Example (readings.csv: bms_A,reference_A / 0.21,0 / 20.31,20 / -19.87,-20):
                flexbms calibrate current --config device.json --readings readings.csv
                """)

        @OptionGroup var options: SensorCalibrationOptions

        func run() throws {
            try options.run { table, config in
                let fit = try SensorCalibration.current(table, config: config)
                let old = SensorCalibration.Channel(gain: Double(config.calibration.currentGain),
                                                    offset: Double(config.calibration.currentOffset))
                return ([describe("current", old, fit, unit: "A")], { c in
                    c.calibration.currentGain = Float(fit.channel.gain)
                    c.calibration.currentOffset = Float(fit.channel.offset)
                })
            }
        }
    }

    struct Cells: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cells",
            abstract: "Calibrate the cell voltage channels (pCellVoltageGain, pCellVoltageOffset_V) against a reference voltmeter.",
            discussion: """
                The readings are a CSV with columns cell (1…sSeriesCellCount), bms_V (the BMS's \
                reading of that cell) and reference_V (a calibrated voltmeter across the same \
                cell, at the same moment, at rest). Cells not listed keep their calibration.

                Procedure: at rest (no current for some minutes, no balancing), measure each \
                cell at its connector. One row per cell fits its offset; rows at two states of \
                charge at least 0.2 V apart (e.g. near empty and near full) fit gain and \
                offset.

                Example: flexbms calibrate cells --config device.json --readings cells.csv
                """)

        @OptionGroup var options: SensorCalibrationOptions

        func run() throws {
            try options.run { table, config in
                let fits = try SensorCalibration.cells(table, config: config)
                let lines = fits.map { cell, fit in
                    describe("cell \(cell)", SensorCalibration.Channel(gain: Double(config.calibration.cellGain[cell - 1]),
                                                                       offset: Double(config.calibration.cellOffset[cell - 1])),
                             fit, unit: "V")
                }
                return (lines, { c in
                    for (cell, fit) in fits {
                        c.calibration.cellGain[cell - 1] = Float(fit.channel.gain)
                        c.calibration.cellOffset[cell - 1] = Float(fit.channel.offset)
                    }
                })
            }
        }
    }

    struct Temperatures: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "temperatures",
            abstract: "Calibrate the thermistor offsets (pThermistorOffset_K) against a reference thermometer.",
            discussion: """
                The readings are a CSV with columns sensor (1…8, in the order the BMS reports \
                its sensors), bms_degC and reference_degC. Each sensor's offset is the mean \
                difference of its rows.

                Procedure: let the pack and the board settle at room temperature for an hour, \
                no current; hold the reference probe at each sensor and note both readings.

                Example: flexbms calibrate temperatures --config device.json --readings temps.csv
                """)

        @OptionGroup var options: SensorCalibrationOptions

        func run() throws {
            try options.run { table, config in
                let fits = try SensorCalibration.temperatures(table, config: config)
                let lines = fits.map { sensor, offset, worst in
                    "sensor \(sensor): offset \(fixed(Double(config.calibration.temperatureOffset[sensor - 1]), 2)) → \(fixed(offset, 2)) K (spread of its rows \(fixed(worst, 2)) K)"
                }
                return (lines, { c in
                    for (sensor, offset, _) in fits { c.calibration.temperatureOffset[sensor - 1] = Float(offset) }
                })
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
