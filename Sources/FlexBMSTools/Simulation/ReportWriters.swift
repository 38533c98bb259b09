import BMSCore
import Inverter
import Foundation

/// Fixed-decimal text for reports, the same on every machine.
public func fixed(_ x: Float, _ decimals: Int) -> String {
    x.isFinite ? String(format: "%.\(decimals)f", Double(x)) : "nan"
}

public func fixed(_ x: Double, _ decimals: Int) -> String {
    x.isFinite ? String(format: "%.\(decimals)f", x) : "nan"
}

extension SimulationReport {
    /// The time series as CSV: one row per sample window.
    public func csv() -> String {
        let cells = setup.cells
        let temperatureCount = rows.first?.temperatures.count ?? 0
        var header = ["time_s", "pack_V", "current_A", "current_min_A", "current_max_A", "soc_true",
                      "soc_est", "state", "chg_on", "dis_on", "error_flags"]
        header += (1...cells).map { "cell\($0)_V" }
        header += ["cell_min_V", "cell_max_V"]
        header += (0..<temperatureCount).map { i in
            i < temperatureCount - 2 ? "t_cell\(i + 1)_C" : (i == temperatureCount - 2 ? "t_mosfet_C" : "t_board_C")
        }
        header += ["t_cell_max_true_C", "ambient_C", "events"]
        var lines = [header.joined(separator: ",")]
        lines.reserveCapacity(rows.count + 1)
        for r in rows {
            var f = [fixed(r.seconds, 1), fixed(r.packVoltage, 3), fixed(r.current, 3),
                     fixed(r.currentMin, 3), fixed(r.currentMax, 3), fixed(r.socTrue, 5),
                     r.socEstimated.map { fixed($0, 5) } ?? "",
                     r.state.reportName, r.chargeOn ? "1" : "0", r.dischargeOn ? "1" : "0",
                     String(format: "0x%05X", r.errorFlags)]
            f += r.cells.map { fixed($0, 4) }
            f += [fixed(r.cellMin, 4), fixed(r.cellMax, 4)]
            f += r.temperatures.map { fixed($0, 1) }
            f += [fixed(r.maxCellTemperatureTrue, 2), fixed(r.ambient, 2), r.events.joined(separator: ";")]
            lines.append(f.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The summary as JSON. With `timing: false` the two wall-clock fields are left out, so
    /// that two runs with the same seed give the same bytes.
    public func summaryJSON(timing: Bool = true) -> String {
        var fields: [(String, String)] = [
            ("chemistry", "\"\(setup.chemistry.name)\""),
            ("cells", "\(setup.cells)"),
            ("capacity_Ah", fixed(setup.capacityAh, 1)),
            ("profile", "\"\(profileName)\""),
            ("seed", "\(setup.seed)"),
            ("step_s", fixed(Double(setup.stepMilliseconds) / 1000, 3)),
            ("simulated_s", fixed(simulatedSeconds, 1)),
        ]
        if timing {
            fields += [("wall_s", fixed(wallSeconds, 3)),
                       ("cell_steps_per_s", fixed(cellStepsPerSecond, 0))]
        }
        fields += [
            ("min_cell_V", fixed(stats.minCellVoltage, 4)),
            ("max_cell_V", fixed(stats.maxCellVoltage, 4)),
            ("max_cell_temp_C", fixed(stats.maxCellTemperature, 2)),
            ("max_mosfet_temp_C", fixed(stats.maxMosfetTemperature, 2)),
            ("energy_charged_Wh", fixed(stats.energyChargedWh, 1)),
            ("energy_discharged_Wh", fixed(stats.energyDischargedWh, 1)),
            ("unserved_load_Wh", fixed(stats.unservedLoadWh, 1)),
            ("seconds_over_voltage", fixed(stats.secondsOverVoltage, 0)),
            ("seconds_under_voltage", fixed(stats.secondsUnderVoltage, 0)),
            ("seconds_over_temperature", fixed(stats.secondsOverTemperature, 0)),
            ("soc_true_final", fixed(finalSOC, 4)),
            ("soc_est_final", finalEstimatedSOC.map { fixed($0, 4) } ?? "null"),
            ("soc_est_rmse_pct", fixed(estimateRMSEPercent, 3)),
            ("soc_est_max_error_pct", fixed(estimateMaxErrorPercent, 3)),
            ("trips", "\(events.filter { $0.kind == "trip" }.count)"),
            ("soc_spread_start_pct", fixed(Double(stats.socSpreadStart) * 100, 2)),
            ("soc_spread_end_pct", stats.socSpreadAtFull.map { fixed(Double($0) * 100, 2) } ?? "null"),
            ("balancing_energy_Wh", fixed(stats.balancingEnergyWh, 1)),
            ("max_board_temp_C", fixed(stats.maxBoardTemperature, 2)),
        ]
        if let h = health {
            let w = h.weakCells
            func causes(_ c: WeakCellCauses) -> String { "[" + c.names.map { "\"\($0)\"" }.joined(separator: ",") + "]" }
            fields += [
                ("soh_est", fixed(h.sohEstimated, 4)),
                ("soh_true", fixed(h.sohTrue, 4)),
                ("remaining_Wh_est", fixed(h.remainingWh, 1)),
                ("to_full_Wh_est", fixed(h.roomWh, 1)),
                ("weak_cells", "[" + h.weakCellList.map(String.init).joined(separator: ",") + "]"),
                ("weak_cell_report", "{\"empties_first\":\(w.emptiesFirst + 1),\"empties_first_causes\":\(causes(w.emptiesFirstCauses)),"
                    + "\"fills_first\":\(w.fillsFirst + 1),\"fills_first_causes\":\(causes(w.fillsFirstCauses)),"
                    + "\"lowest_capacity\":\(w.lowestCapacity + 1),\"lowest_capacity_ratio\":\(fixed(w.lowestCapacityRatio, 3)),"
                    + "\"highest_resistance\":\(w.highestResistance + 1),\"highest_resistance_ratio\":\(fixed(w.highestResistanceRatio, 3)),"
                    + "\"self_discharge_days\":\(h.selfDischargeDays),"
                    + "\"bled_Ah_per_day\":[" + h.bledAhPerDay.map { fixed($0, 3) }.joined(separator: ",") + "],"
                    + "\"self_discharge\":["
                    + h.selfDischarging.map { "{\"cell\":\($0.cell),\"excess_Ah_per_day\":\(fixed($0.excessAhPerDay, 3))}" }.joined(separator: ",")
                    + "]}"),
                ("cell_health", "[\n" + h.cells.enumerated().map { i, c in
                    "    {\"cell\":\(i + 1),\"capacity_true_Ah\":\(fixed(c.capacityTrueAh, 2)),\"capacity_est_Ah\":\(fixed(c.capacityEstimatedAh, 2)),"
                        + "\"capacity_samples\":\(c.capacitySamples),\"r0_true_mOhm\":\(fixed(c.resistanceTrueMilliohm, 3)),"
                        + "\"r0_est_mOhm\":\(fixed(c.resistanceEstimatedMilliohm, 3)),\"r0_samples\":\(c.resistanceSamples),"
                        + "\"self_discharge_excess_true_Ah_per_day\":\(fixed(h.selfDischargeTrueExcess[i], 3))}"
                }.joined(separator: ",\n") + "\n  ]"),
            ]
        }
        if let inv = inverter {
            let r = inv.last
            fields.append(("inverter", "{\"profile\":\"\(inv.profile)\",\"frames_sent\":\(inv.framesSent),"
                + "\"keepalives_received\":\(inv.keepAlivesSent),\"last\":{"
                + "\"charge_voltage_limit_V\":\(fixed(LVCAN.chargeVoltageLimit(r), 2)),\"charge_current_limit_A\":\(fixed(r.chargeAllowed ? r.chargeCurrentLimit : 0, 1)),"
                + "\"discharge_current_limit_A\":\(fixed(r.dischargeAllowed ? r.dischargeCurrentLimit : 0, 1)),\"discharge_voltage_limit_V\":\(fixed(r.dischargeVoltageLimit, 2)),"
                + "\"charge_enable\":\(r.chargeAllowed),\"discharge_enable\":\(r.dischargeAllowed),"
                + "\"soc_pct\":\(fixed(inv.reportedSOC * 100, 2)),\"soh_pct\":\(fixed(r.stateOfHealth * 100, 1)),"
                + "\"charged_kWh\":\(fixed(r.chargedEnergy, 2)),\"discharged_kWh\":\(fixed(r.dischargedEnergy, 2))}}"))
        }
        let eventLines = events.map { e -> String in
            var parts = ["\"t_s\":\(fixed(e.seconds, 1))", "\"kind\":\"\(e.kind)\""]
            if let fault = e.fault { parts.append("\"fault\":\"\(fault)\"") }
            if let cell = e.cell { parts.append("\"cell\":\(cell)") }
            if let sensor = e.sensor { parts.append("\"sensor\":\(sensor)") }
            if let outcome = e.outcome { parts.append("\"outcome\":\"\(outcome)\"") }
            if e.kind == "payg_entry" && e.outcome == "accepted" { parts.append("\"value\":\(fixed(e.value, 0))") }
            if e.fault != nil { parts.append("\"value\":\(fixed(e.value, 3))") }
            if e.kind == "self_discharge" { parts.append("\"excess_Ah_per_day\":\(fixed(e.value, 3))") }
            if e.kind == "inverter_silent" { parts.append("\"silent_s\":\(fixed(e.value, 0))") }
            if e.kind == "current_zeroed" { parts.append("\"offset_A\":\(fixed(e.value, 3))") }
            parts.append("\"state\":\"\(e.state)\"")
            return "    {" + parts.joined(separator: ",") + "}"
        }
        var text = "{\n"
        text += fields.map { "  \"\($0.0)\": \($0.1)" }.joined(separator: ",\n")
        text += ",\n  \"events\": [" + (eventLines.isEmpty ? "" : "\n" + eventLines.joined(separator: ",\n") + "\n  ") + "]\n}\n"
        return text
    }
}
