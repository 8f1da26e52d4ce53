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

    @Option(help: "Password of every demo account (default: generated and printed once).")
    var demoPassword: String?

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("端口必须在1到65535之间 (port must be 1–65535), got \(port)") }
        if let problem = DemoOptions(profile: demoProfile, residents: demoResidents, demoPassword: demoPassword).problem { throw ValidationError(problem) }
    }

    func run() async throws {
        var logger = Logger(label: "gridwork")
        logger.logLevel = .info
        let store = try await oneLineFailure { try await Store.open(try database.location(), keyFile: database.keyFile) }
        do {
            // Only the embedded default seeds itself; a PostgreSQL county is loaded on purpose.
            if !noSeed, store.database.kind == .sqlite, try await store.net.isEmpty() {
                note("首次启动:正在生成演示县数据 (first start: seeding the demo county)…")
                let password = demoPassword ?? DemoAccounts.generatePassword()
                try await seedWithProgress(store: store, options: DemoOptions(profile: demoProfile, residents: demoResidents, demoPassword: password))
                if demoPassword == nil { note("演示账号密码 (demo password, shown once): \(password)") }
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
