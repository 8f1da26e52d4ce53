import SQLKit

/// What changed about a resident, when, by whom and from which source; and
/// the progress of each import, so an interrupted one resumes.
struct CreateRegistryHistory: Migration {
    let number = 3
    let name = "create_registry_history"

    func prepare(on db: any SQLDatabase, dialect d: Dialect) async throws {
        let statements = [
            """
            CREATE TABLE resident_events (
                id \(d.primaryKey),
                resident_id \(d.bigint) NOT NULL REFERENCES residents(id) ON DELETE CASCADE,
                at TEXT NOT NULL,
                kind TEXT NOT NULL,
                field TEXT,
                old_value TEXT,
                new_value TEXT,
                source TEXT NOT NULL,
                actor TEXT NOT NULL)
            """,
            "CREATE INDEX resident_events_resident ON resident_events(resident_id)",
            """
            CREATE TABLE import_runs (
                id \(d.primaryKey),
                file_name TEXT NOT NULL,
                file_digest TEXT NOT NULL,
                actor TEXT NOT NULL,
                rows_done INTEGER NOT NULL DEFAULT 0,
                created INTEGER NOT NULL DEFAULT 0,
                updated INTEGER NOT NULL DEFAULT 0,
                rejected INTEGER NOT NULL DEFAULT 0,
                started_at TEXT NOT NULL,
                finished_at TEXT)
            """,
            "CREATE INDEX import_runs_digest ON import_runs(file_digest)",
        ]
        for sql in statements { try await db.raw(SQLQueryString(sql)).run() }
    }
}
