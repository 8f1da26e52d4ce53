import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import SQLiteKit

/// Where the data lives: the embedded SQLite file (the default) or a PostgreSQL server.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// The embedded default: `gridwork.sqlite` in the working directory.
    public static let defaultSQLite = DatabaseLocation.sqlite(path: "gridwork.sqlite")

    /// Accepts `postgres://…`, `postgresql://…`, `sqlite:PATH`, or a bare file path.
    public init(parsing text: String) throws(StoreError) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("postgres://") || t.hasPrefix("postgresql://") {
            guard let url = URL(string: t), let host = url.host, !host.isEmpty else {
                throw .badURL(t, reason: "无法解析主机名 (cannot read a host name)")
            }
            guard let user = url.user, !user.isEmpty else {
                throw .badURL(t, reason: "缺少用户名 (missing user name)")
            }
            if let port = url.port, !(1...65535).contains(port) {
                throw .badURL(t, reason: "端口无效 (invalid port)")
            }
            guard url.path.count > 1 else {
                throw .badURL(t, reason: "缺少数据库名 (missing database name)")
            }
            self = .postgres(url: t)
        } else if t.hasPrefix("sqlite:") {
            let path = String(t.dropFirst("sqlite:".count)).replacingOccurrences(of: "//", with: "", options: .anchored)
            guard !path.isEmpty else { throw .badURL(t, reason: "缺少文件路径 (missing file path)") }
            self = .sqlite(path: path)
        } else if t.contains("://") {
            throw .badURL(t, reason: "只支持 postgres:// 或 sqlite: (only postgres:// and sqlite: are supported)")
        } else if t.isEmpty {
            throw .badURL(t, reason: "数据库地址为空 (empty database location)")
        } else {
            self = .sqlite(path: t)
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let url):
            // Never print a password.
            if var c = URLComponents(string: url), c.password != nil { c.password = "***"; return c.string ?? "postgres://…" }
            return url
        }
    }
}

public enum DatabaseKind: String, Sendable { case sqlite, postgres }

/// One connection to the county's data, on either database.
///
/// Reads go to `reader`; every write goes through `transaction`, which on
/// SQLite serialises writers inside this process (SQLite allows one writer;
/// other processes wait on its busy timeout) and on PostgreSQL takes one
/// pooled connection for the whole transaction.
public final class Database: Sendable {
    public let kind: DatabaseKind
    public let location: DatabaseLocation
    /// For queries outside a transaction.
    public let reader: any SQLDatabase
    private let writer: any SQLDatabase
    private let writeLock = AsyncLock()
    private let commits = Locked<UInt64>(0)
    private let shutdown: @Sendable () async throws -> Void

    private init(kind: DatabaseKind, location: DatabaseLocation, reader: any SQLDatabase, writer: any SQLDatabase,
                 shutdown: @escaping @Sendable () async throws -> Void) {
        self.kind = kind; self.location = location; self.reader = reader; self.writer = writer; self.shutdown = shutdown
    }

    /// Opens and checks the database: an unreachable server or an unreadable
    /// file fails here with a `StoreError` that reads as one line.
    public static func open(_ location: DatabaseLocation, logger: Logger = Logger(label: "gridwork.db")) async throws -> Database {
        switch location {
        case .sqlite(let path): try await openSQLite(path: path, location: location, logger: logger)
        case .postgres(let url): try await openPostgres(url: url, location: location, logger: logger)
        }
    }

