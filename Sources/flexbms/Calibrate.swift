import ArgumentParser
import BMSCore
import FlexBMSTools
import Foundation

extension FlexBMS {
    /// `flexbms calibrate …`: build model data from a user's own records.
    struct Calibrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Calibrate the cell model from recorded data.",
            subcommands: [OCV.self])
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

                Example: flexbms calibrate ocv --data cell_c20.csv --discharge-positive --out ocv.csv
                """)

        @Option(help: "The C/20 record (CSV).")
        var data: String
        @Option(help: "Write the table here (CSV soc_pct,ocv_V); default: print it.")
        var out: String?
        @Flag(name: .customLong("discharge-positive"), help: "The record counts discharge current as positive.")
        var dischargePositive = false

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
            if let out {
                try writeText(text, to: out)
                print("wrote \(out): discharge \(String(format: "%.3f", result.dischargeAh)) Ah, charge \(String(format: "%.3f", result.chargeAh)) Ah, largest branch half-gap \(String(format: "%.1f", result.maxHalfGap * 1000)) mV")
            } else {
                print(text, terminator: "")
            }
        }
    }
}
