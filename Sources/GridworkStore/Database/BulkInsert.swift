import SQLKit

/// Multi-row INSERTs within the bind limits of each database
/// (SQLite takes 32,766 bound values per statement, PostgreSQL 65,535).
enum BulkInsert {
    static func rows(_ db: any SQLDatabase, kind: DatabaseKind, table: String, columns: [String], _ rows: [[any Encodable & Sendable]]) async throws {
        let maxBinds = kind == .sqlite ? 32_000 : 65_000
        let perStatement = max(1, maxBinds / columns.count)
        var start = 0
        while start < rows.count {
            let end = min(start + perStatement, rows.count)
            let insert = db.insert(into: table).columns(columns)
            for row in rows[start..<end] { insert.values(row.map { SQLBind($0) }) }
            try await insert.run()
            start = end
        }
    }
}
