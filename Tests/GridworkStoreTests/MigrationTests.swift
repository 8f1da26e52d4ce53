import Foundation
@testable import GridworkStore
import GridworkTestSupport
import SQLKit
import Testing

@Suite struct MigrationTests {
    @Test func migrationsRunOnceAndAreRecorded() async throws {
        try await TestDatabase.withStore(seeded: false) { (store: Store) async throws in
            // setup: Store.open already migrated
            // act
            let again = try await Migrations.run(on: store.database)
            // check
            #expect(again.isEmpty)
            #expect(try await Migrations.applied(on: store.database) == Migrations.all.map(\.number))
        }
    }

    /// Migration 11 on a registry as migration 10 left it: every resident keeps its id and row, the rows
    /// referring to residents (history, tags) are all still there and still enforced, and the ID index is
    /// the named unique index a first load can set aside.
    @Test func theNamedIDIndexKeepsEveryResidentAndWhatRefersToThem() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let db = store.database
            let isSQLite = db.kind == .sqlite
            // setup: history for a few residents (the demo has none), then migration 11 undone as its own
            // reverse (the UNIQUE column constraint back, the index gone)
            try await db.transaction { sql in
                try await sql.raw("""
                    INSERT INTO resident_events (resident_id, at, kind, source, actor)
                    SELECT id, '2026-11-29T08:00:00.000Z', 'created', 'test', 'test' FROM residents WHERE id % 100 = 7
                    """).run()
            }
            try await db.transaction(foreignKeys: false) { sql in
                try await sql.raw("DROP INDEX residents_id_index").run()
                if isSQLite {
                    try await NameResidentsIDIndex.rebuildSQLiteResidents(sql, replacing: "id_index TEXT NOT NULL,", with: "id_index TEXT NOT NULL UNIQUE,")
                } else {
                    try await sql.raw("ALTER TABLE residents ADD CONSTRAINT residents_id_index_key UNIQUE (id_index)").run()
                }
                try await sql.raw("DELETE FROM schema_migrations WHERE number = 11").run()
            }
            func counts() async throws -> [Int] {
                var out: [Int] = []
                for sql in ["SELECT COUNT(*) AS n FROM residents", "SELECT COUNT(*) AS n FROM resident_events", "SELECT COUNT(*) AS n FROM resident_tags",
                            "SELECT CAST(COALESCE(SUM(id), 0) AS BIGINT) AS n FROM residents"] {
                    out.append(try await db.reader.raw(SQLQueryString(sql)).first()!.decode(column: "n", as: Int.self))
                }
                return out
            }
            let before = try await counts()
            #expect(before[0] > 1_000 && before[1] > 0 && before[2] > 0)
            let uniqueIndexes = isSQLite
                ? "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'residents' ORDER BY name"
                : "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'residents' ORDER BY indexname"
            let names = { try await db.reader.raw(SQLQueryString(uniqueIndexes)).all().map { try $0.decode(column: "name", as: String.self) } }
            #expect(try await names().contains { $0 == "sqlite_autoindex_residents_1" || $0 == "residents_id_index_key" })

            // act
            #expect(try await Migrations.run(on: db) == [11])

