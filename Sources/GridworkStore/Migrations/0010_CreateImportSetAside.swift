import SQLKit

/// What a first load of residents has set aside (indexes, and on PostgreSQL foreign keys), each with the
/// statement that builds it again, written in the same transaction as the drop (see `ResidentImporter.SetAside`).
struct CreateImportSetAside: Migration {
    let number = 10
    let name = "create_import_set_aside"

    func prepare(on db: any SQLDatabase, dialect d: Dialect) async throws {
        try await db.raw("CREATE TABLE import_set_aside (name TEXT PRIMARY KEY, restore TEXT NOT NULL)").run()
    }
}
