import Testing
@testable import BMSCore

@Suite struct SelfDischargeMonitorTests {
    /// Runs `days` days of 16 cells on a 100 Ah pack, each day bleeding `bled(day, cell)` Ah;
    /// returns the day (1-based) each cell was first named.
    func run(days: Int, _ bled: (Int, Int) -> Float) -> (SelfDischargeMonitor, [Int: Int]) {
        var m = SelfDischargeMonitor()
        var named: [Int: Int] = [:]
        _ = m.tick(at: Timestamp(milliseconds: 0), cells: 16, capacityAh: 100)
        for day in 1...days {
            for cell in 0..<16 { m.add(bled(day, cell), cell: cell) }
            // Just before the day closes, nothing happens; at 24 h it closes.
            let early = m.tick(at: Timestamp(milliseconds: UInt32(day) * 86_400_000 - 1), cells: 16, capacityAh: 100)
            #expect(early == 0 && m.days == Int32(day - 1))
            let new = m.tick(at: Timestamp(milliseconds: UInt32(day) * 86_400_000), cells: 16, capacityAh: 100)
            for cell in 0..<16 where new & (1 << UInt16(cell)) != 0 { named[cell] = named[cell] ?? day }
        }
        return (m, named)
    }

    @Test func oneSparedCellIsNamedAfterAWeekOfJudgement() {
        // Cell 5 never bled, the others 0.4 Ah a day: judged from day 7, low seven days in a
        // row at day 13.
        let (m, named) = run(days: 20) { _, cell in cell == 5 ? 0 : 0.4 }
        #expect(named == [5: 13])
        #expect(m.suspects == 1 << 5)
        #expect(abs(m.excessAhPerDay(cell: 5) - 0.4) < 1e-4)
        #expect(m.days == 20)
    }

    @Test func aGradedImbalanceIsNotALeak() {
        // The low end of an imbalance being removed: cells 0–3 spared, the others bled.
        let (_, named) = run(days: 30) { _, cell in cell < 4 ? 0 : 0.4 }
        #expect(named.isEmpty)
        // One cell spared but the next one bled only a third of the median: still graded.
        let (_, graded) = run(days: 30) { _, cell in cell == 0 ? 0 : cell == 1 ? 0.13 : 0.4 }
        #expect(graded.isEmpty)
    }

    @Test func tooLittleBleedingIsNotJudged() {
        // 0.04 Ah a day on 100 Ah: below 0.05 % of the capacity, within healthy cells' spread.
        let (_, named) = run(days: 30) { _, cell in cell == 5 ? 0 : 0.04 }
        #expect(named.isEmpty)
    }

    @Test func aBreakInTheStreakStartsTheCountAgain() {
        // Cell 5 is bled like the others on day 10: its moving average jumps above a tenth of
        // the median and stays there for days; the count starts again once it is back down.
        let (_, named) = run(days: 40) { day, cell in cell == 5 && day != 10 ? 0 : 0.4 }
        let day = named[5] ?? 0
        #expect(day > 16, "named on day \(day)")
        #expect(named.count == 1)
    }
}