            // check
            #expect(try await counts() == before)
            let after = try await names()
            #expect(after.contains("residents_id_index"))
            #expect(!after.contains { $0 == "sqlite_autoindex_residents_1" || $0 == "residents_id_index_key" })
            #expect(after.contains("residents_household") && after.contains("residents_phone") && after.contains("residents_building_status"))
            // Still unique, and the history still refers to (and goes with) its resident.
            let id = try await db.reader.raw("""
                SELECT MIN(e.resident_id) AS id FROM resident_events e WHERE NOT EXISTS (SELECT 1 FROM campaign_list c WHERE c.resident_id = e.resident_id)
                    AND NOT EXISTS (SELECT 1 FROM campaign_visits v WHERE v.resident_id = e.resident_id)
                """).first()!.decode(column: "id", as: Int64.self)
            let other = try await db.reader.raw("SELECT MIN(id) AS id FROM residents WHERE id <> \(bind: id)").first()!.decode(column: "id", as: Int64.self)
            await #expect(throws: (any Error).self) {
                try await db.transaction { sql in
                    try await sql.raw("""
                        UPDATE residents SET id_index = (SELECT id_index FROM residents WHERE id = \(bind: id)) WHERE id = \(bind: other)
                        """).run()
                }
            }
            await #expect(throws: (any Error).self) {
                try await db.transaction { sql in
                    try await sql.raw("INSERT INTO resident_events (resident_id, at, kind, source, actor) VALUES (-5, 'x', 'created', 'test', 'test')").run()
                }
            }
            // Its CHECKs hold (migration 1's sex, migration 4's status).
            for change in ["sex = 'x'", "status = 'nonsense'"] {
                await #expect(throws: (any Error).self) {
                    try await db.transaction { sql in try await sql.raw("UPDATE residents SET \(unsafeRaw: change) WHERE id = \(bind: other)").run() }
                }
            }
            let events = { try await db.reader.raw("SELECT COUNT(*) AS n FROM resident_events WHERE resident_id = \(bind: id)").first()!.decode(column: "n", as: Int.self) }
            #expect(try await events() > 0)
            try await db.transaction { sql in
                try await sql.raw("DELETE FROM residents WHERE id = \(bind: id)").run()
            }
            #expect(try await events() == 0) // ON DELETE CASCADE still refers to the rebuilt table
        }
    }

    /// Migration 12 on a registry as migration 11 left it (PostgreSQL; SQLite compares text as bytes
    /// already): the two blind-index columns and the indexes on them compare as bytes, and people are found
    /// by their digest as before.
    @Test(.enabled(if: TestDatabase.isPostgres)) func blindIndexesCompareAsBytes() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let db = store.database
            func collations() async throws -> [String] {
                try await db.reader.raw("""
                    SELECT a.attname || ' ' || COALESCE(c.collname, '-') AS d FROM pg_attribute a LEFT JOIN pg_collation c ON c.oid = a.attcollation
                    WHERE a.attrelid = 'residents'::regclass AND a.attname IN ('id_index', 'phone_index')
                    UNION ALL
                    SELECT x.relname || ' ' || COALESCE(c.collname, '-') FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
                    LEFT JOIN pg_collation c ON c.oid = i.indcollation[0] WHERE x.relname IN ('residents_id_index', 'residents_phone')
                    ORDER BY 1
                    """).all().map { try $0.decode(column: "d", as: String.self) }
            }
            let migrated = ["id_index C", "phone_index C", "residents_id_index C", "residents_phone C"]
            #expect(try await collations() == migrated)
            // setup: migration 12 undone (the database's own collation back)
            try await db.transaction { sql in
                try await sql.raw(#"ALTER TABLE residents ALTER COLUMN id_index TYPE TEXT COLLATE "default", ALTER COLUMN phone_index TYPE TEXT COLLATE "default""#).run()
                try await sql.raw("DELETE FROM schema_migrations WHERE number = 12").run()
            }
            #expect(try await collations() != migrated)
            // act
            #expect(try await Migrations.run(on: db) == [12])
            // check
            #expect(try await collations() == migrated)
            let someone = try await db.reader.raw("SELECT id, id_sealed FROM residents ORDER BY id LIMIT 1").first()!
            let number = try store.sealer.open(try someone.decode(column: "id_sealed", as: String.self))
            let found = try await db.reader.raw("SELECT id FROM residents WHERE id_index = \(bind: store.sealer.blindIndex(number))").all()
            #expect(try found.map { try $0.decode(column: "id", as: Int64.self) } == [try someone.decode(column: "id", as: Int64.self)])
        }
    }

    @Test func departmentsAreSeededByTheSchema() async throws {
        try await TestDatabase.withStore(seeded: false) { (store: Store) async throws in
            let rows = try await store.database.reader.select().column("name").from("departments").orderBy("name").all()
            let names = Set(try rows.map { try $0.decode(column: "name", as: String.self) })
            #expect(names == ["综治", "民政", "卫健", "住建", "消防", "教育", "人社", "公安"])
        }
    }

    @Test func badLocationsAreRefusedWithOneLine() throws {
        #expect(throws: StoreError.self) { try DatabaseLocation(parsing: "mysql://x@y/z") }
        #expect(throws: StoreError.self) { try DatabaseLocation(parsing: "postgres://:5432/db") }
        #expect(throws: StoreError.self) { try DatabaseLocation(parsing: "postgres://u@host/") }
        #expect(throws: StoreError.self) { try DatabaseLocation(parsing: "postgres://u@host:99999/db") }
        do {
            _ = try DatabaseLocation(parsing: "mysql://x@y/z")
        } catch {
            #expect(!error.message.contains("\n"))
            #expect(error.message.hasPrefix("数据库地址无效"))
        }
        #expect(try DatabaseLocation(parsing: "sqlite:/tmp/a.sqlite") == .sqlite(path: "/tmp/a.sqlite"))
        #expect(try DatabaseLocation(parsing: "data/county.sqlite") == .sqlite(path: "data/county.sqlite"))
    }

    @Test func unreachableServerFailsQuickly() async throws {
        // Port 9 (discard) on loopback: nothing listens there in the test environment.
        await #expect(throws: StoreError.self) {
            _ = try await Database.open(.postgres(url: "postgres://nobody@127.0.0.1:9/nothing"))
        }
    }

    @Test func missingDirectoryIsReported() async throws {
        await #expect(throws: StoreError.self) {
            _ = try await Database.open(.sqlite(path: "/nonexistent-\(UUID().uuidString)/g.sqlite"))
        }
    }
}
