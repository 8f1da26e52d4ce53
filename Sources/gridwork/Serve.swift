import ArgumentParser
import Foundation
import GridworkDemo
import GridworkServer
import GridworkStore
import Hummingbird
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Migrate, seed an empty SQLite file with the demo county, and serve the web UI and API.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (1–65535).")
    var port = 8080

    @Flag(help: "Do not seed the demo county into an empty SQLite file.")
    var noSeed = false

    @Option(help: "Demo profile seeded into an empty SQLite file on first start.")
    var demoProfile: DemoProfile = .longhui

    @Option(help: "Residents of that demo (default: the profile's default).")
    var demoResidents: Int?

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("端口必须在1到65535之间 (port must be 1–65535), got \(port)") }
        if let problem = DemoOptions(profile: demoProfile, residents: demoResidents).problem { throw ValidationError(problem) }
    }

    func run() async throws {
        var logger = Logger(label: "gridwork")
        logger.logLevel = .info
        let store = try await oneLineFailure { try await database.openStore() }
        do {
            // Only the embedded default seeds itself; a PostgreSQL county is loaded on purpose.
            if !noSeed, store.database.kind == .sqlite, try await store.net.isEmpty() {
                note("首次启动:正在生成演示县数据 (first start: seeding the demo county)…")
                try await seedWithProgress(store: store, options: DemoOptions(profile: demoProfile, residents: demoResidents))
            }
            let (host, port, location) = (host, port, store.database.location)
            let app = try await buildApplication(store: store, config: ServerConfig(host: host, port: port), logger: logger) {
                note("网格通已启动 (Gridwork serving) http://\(host):\(port)/  数据库 \(location)")
            }
            try await app.runService()
            try await store.close()
        } catch {
            try? await store.close()
            let text = String(describing: error)
            if text.contains("Address already in use") || text.contains("EADDRINUSE") {
                fail("端口 \(port) 已被占用 (port \(port) is already in use on \(host))")
            }
            if let e = error as? StoreError { fail(e.message) }
            fail(text)
        }
    }
}

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

    func validate() throws {
        let options = DemoOptions(profile: profile, residents: residents, seed: seed)
        if let problem = options.problem { throw ValidationError(problem) }
    }

    func run() async throws {
        try await oneLineFailure {
            let store = try await database.openStore()
            do {
                let options = DemoOptions(profile: profile, residents: residents, seed: seed)
                let clock = ContinuousClock.now
                try await seedWithProgress(store: store, options: options)
                let stats = try await store.net.stats()
                let seconds = (ContinuousClock.now - clock).seconds
                note("已生成 (seeded) \(stats.townships) 个乡镇/街道, \(stats.grids) 个网格, \(stats.buildings) 栋, \(stats.households) 户, \(stats.residents) 人, 用时 \(String(format: "%.1f", seconds)) s")
                try await store.close()
            } catch {
                try? await store.close()
                throw error
            }
        }
    }
}

struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the counts of the net.")

    @OptionGroup var database: DatabaseOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() async throws {
        try await oneLineFailure {
            let store = try await database.openStore()
            do {
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
                try await store.close()
            } catch {
                try? await store.close()
                throw error
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
