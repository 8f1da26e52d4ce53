import ArgumentParser
import Foundation
import GridworkCore
import GridworkStore

extension Cases {
    /// The loop's figures from the command line: the same numbers as `/cases/figures`, for scripts and benchmarks.
    struct Figures: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "受理率, 按期处置率, 结案率, 按期结案率, 返工率, average handling time and 满意率 per area (or per assignee) for a period.")

        @OptionGroup var database: DatabaseOptions

        @Option(name: .customLong("in"), help: "The area (default: the county).")
        var area: String?

        @Option(help: "First day, YYYY-MM-DD (default: a year before --to).")
        var from: String?

        @Option(help: "Last day, YYYY-MM-DD (default: today).")
        var to: String?

        @Flag(help: "Per person and department instead of per area.")
        var byAssignee = false

        @Flag(help: "Print JSON (with the query's time in milliseconds).")
        var json = false

        func run() async throws {
            let last = try to.map { try Self.date($0, "--to") } ?? CivilDate.today()
            let first = try from.map { try Self.date($0, "--from") } ?? last.adding(years: -1)
            guard first <= last else { throw ValidationError("--from 不能晚于 --to (--from is after --to)") }
            try await database.withStore { store in
                let county = try await countyScope(store)
                let code = try area.map { try parseCode($0, name: "--in") } ?? county
                let viewer = Viewer(userID: 0, login: "cli", role: .countyAdmin, scope: county)
                let clock = ContinuousClock.now
                let result = try await store.cases.figures(under: code, by: byAssignee ? .assignee : .area, from: first, to: last, viewer: viewer)
                let elapsed = ContinuousClock.now - clock
                let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
                if json {
                    struct Answer: Encodable { let area: String; let from: String; let to: String; let milliseconds: Double; let rows: [CaseFigures]; let total: CaseFigures }
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys]
                    print(String(decoding: try encoder.encode(Answer(area: code.value, from: first.iso, to: last.iso, milliseconds: ms,
                                                                     rows: result.rows, total: result.total)), as: UTF8.self))
                    return
                }
                print("\(result.total.name) \(first.iso)…\(last.iso)  (\(String(format: "%.0f", ms)) ms)")
                print(["", "上报", "受理率", "按期处置率", "结案率", "按期结案率", "返工率", "满意率"].joined(separator: "\t"))
                for f in result.rows + [result.total] {
                    print([f.name, String(f.reported), CaseFigures.percent(f.acceptanceRate), CaseFigures.percent(f.onTimeHandlingRate),
                           CaseFigures.percent(f.closingRate), CaseFigures.percent(f.onTimeClosingRate), CaseFigures.percent(f.reworkRate),
                           CaseFigures.percent(f.satisfactionRate)].joined(separator: "\t"))
                }
            }
        }

        static func date(_ text: String, _ option: String) throws -> CivilDate {
            guard let d = CivilDate(iso: text) else { throw ValidationError("\(option) 应为 YYYY-MM-DD (a date like 2026-01-31), got \(text)") }
            return d
        }
    }
}