    private static func openSQLite(path: String, location: DatabaseLocation, logger: Logger) async throws -> Database {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty, !FileManager.default.fileExists(atPath: dir) {
            throw StoreError.unreachable("\(location)", reason: "目录不存在 (directory \(dir) does not exist)")
        }
        var opened: [SQLiteConnection] = []
        do {
            // One writer, two readers (WAL lets readers run beside the writer) and one that checkpoints.
            for _ in 0..<4 {
                let c = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
                opened.append(c)
                let db = c.sql(queryLogLevel: nil)
                try await db.raw("PRAGMA busy_timeout = 10000").run()
                try await db.raw("PRAGMA journal_mode = WAL").run()
                try await db.raw("PRAGMA foreign_keys = ON").run()
                // NORMAL is durable against a killed process in WAL mode; only power loss may drop the last commits.
                try await db.raw("PRAGMA synchronous = NORMAL").run()
            }
            let writer = opened[0].sql(queryLogLevel: nil)
            // The writer keeps more of the indexes in memory: bulk loads insert into
            // random places of the ID and phone indexes (64 MB; readers keep the default).
            try await writer.raw("PRAGMA cache_size = -65536").run()
            // Copying the WAL back into the database (and its fsync) happens beside the writer, once a second, instead
            // of inside whichever commit crosses 1,000 pages: commits stay short under load. A passive checkpoint
            // never blocks the writer or the readers.
            try await writer.raw("PRAGMA wal_autocheckpoint = 0").run()
        } catch {
            for c in opened { try? await c.close() }
            throw StoreError.unreachable("\(location)", reason: "\(error)")
        }
        let connections = opened
        let checkpointer = connections[3].sql(queryLogLevel: nil)
        let checkpoints = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                _ = try? await checkpointer.raw("PRAGMA wal_checkpoint(PASSIVE)").all()
            }
        }
        let readers = RoundRobin(connections[1...2].map { $0.sql(queryLogLevel: nil) })
        return Database(kind: .sqlite, location: location, reader: readers, writer: connections[0].sql(queryLogLevel: nil)) {
            checkpoints.cancel()
            _ = await checkpoints.result
            // The last checkpoint folds what is left back into the file.
            _ = try? await checkpointer.raw("PRAGMA wal_checkpoint(PASSIVE)").all()
            for c in connections { try await c.close() }
        }
    }

    private static func openPostgres(url: String, location: DatabaseLocation, logger: Logger) async throws -> Database {
        var config: SQLPostgresConfiguration
        do { config = try SQLPostgresConfiguration(url: url) } catch {
            throw StoreError.badURL("\(location)", reason: "无法解析 (cannot parse)")
        }
        config.coreConfiguration.options.connectTimeout = .seconds(5)
        // Probe with one quiet connection first: an unreachable server is one line
        // from us, not a pool's retry log.
        do {
            let quiet = Logger(label: "gridwork.db.probe", factory: { _ in SwiftLogNoOpLogHandler() })
            let probe = try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(),
                                                             configuration: config.coreConfiguration, id: 0, logger: quiet)
            try await probe.close()
        } catch {
            throw StoreError.unreachable("\(location)", reason: describe(error))
        }
        let source = PostgresConnectionSource(sqlConfiguration: config)
        let pool = EventLoopGroupConnectionPool(source: source, maxConnectionsPerEventLoop: 4,
                                                requestTimeout: .seconds(10), logger: logger,
                                                on: MultiThreadedEventLoopGroup.singleton)
        let sql = pool.database(logger: logger).sql(queryLogLevel: nil)
        // The pool is thread-safe (it locks internally); AsyncKit predates Sendable checking.
        nonisolated(unsafe) let shared = pool
        return Database(kind: .postgres, location: location, reader: sql, writer: sql) {
            try await shared.shutdownAsync()
        }
    }

    private static func describe(_ error: any Error) -> String {
        if let pse = error as? PSQLError {
            if let message = pse.serverInfo?[.message] { return message }
            return "\(pse.code)"
        }
        return String(describing: error)
    }

    /// Counts the transactions committed through this object, and the changes other processes announced
    /// (`noteChangeElsewhere`). While it stands still, nothing this process can see has changed: pages and
    /// lookups built from the data may be kept until it moves.
    public var changeCount: UInt64 { commits.withLock { $0 } }

    /// Another process said it changed something (PostgreSQL's NOTIFY).
    public func noteChangeElsewhere() { commits.withLock { $0 &+= 1 } }

    /// Runs `body` in one transaction: all of it lands, or none of it.
    ///
    /// `foreignKeys: false` is for a migration that rebuilds a table others refer to. SQLite cannot drop a
    /// table while its foreign keys are enforced without first deleting its rows (and, through `ON DELETE
    /// CASCADE`, theirs), and it only turns enforcement off outside a transaction; so the writer turns it off
    /// around this one, and `body` must run `PRAGMA foreign_key_check` before it returns. PostgreSQL
    /// ignores the flag.
    public func transaction<R: Sendable>(foreignKeys: Bool = true, _ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        switch kind {
        case .sqlite:
            return try await writeLock.withLock {
                guard !foreignKeys else {
                    return try await Self.runTransaction(on: writer, begin: "BEGIN IMMEDIATE", counting: self.commits, body)
                }
                try await writer.raw("PRAGMA foreign_keys = OFF").run()
                let result: Result<R, any Error>
                do { result = .success(try await Self.runTransaction(on: writer, begin: "BEGIN IMMEDIATE", counting: self.commits, body)) } catch {
                    result = .failure(error)
                }
                // Inside a transaction left open the pragma would be ignored: read it back, never go on without keys.
                try await writer.raw("PRAGMA foreign_keys = ON").run()
                let on = try await writer.raw("PRAGMA foreign_keys").first()?.decode(column: "foreign_keys", as: Int.self)
                guard on == 1 else { throw StoreError.conflict("外键检查未能恢复 (foreign keys could not be enforced again on the writer)") }
                return try result.get()
            }
        case .postgres:
            return try await writer.withSession { session in
                try await Self.runTransaction(on: session, begin: "BEGIN", counting: self.commits, body)
            }
        }
    }

    private static func runTransaction<R: Sendable>(on db: any SQLDatabase, begin: String, counting commits: Locked<UInt64>,
                                                    _ body: @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await db.raw(SQLQueryString(begin)).run()
        do {
            let result = try await body(db)
            try await db.raw("COMMIT").run()
            commits.withLock { $0 &+= 1 }
            return result
        } catch {
            try? await db.raw("ROLLBACK").run()
            throw error
        }
    }

    public func close() async throws { try await shutdown() }

    /// Whether `error` is the database refusing data (a unique key, a foreign key, NOT NULL, a CHECK) rather
    /// than the database being busy, gone or broken.
    static func isConstraintViolation(_ error: any Error) -> Bool {
        if let e = error as? SQLiteError { return "\(e.reason)".hasPrefix("constraint") }
        if let e = error as? PSQLError, let state = e.serverInfo?[.sqlState] { return state.hasPrefix("23") }
        return false
    }

    /// On PostgreSQL, calls `body` with each payload sent with `NOTIFY channel` by any process, on a connection of
    /// its own, until the task is cancelled or the connection drops (then it throws; the caller reconnects).
    /// On SQLite, where every writer is in this process, it returns at once.
    public func listen(_ channel: String, logger: Logger, _ body: @escaping @Sendable (String) async -> Void) async throws {
        guard case .postgres(let url) = location else { return }
        let config = try SQLPostgresConfiguration(url: url)
        let connection = try await PostgresConnection.connect(on: MultiThreadedEventLoopGroup.singleton.any(),
                                                              configuration: config.coreConfiguration, id: 1, logger: logger)
        do {
            try await connection.listen(on: channel) { notifications in
                for try await n in notifications { await body(n.payload) }
            }
            try? await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

/// Spreads plain reads over several SQLite connections, one query at a time on each: SQLite keeps a
/// connection's read snapshot while any of its statements runs, so two queries overlapping on one
/// connection could read from before a commit the caller has already seen (a session just created, say).
private final class RoundRobin: SQLDatabase, @unchecked Sendable {
    // Only `next` is mutated, under `lock`; the connections and their locks are Sendable.
    private let databases: [any SQLDatabase]
    private let turns: [AsyncLock]
    private let lock = NSLock()
    private var next = 0

    init(_ databases: [any SQLDatabase]) {
        self.databases = databases
        turns = databases.map { _ in AsyncLock() }
    }

    private func pick() -> Int {
        lock.lock(); defer { lock.unlock() }
        next = (next + 1) % databases.count
        return next
    }

    var logger: Logger { databases[0].logger }
    var eventLoop: any EventLoop { databases[0].eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { databases[0].version }
    var dialect: any SQLDialect { databases[0].dialect }
    var queryLogLevel: Logger.Level? { nil }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        eventLoop.makeFutureWithTask { try await self.execute(sql: query, onRow) }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        let i = pick()
        try await turns[i].withLock { try await self.databases[i].execute(sql: query, onRow) }
    }
}

/// A FIFO async mutex: SQLite takes one writer at a time.
actor AsyncLock {
    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func withLock<R: Sendable>(_ body: @Sendable () async throws -> R) async throws -> R {
        await acquire()
        do {
            let r = try await body()
            release()
            return r
        } catch {
            release()
            throw error
        }
    }

    private func acquire() async {
        if !locked { locked = true; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty { locked = false } else { waiters.removeFirst().resume() }
    }
}
