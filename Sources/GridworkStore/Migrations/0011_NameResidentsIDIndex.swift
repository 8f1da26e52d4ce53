import SQLKit

/// The residents' unique ID-number index becomes a named index (`residents_id_index`) instead of a
/// `UNIQUE` column constraint, so that a first load can set it aside like the other indexes and build it
/// once at the end: a million random inserts into it were the largest single cost of a first load.
///
/// PostgreSQL drops the constraint and creates the index. SQLite cannot drop a column's own `UNIQUE`, so
/// the table is rebuilt the way SQLite documents it: a copy of its definition without it, every row
/// copied with its id, the old table dropped and the copy renamed (with foreign keys unenforced, so the
/// tables referring to residents keep their rows), its indexes made again, then the foreign keys of residents and of the tables referring to it checked.
struct NameResidentsIDIndex: Migration {
    let number = 11
    let name = "name_residents_id_index"
    var rebuildsTables: Bool { true }

    func prepare(on db: any SQLDatabase, dialect d: Dialect) async throws {
        switch d.kind {
        case .postgres:
            try await db.raw("ALTER TABLE residents DROP CONSTRAINT residents_id_index_key").run()
        case .sqlite:
            try await Self.rebuildSQLiteResidents(db, replacing: "id_index TEXT NOT NULL UNIQUE", with: "id_index TEXT NOT NULL")
        }
        try await db.raw("CREATE UNIQUE INDEX residents_id_index ON residents(id_index)").run()
    }

    /// Rebuilds SQLite's residents table with one piece of its column definitions replaced, the way SQLite
    /// documents it: a copy made, every row copied with its id, the old table dropped and the copy renamed,
    /// its indexes made again, then the foreign keys of residents and of every table referring to it checked
    /// (an old orphan elsewhere is not this rebuild's). Runs inside `Database.transaction(foreignKeys: false)`.
    static func rebuildSQLiteResidents(_ db: any SQLDatabase, replacing old: String, with new: String) async throws {
        guard let table = try await db.raw("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'residents'").first(),
              case let definition = try table.decode(column: "sql", as: String.self),
              // After a rename SQLite keeps the name quoted: the columns are taken from the first parenthesis.
              let columns = definition.firstIndex(of: "(").map({ definition[$0...] }), columns.contains(old)
        else { throw StoreError.conflict("residents 表的定义与预期不同,无法重建 (the residents table is not as expected: no “\(old)”)") }
        let indexes = try await db.raw("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'residents' AND sql IS NOT NULL")
            .all().map { try $0.decode(column: "sql", as: String.self) }
        let copy = "CREATE TABLE residents_rebuilt " + columns.replacingOccurrences(of: old, with: new)
        for sql in [copy, "INSERT INTO residents_rebuilt SELECT * FROM residents", "DROP TABLE residents",
                    "ALTER TABLE residents_rebuilt RENAME TO residents"] + indexes {
            try await db.raw(SQLQueryString(sql)).run()
        }
        let referring = try await db.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%REFERENCES residents(%'")
            .all().map { try $0.decode(column: "name", as: String.self) }
        for table in ["residents"] + referring {
            if try await db.raw(SQLQueryString("PRAGMA foreign_key_check(\(table))")).first() != nil {
                throw StoreError.conflict("重建 residents 后外键不一致 (a foreign key does not hold after rebuilding residents): \(table)")
            }
        }
    }
}
