import Foundation

extension SimulationReport {
    /// An SVG chart of the run: pack voltage, current (with its extremes in each window),
    /// the band of cell voltages with the over-voltage trip and the discharge cutoff, true
    /// SOC, and temperatures; trips, latches and releases are marked across all panels.
    public func svg() -> String {
        let width = 1000.0, left = 70.0, right = 20.0, panelHeight = 140.0, gap = 30.0, top = 64.0
        let plotWidth = width - left - right
        let duration = max(simulatedSeconds, 1)
        func x(_ t: Double) -> Double { left + plotWidth * t / duration }
        var svg = ""
        var panelTop = top

        func panel(_ title: String, _ unit: String, series: [(name: String, color: String, values: [Float])],
                   band: (lo: [Float], hi: [Float], color: String)? = nil,
                   lines: [(value: Float, color: String)] = [], range fixedRange: (Float, Float)? = nil) {
            var all = series.flatMap(\.values).filter(\.isFinite)
            if let band { all += band.lo.filter(\.isFinite) + band.hi.filter(\.isFinite) }
            all += lines.map(\.value)
            var lo = fixedRange?.0 ?? (all.min() ?? 0), hi = fixedRange?.1 ?? (all.max() ?? 1)
            if hi - lo < 1e-3 { lo -= 0.5; hi += 0.5 }
            let pad = (hi - lo) * 0.05
            lo -= pad; hi += pad
            func y(_ v: Float) -> Double { panelTop + panelHeight * Double((hi - v) / (hi - lo)) }
            svg += "<rect x=\"\(left)\" y=\"\(panelTop)\" width=\"\(plotWidth)\" height=\"\(panelHeight)\" fill=\"#fafafa\" stroke=\"#ccc\"/>\n"
            svg += "<text x=\"\(left)\" y=\"\(panelTop - 6)\" font-size=\"13\" font-weight=\"bold\">\(title) (\(unit))</text>\n"
            for k in 0...4 {
                let v = lo + (hi - lo) * Float(k) / 4
                let yy = y(v)
                svg += "<line x1=\"\(left)\" x2=\"\(left + plotWidth)\" y1=\"\(f1(yy))\" y2=\"\(f1(yy))\" stroke=\"#e4e4e4\"/>"
                svg += "<text x=\"\(left - 6)\" y=\"\(f1(yy + 4))\" font-size=\"10\" text-anchor=\"end\">\(fixed(v, abs(hi - lo) < 2 ? 3 : 1))</text>\n"
            }
            if let band {
                var pts: [String] = []
                for (i, r) in rows.enumerated() { pts.append("\(f1(x(r.seconds))),\(f1(y(band.hi[i])))") }
                for (i, r) in rows.enumerated().reversed() { pts.append("\(f1(x(r.seconds))),\(f1(y(band.lo[i])))") }
                svg += "<polygon points=\"\(pts.joined(separator: " "))\" fill=\"\(band.color)\" fill-opacity=\"0.35\" stroke=\"none\"/>\n"
            }
            for line in lines {
                svg += "<line x1=\"\(left)\" x2=\"\(left + plotWidth)\" y1=\"\(f1(y(line.value)))\" y2=\"\(f1(y(line.value)))\" stroke=\"\(line.color)\" stroke-dasharray=\"6,4\"/>\n"
            }
            var legendX = left + plotWidth - 10
            for s in series.reversed() {
                // Points without a value (an estimate before its first sample) are left out.
                let pts = zip(rows, s.values).filter { $0.1.isFinite }.map { "\(f1(x($0.seconds))),\(f1(y($1)))" }
                svg += "<polyline points=\"\(pts.joined(separator: " "))\" fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.2\"/>\n"
                svg += "<text x=\"\(f1(legendX))\" y=\"\(f1(panelTop + 14))\" font-size=\"11\" text-anchor=\"end\" fill=\"\(s.color)\">\(s.name)</text>\n"
                legendX -= Double(s.name.count) * 6.5 + 14
            }
            panelTop += panelHeight + gap
        }

        panel("Pack voltage", "V", series: [("pack", "#1f4e9c", rows.map(\.packVoltage))])
        panel("Current, + = charging", "A", series: [("current", "#333", rows.map(\.current))],
              band: (rows.map(\.currentMin), rows.map(\.currentMax), "#999"))
        panel("Cell voltages (band: lowest…highest)", "V",
              series: [("lowest", "#b03a2e", rows.map(\.cellMin)), ("highest", "#1e8449", rows.map(\.cellMax))],
              band: (rows.map(\.cellMin), rows.map(\.cellMax), "#7fb3d5"),
              lines: [(overvoltage, "#c0392b"), (dischargeCutoff, "#c0392b")])
        panel("State of charge", "%", series: [
            ("true", "#7d3c98", rows.map { $0.socTrue * 100 }),
            ("BMS estimate", "#16a085", rows.map { ($0.socEstimated ?? .nan) * 100 }),
        ], range: (0, 100))
        panel("Temperatures", "°C", series: [
            ("hottest cell", "#c0392b", rows.map(\.maxCellTemperatureTrue)),
            ("MOSFET (measured)", "#d68910", rows.map { $0.temperatures.count >= 2 ? $0.temperatures[$0.temperatures.count - 2] : .nan }),
            ("ambient", "#5d6d7e", rows.map(\.ambient)),
        ])

        // Event markers over all panels; labels for the first ones only.
        var markers = ""
        var labelled = 0
        for e in events where e.kind == "trip" || e.kind == "latch" || e.kind == "release" {
            let color = e.kind == "release" ? "#27ae60" : "#c0392b"
            let xx = f1(x(e.seconds))
            markers += "<line x1=\"\(xx)\" x2=\"\(xx)\" y1=\"\(top)\" y2=\"\(f1(panelTop - gap))\" stroke=\"\(color)\" stroke-opacity=\"0.6\"/>\n"
            if labelled < 12 && e.kind != "release" {
                let label = (e.fault ?? e.kind) + (e.cell.map { " #\($0)" } ?? "")
                // Labels in the right quarter end at their marker so they are not cut off.
                let anchor = x(e.seconds) > left + 0.75 * plotWidth ? "end" : "start"
                markers += "<text x=\"\(xx)\" y=\"\(f1(top - 30 + Double(labelled % 2) * 9))\" font-size=\"9\" text-anchor=\"\(anchor)\" fill=\"\(color)\">\(label)</text>\n"
                labelled += 1
            }
        }
        let height = panelTop + 10
        let hours = simulatedSeconds / 3600
        var axis = ""
        let tickHours = hours <= 48 ? 6.0 : (hours <= 240 ? 24.0 : 24.0 * 7)
        var h = 0.0
        while h <= hours + 1e-9 {
            axis += "<text x=\"\(f1(x(h * 3600)))\" y=\"\(f1(height - 2))\" font-size=\"10\" text-anchor=\"middle\">\(tickHours >= 24 ? "d\(Int(h / 24))" : "\(Int(h)) h")</text>\n"
            h += tickHours
        }
        let title = "FlexBMS simulation: \(setup.cells)S \(setup.chemistry.name) \(fixed(setup.capacityAh, 0)) Ah, \(profileName), seed \(setup.seed)"
        return """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height + 14))" font-family="sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(left)" y="16" font-size="15">\(title)</text>
            \(svg)\(markers)\(axis)</svg>

            """
    }
}

private func f1(_ v: Double) -> String { String(format: "%.1f", v) }
