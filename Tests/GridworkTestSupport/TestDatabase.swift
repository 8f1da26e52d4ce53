import Foundation
import GridworkDemo
import GridworkStore
import SQLKit

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
    /// and closes it afterwards whatever happens.
    public static func withStore<R>(seeded: Bool = true, _ body: (Store) async throws -> R) async throws -> R {
        try await Store.using(try await templates.fresh(seeded: seeded), environment: environment, body)
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

    func fresh(seeded: Bool) async throws -> DatabaseLocation {
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
