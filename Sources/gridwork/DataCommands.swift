import ArgumentParser
import Foundation
import GridworkDemo
import GridworkStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending schema migrations.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await oneLineFailure {
            let db = try await Database.open(try database.location())
            do {
                let applied = try await Migrations.run(on: db)
                let all = try await Migrations.applied(on: db)
                print(applied.isEmpty ? "已是最新 (up to date): \(all.count) 个迁移" : "已应用迁移 (applied): \(applied.map(String.init).joined(separator: ", "))")
                try await db.close()
            } catch {
                try? await db.close()
                throw error
            }
        }
    }
}

struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Build the deterministic demo county into an empty database.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Demo profile: longhui (the whole county's shape) or sample (a few grids).")
    var profile: DemoProfile = .longhui

    @Option(help: "How many residents (longhui: default 200000, full county 1010000).")
    var residents: Int?

    @Option(help: "Seed of the generator; the same seed gives the same county.")
    var seed: UInt64 = 430524

    @Option(help: "Password of every demo account (default: generated and printed once).")
    var demoPassword: String?

    @Flag(help: "Build the net, its dwellings, staff and accounts, but no residents (to import them).")
    var netOnly = false

    func validate() throws {
        let options = DemoOptions(profile: profile, residents: residents, seed: seed, demoPassword: demoPassword)
        if let problem = options.problem { throw ValidationError(problem) }
    }

    func run() async throws {
        try await database.withStore { store in
            var options = DemoOptions(profile: profile, residents: residents, seed: seed,
                                      demoPassword: demoPassword ?? DemoAccounts.generatePassword())
            options.withResidents = !netOnly
            let clock = ContinuousClock.now
            try await seedWithProgress(store: store, options: options)
            let stats = try await store.net.stats()
            let seconds = (ContinuousClock.now - clock).seconds
            if demoPassword == nil { print("演示账号密码 (demo password, shown once): \(options.demoPassword!)") }
            note("已生成 (seeded) \(stats.townships) 个乡镇/街道, \(stats.grids) 个网格, \(stats.buildings) 栋, \(stats.households) 户, \(stats.residents) 人, 用时 \(String(format: "%.1f", seconds)) s")
        }
    }
}

struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the counts of the net.")

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        try await database.withStore { store in
            let stats = try await store.net.stats()
            let rows: [(key: String, label: String, value: Int)] = [
                ("townships", "乡镇/街道", stats.townships), ("communities", "社区/村", stats.communities),
                ("grids", "网格", stats.grids), ("buildings", "楼栋", stats.buildings),
                ("households", "户", stats.households), ("residents", "居民", stats.residents),
                ("buildingHeads", "楼栋长", stats.buildingHeads), ("gridWorkers", "网格员", stats.gridWorkers),
            ]
            if json {
                // Written by hand so the keys keep this order, which scripts and people read.
                print("{" + rows.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}")
            } else {
                for row in rows { print("\(row.label) \(row.key)\t\(row.value)") }
            }
        }
    }
}

/// Seeds with a progress bar when stderr is a terminal.
func seedWithProgress(store: Store, options: DemoOptions) async throws {
    let tty = isatty(STDERR_FILENO) == 1
    try await DemoSeeder.seed(into: store, options: options) { done, total in
        guard tty, done == total || done % max(1, total / 200) == 0 else { return }
        let width = 30
        let filled = done * width / max(total, 1)
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        FileHandle.standardError.write(Data("\r\(bar) \(done * 100 / max(total, 1))% \(done)/\(total) 栋\(done == total ? "\n" : "")".utf8))
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
