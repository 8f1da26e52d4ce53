import ArgumentParser
import Foundation
import GridworkCore
import GridworkDemo
import GridworkStore

/// Matters on a clock, from the server's command line.
struct Cases: AsyncParsableCommand {
    // One group for the loop's commands: `history` and `retally` here, `figures` in FigureCommands.swift.
    static let configuration = CommandConfiguration(abstract: "Matters (cases) of the county.", subcommands: [History.self, Figures.self, Retally.self])

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a year of deterministic historical matters into the seeded demo county (for benchmarks and demos).")

        @OptionGroup var database: DatabaseOptions

        @Option(help: "How many matters (e.g. 1000000).")
        var count: Int

        @Option(help: "Seed of the generator; the same seed and end give the same history.")
        var seed: UInt64 = 430524

        @Option(help: "End of the history, seconds since 1970 UTC (default: now).")
        var now: Int64?

        func validate() throws {
            guard (1...20_000_000).contains(count) else { throw ValidationError("--count 应在 1 到 20000000 之间 (1 to 20,000,000)") }
        }

        func run() async throws {
            try await database.withStore { store in
                let tty = isatty(STDERR_FILENO) == 1
                let clock = ContinuousClock.now
                let result = try await CaseHistory.load(into: store, count: count, seed: seed, now: now ?? Clock.now()) { done, total in
                    guard tty else { return }
                    FileHandle.standardError.write(Data("\r\(done * 100 / max(total, 1))% \(done)/\(total) 件\(done == total ? "\n" : "")".utf8))
                }
                let seconds = (ContinuousClock.now - clock).seconds
                let states = CaseState.allCases.map { "\($0.rawValue) \(result.byState[$0] ?? 0)" }.joined(separator: ", ")
                print("已生成历史事项 (loaded) \(result.cases) 件, \(result.steps) 步, \(result.notices) 条通知, 用时 \(String(format: "%.1f", seconds)) s")
                print("按状态 (by state): \(states)")
            }
        }
    }

    struct Retally: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count the figures' running sums again from the matters (a repair; steps and reports wait meanwhile).")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await database.withStore { store in
                let clock = ContinuousClock.now
                let rows = try await CaseTallies.rebuild(store.database)
                print("已重新统计 (recounted) \(rows) 行, 用时 \(String(format: "%.1f", (ContinuousClock.now - clock).seconds)) s")
            }
        }
    }
}
