import SQLKit

/// The figures' running sums (see `CaseTallies`), filled from the matters already on record.
struct CreateCaseTallies: Migration {
    let number = 9
    let name = "create_case_tallies"

    func prepare(on db: any SQLDatabase, dialect d: Dialect) async throws {
        try await db.raw("\(unsafeRaw: CaseTallies.createTable(d))").run()
        try await CaseTallies.add(db, sign: 1, where: "true")
    }
}
