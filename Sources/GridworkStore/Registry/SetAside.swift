import Foundation
import GridworkCore
import PostgresKit
import SQLKit
#if canImport(Glibc)
import Glibc
#endif

extension ResidentImporter {
    /// What a first load (no residents yet) sets aside in its first transaction and builds again at its end:
    /// building an index from a full table sorts once, where a million inserts each walk it to a random
    /// place (`bench/import`'s "store only" lines show the difference). Each thing dropped is recorded in
    /// `import_set_aside`, in the same transaction, with the statement that builds it as the database had
    /// it; `restore` runs those and forgets them. It runs when the load ends or fails. A load that died in
    /// between (killed; on PostgreSQL also its connection lost, once the server notices) leaves its record
    /// with no one holding its `Claim`: the next `Store.open`, hand registration or import finds it abandoned
    /// and builds it (`restoreIfAbandoned`), so a server that goes on running is not left refusing
    /// registrations. With nothing recorded, an open costs one small query.
    ///
    /// The unique ID index is set aside too. Meanwhile what keeps a person once is: the file's own rows,
    /// `SeenIDs`; a hand registration or another import, refused while anything is recorded here
    /// (`refuseDuringFirstLoad`); and a first load that finds someone registered before its first commit,
    /// which fails instead (`someoneRegistered`).
    struct SetAside: Sendable {
        /// The unique and secondary indexes of the residents' tables.
        static let indexes = ["residents_id_index", "residents_household", "residents_phone", "residents_building_status",
                              "resident_events_resident", "resident_tags_tag"]
        /// PostgreSQL checks a foreign key with a query per inserted row (a third of the server's time in a
        /// load); adding the key afterwards checks every row in one join. SQLite checks them cheaply, and
        /// cannot drop one without rebuilding the table, so it keeps them.
        static let foreignKeys = [("residents", "residents_household_id_building_id_fkey"), ("resident_events", "resident_events_resident_id_fkey"),
                                  ("resident_tags", "resident_tags_resident_id_fkey")]

        /// Records, then drops, in the first batch's transaction.
        let drop: [String]

        init(_ kind: DatabaseKind) {
            let names = Self.indexes.map { "'\($0)'" }.joined(separator: ", ")
            switch kind {
            case .sqlite:
                drop = ["""
                    INSERT INTO import_set_aside (name, restore)
                    SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN (\(names)) AND sql IS NOT NULL
                    """] + Self.indexes.map { "DROP INDEX IF EXISTS \($0)" }
            case .postgres:
                let keys = Self.foreignKeys.map { "'\($0.1)'" }.joined(separator: ", ")
                drop = ["""
                    INSERT INTO import_set_aside (name, restore)
                    SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_class c
                    WHERE c.relkind = 'i' AND c.relname IN (\(names)) AND pg_table_is_visible(c.oid)
                    """, """
                    INSERT INTO import_set_aside (name, restore)
                    SELECT conname, format('ALTER TABLE %s ADD CONSTRAINT %I %s', conrelid::regclass, conname, pg_get_constraintdef(oid))
                    FROM pg_constraint WHERE contype = 'f' AND conname IN (\(keys)) AND pg_table_is_visible(conrelid)
                    """] + Self.foreignKeys.map { "ALTER TABLE \($0.0) DROP CONSTRAINT IF EXISTS \($0.1)" }
                    + Self.indexes.map { "DROP INDEX IF EXISTS \($0)" }
            }
        }

        /// Asked in a transaction that has written a resident (or is about to, for the import writer): a
        /// first load's first commit either came before it, and is seen here, or waits for it (on PostgreSQL
        /// that first transaction locks the table first) and then finds the resident (`someoneRegistered`).
        static let recordedAny = "SELECT 1 FROM import_set_aside LIMIT 1"
        /// Whether the registry has anyone: a first load is one only while this finds no one.
        static let anyResident = "SELECT 1 AS one FROM residents LIMIT 1"
        static let duringFirstLoad = StoreError.conflict("居民名册正在首次导入,ID 唯一索引暂时搁置;请在导入完成后再登记或导入 (a first load of the registry is running; register or import after it ends)")
        static let someoneRegistered = StoreError.conflict("导入开始后已有居民登记,请重新运行导入,将按已有名册合并 (someone was registered as this first load started; run the import again and it merges)")

        /// Throws `duringFirstLoad` if a first load has anything set aside.
        static func refuseDuringFirstLoad(_ db: any SQLDatabase) async throws {
            if try await db.raw(SQLQueryString(recordedAny)).first() != nil { throw duringFirstLoad }
        }

        /// Builds what a first load that is no longer running left set aside. A load that is still running holds
        /// its `Claim`, and what it set aside is left to it. True when nothing is set aside any more (nothing was,
        /// a load ended meanwhile, or it was built here); false while a live load holds it.
        @discardableResult
        static func restoreIfAbandoned(_ database: Database) async throws -> Bool {
            let items = try await recorded(database)
            guard !items.isEmpty else { return true }
            guard try await !Claim.isHeld(database) else { return false }
            try await build(items, in: database)
            return true
        }

        /// Builds whatever is recorded as set aside (indexes before keys) and forgets it, each in a transaction of
        /// its own: one that cannot be built (should two residents share an ID number, which nothing lets in) keeps
        /// its record and is named in the error, and the rest are built all the same.
        static func restore(_ database: Database) async throws {
            try await build(try await recorded(database), in: database)
        }

