import Foundation
import GridworkDemo
import GridworkStore
import SQLKit
#if canImport(Glibc)
import Glibc
#endif

/// Fresh databases for tests, copied from one migrated and seeded template
/// per test process so each test starts from the same county in milliseconds.
///
/// SQLite by default (a file in a temporary folder); when `GRIDWORK_TEST_DB_URL`
/// names a PostgreSQL server, each test gets its own database created from a
/// template database on that server.
public enum TestDatabase {
    /// A fixed key: tests must not depend on a key file.
    public static let environment = ["GRIDWORK_SEAL_KEY": Data(repeating: 7, count: 32).base64EncodedString()]

    /// The demo every seeded test starts from.
    public static let demo = DemoOptions(profile: .sample, residents: 3_000, seed: 7, demoPassword: demoPassword)
    /// The password of every demo account in test databases.
    public static let demoPassword = "test-demo-2026"

    public static var serverURL: String? {
        let url = ProcessInfo.processInfo.environment["GRIDWORK_TEST_DB_URL"] ?? ""
        return url.isEmpty ? nil : url
    }

    public static var isPostgres: Bool { serverURL != nil }

    /// Runs `body` with a store of its own, seeded with the sample demo unless `seeded` is false,
    /// then closes and removes it whatever happens (a run of the suites made ~300 MB of copies).
    public static func withStore<R>(seeded: Bool = true, _ body: (Store) async throws -> R) async throws -> R {
        let location = try await templates.fresh(seeded: seeded)
        do {
            let result = try await Store.using(location, environment: environment, body)
            await Templates.remove(location)
            return result
        } catch {
            await Templates.remove(location)
            throw error
        }
    }

    /// An empty folder for one test's files.
    public static func scratchDirectory() -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gridwork-tests-\(ProcessInfo.processInfo.processIdentifier)/\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static let templates = Templates()
}

/// Builds each template once, then hands out copies.
actor Templates {
    private var built: [Bool: Task<DatabaseLocation, any Error>] = [:]
    private var counter = 0

    private var swept = false

    func fresh(seeded: Bool) async throws -> DatabaseLocation {
        if !swept {
            swept = true
            await Self.sweep()
        }
        let task = built[seeded] ?? Task { try await Self.build(seeded: seeded) }
        built[seeded] = task
        let template = try await task.value
        counter += 1
        return try await Self.copy(template, name: "t\(counter)")
    }

    private static let run = "\(ProcessInfo.processInfo.processIdentifier)_\(Int(Date().timeIntervalSince1970) % 100_000)"

    private static func build(seeded: Bool) async throws -> DatabaseLocation {
        let name = "gw_tmpl_\(seeded ? "seeded" : "empty")_\(run)"
        let location: DatabaseLocation
        if let server = TestDatabase.serverURL {
            try await admin(server) { db in try await db.raw(SQLQueryString("CREATE DATABASE \(name)")).run() }
            location = .postgres(url: replacingDatabase(server, with: name))
        } else {
            location = .sqlite(path: TestDatabase.scratchDirectory().appendingPathComponent("\(name).sqlite").path)
        }
        if seeded {
            try await Store.using(location, environment: TestDatabase.environment) { store in
                try await DemoSeeder.seed(into: store, options: TestDatabase.demo)
            }
        } else {
            try await Store.using(location, environment: TestDatabase.environment) { _ in }
        }
        return location
    }

    private static func copy(_ template: DatabaseLocation, name: String) async throws -> DatabaseLocation {
        switch template {
        case .sqlite(let path):
            // In a folder of its own, removed with it (the WAL, and a first load's lock file, lie beside it).
            let target = TestDatabase.scratchDirectory().appendingPathComponent("\(name).sqlite").path
            try FileManager.default.copyItem(atPath: path, toPath: target)
            return .sqlite(path: target)
        case .postgres(let url):
            let server = TestDatabase.serverURL!
            let templateName = URL(string: url)!.lastPathComponent
            let db = "\(templateName)_\(name)"
            try await admin(server) { sql in
                try await sql.raw(SQLQueryString("CREATE DATABASE \(db) TEMPLATE \(templateName)")).run()
            }
            return .postgres(url: replacingDatabase(server, with: db))
        }
    }

    /// Removes one test's copy: its folder on SQLite, its database on PostgreSQL.
    static func remove(_ location: DatabaseLocation) async {
        switch location {
        case .sqlite(let path):
            try? FileManager.default.removeItem(at: URL(fileURLWithPath: path).deletingLastPathComponent())
        case .postgres(let url):
            let name = URL(string: url)!.lastPathComponent
            try? await admin(TestDatabase.serverURL!) { sql in
                try await sql.raw(SQLQueryString("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")).run()
            }
        }
    }

    /// What test processes that are gone left behind (a crash, or a run stopped midway; and each process's
    /// templates, which nothing removes at its end): their scratch folders, and on a test server on this
    /// machine their databases, both named with the process's id.
    private static func sweep() async {
        let temporary = FileManager.default.temporaryDirectory
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? [] where entry.hasPrefix("gridwork-tests-") {
            if let pid = Int32(entry.dropFirst("gridwork-tests-".count)), !isAlive(pid) {
                try? FileManager.default.removeItem(at: temporary.appendingPathComponent(entry))
            }
        }
        guard let server = TestDatabase.serverURL else { return }
        try? await admin(server) { sql in
            let names = try await sql.raw("SELECT datname FROM pg_database WHERE datname LIKE 'gw\\_tmpl\\_%'").all()
                .map { try $0.decode(column: "datname", as: String.self) }
            // gw_tmpl_<seeded|empty>_<pid>_<time>[_t<n>]
            for name in names {
                let parts = name.split(separator: "_")
                guard parts.count >= 5, let pid = Int32(parts[3]), !isAlive(pid) else { continue }
                try await sql.raw(SQLQueryString("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")).run()
            }
        }
    }

    private static func isAlive(_ pid: Int32) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

    private static func admin(_ server: String, _ body: @escaping @Sendable (any SQLDatabase) async throws -> Void) async throws {
        let database = try await Database.open(.postgres(url: server))
        do {
            try await body(database.reader)
            try await database.close()
        } catch {
            try? await database.close()
            throw error
        }
    }

    static func replacingDatabase(_ url: String, with name: String) -> String {
        var c = URLComponents(string: url)!
        c.path = "/" + name
        return c.string!
    }
}
