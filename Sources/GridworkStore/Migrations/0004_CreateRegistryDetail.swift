import SQLKit

/// The registry beyond who lives where: how each dwelling is used, whether a
/// person still lives here (moves and deaths keep the record and its history),
/// and the organisations in the community.
struct CreateRegistryDetail: Migration {
    let number = 4
    let name = "create_registry_detail"

    func prepare(on db: any SQLDatabase, dialect d: Dialect) async throws {
        let statements = [
            """
            ALTER TABLE households ADD COLUMN occupancy TEXT NOT NULL DEFAULT 'owner_occupied'
                CHECK (occupancy IN ('owner_occupied','rented','vacant'))
            """,
            """
            ALTER TABLE residents ADD COLUMN status TEXT NOT NULL DEFAULT 'present'
                CHECK (status IN ('present','moved_out','deceased'))
            """,
            // Counts per building read only people present: one index answers them without touching rows.
            "CREATE INDEX residents_building_status ON residents(building_id, status)",
            "DROP INDEX residents_building",
            """
            CREATE TABLE organisations (
                id \(d.primaryKey),
                grid_id \(d.bigint) NOT NULL REFERENCES regions(id),
                building_id \(d.bigint) REFERENCES buildings(id),
                name TEXT NOT NULL,
                credit_code TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL,
                address TEXT NOT NULL,
                contact TEXT NOT NULL,
                contact_phone TEXT NOT NULL,
                registered_at TEXT NOT NULL,
                registered_by TEXT NOT NULL)
            """,
            "CREATE INDEX organisations_grid ON organisations(grid_id)",
        ]
        for sql in statements { try await db.raw(SQLQueryString(sql)).run() }
    }
}