        /// What is recorded as set aside, indexes before keys. Usually nothing: asked on a reader, so an open
        /// takes no write lock.
        private static func recorded(_ database: Database) async throws -> [(name: String, restore: String)] {
            try await database.reader.raw("SELECT name, restore FROM import_set_aside ORDER BY restore LIKE 'ALTER%', name").all().map {
                (name: try $0.decode(column: "name", as: String.self), restore: try $0.decode(column: "restore", as: String.self))
            }
        }

        private static func build(_ items: [(name: String, restore: String)], in database: Database) async throws {
            var failed: [String] = []
            for item in items {
                do {
                    try await database.transaction { db in
                        // Another process may be building it: asked again under the write lock (SQLite's `BEGIN
                        // IMMEDIATE`; on PostgreSQL the row's lock, so a second restorer waits and then finds it gone).
                        let again: SQLQueryString = database.kind == .postgres
                            ? "SELECT 1 AS one FROM import_set_aside WHERE name = \(bind: item.name) FOR UPDATE"
                            : "SELECT 1 AS one FROM import_set_aside WHERE name = \(bind: item.name)"
                        guard try await db.raw(again).first() != nil else { return }
                        try await db.raw(SQLQueryString(item.restore)).run()
                        try await db.raw("DELETE FROM import_set_aside WHERE name = \(bind: item.name)").run()
                    }
                } catch {
                    failed.append("\(item.name): \(error)")
                }
            }
            guard failed.isEmpty else {
                throw StoreError.conflict("首次导入搁置的索引无法重建 (set-aside indexes could not be built again): \(failed.joined(separator: "; "))")
            }
        }

        /// A first load's hold on its database from before its first write until what it set aside is built
        /// again. It is the operating system's or the server's to let go when the load dies: on SQLite an
        /// exclusive `flock` on a file beside the database, on PostgreSQL a session advisory lock on a
        /// connection of the load's own. So a record in `import_set_aside` with no claim held belongs to a load
        /// that is gone, and the next one to find it builds what it left (`restoreIfAbandoned`).
        final class Claim: Sendable {
            private enum Hold: @unchecked Sendable {
                case file(Int32)
                case session(PostgresConnection)
            }

            private let hold: Hold
            private init(_ hold: Hold) { self.hold = hold }

            /// The advisory lock's two keys (`pg_locks` shows them as `classid` and `objid`): "grid", 4.
            static let keys = (Int32(0x6772_6964), Int32(4))

            /// The lock file of an SQLite database at `path`, beside the file itself (symlinks resolved), so every
            /// way of naming the database finds the same lock.
            static func lockFile(_ path: String) -> String {
                guard let real = realpath(path, nil) else { return path + "-import-lock" }
                defer { free(real) }
                return String(cString: real) + "-import-lock"
            }

            /// Takes the claim, or throws `duringFirstLoad` if another first load holds it.
            static func take(_ location: DatabaseLocation) async throws -> Claim {
                switch location {
                case .sqlite(let path):
                    // Readable by all: whoever runs the server or a command may ask whether it is held.
                    let fd = open(lockFile(path), O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
                    guard fd >= 0 else {
                        let reason = String(cString: strerror(errno))
                        throw StoreError.conflict("无法创建导入锁文件 (cannot create the import's lock file) \(lockFile(path)): \(reason)")
                    }
                    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { close(fd); throw duringFirstLoad }
                    return Claim(.file(fd))
                case .postgres(let url):
                    let c = try await ImportWriter.connect(url, id: 3)
                    var taken = false
                    do {
                        for try await got in try await c.query("SELECT pg_try_advisory_lock(\(keys.0), \(keys.1))", logger: ImportWriter.logger)
                            .decode(Bool.self) { taken = got }
                    } catch {
                        try? await c.close()
                        throw error
                    }
                    guard taken else { try? await c.close(); throw duringFirstLoad }
                    return Claim(.session(c))
                }
            }

            /// Lets go: closing the file releases it; on PostgreSQL the lock is released first, since the server
            /// lets go of a closed session's locks only when its backend has ended, a moment after `close` returns
            /// (a test asking at once sometimes found it still held).
            func release() async {
                switch hold {
                case .file(let fd): close(fd)
                case .session(let c):
                    // Should this fail (the connection lost), the server has let go of the lock with the session.
                    _ = try? await c.query("SELECT pg_advisory_unlock(\(Self.keys.0), \(Self.keys.1))", logger: ImportWriter.logger)
                        .collect()
                    try? await c.close()
                }
            }

            /// Whether a first load (in any process) holds the claim on `database`.
            static func isHeld(_ database: Database) async throws -> Bool {
                switch database.location {
                case .sqlite(let path):
                    // Asked with a shared lock: two askers do not take each other for a load.
                    // Opened to read (flock needs no more): a file this process may not open otherwise is still
                    // asked. Only a missing file means no load ever claimed this database; any other failure is
                    // taken as held, so nothing is built under a live load.
                    let fd = open(lockFile(path), O_RDONLY | O_CLOEXEC)
                    guard fd >= 0 else { return errno != ENOENT }
                    defer { close(fd) }
                    if flock(fd, LOCK_SH | LOCK_NB) == 0 { flock(fd, LOCK_UN); return false }
                    return true
                case .postgres:
                    let held = """
                        SELECT 1 AS one FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = \(keys.0) AND objid = \(keys.1)
                            AND objsubid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                        """
                    return try await database.reader.raw(SQLQueryString(held)).first() != nil
                }
            }
        }
    }
}
