import GridworkCore
import SQLKit

/// Running sums of the loop's figures per grid, assignee and Beijing day of reporting, kept in the same
/// transaction as every change to a matter. The county's figures for a year then add up one row per grid and
/// day instead of reading a million matters; a person's figures add up their own rows.
///
/// Each matter counts twice: once under its assignee (`''` when nobody has it yet) and once under `*`, the
/// grid's row for every assignee, which is what the figures per area read.
public enum CaseTallies {
    /// The assignee key of a grid's row for all assignees.
    static let everyone = "*"

    /// What one matter adds to its row. These are the figures' definitions: a change here is a new migration
    /// that rebuilds the table.
    static let measures: [(column: String, expression: String)] = [
        ("reported", "1"),
        ("accepted", "CASE WHEN c.accepted_at IS NOT NULL THEN 1 ELSE 0 END"),
        ("handled", "CASE WHEN c.done_at IS NOT NULL THEN 1 ELSE 0 END"),
        ("handled_on_time", "CASE WHEN c.done_at IS NOT NULL AND c.handled_on_time = 1 THEN 1 ELSE 0 END"),
        ("closed", "CASE WHEN c.state = 'closed' THEN 1 ELSE 0 END"),
        ("closed_on_time", "CASE WHEN c.state = 'closed' AND c.closed_on_time = 1 THEN 1 ELSE 0 END"),
        ("reworked", "CASE WHEN c.state = 'closed' AND c.reworks > 0 THEN 1 ELSE 0 END"),
        ("rated", "CASE WHEN c.rating IS NOT NULL THEN 1 ELSE 0 END"),
        ("satisfied", "CASE WHEN c.rating >= 4 THEN 1 ELSE 0 END"),
        ("handling", "CASE WHEN c.done_at IS NOT NULL AND c.dispatched_at IS NOT NULL THEN c.done_at - c.dispatched_at ELSE 0 END"),
    ]

    /// The Beijing day (days since 1970-01-01) of an instant column.
    static func day(_ column: String) -> String { "(\(column) + \(WorkCalendar.offset)) / 86400" }

    static func createTable(_ d: Dialect) -> String {
        """
        CREATE TABLE case_tallies (
            grid_id \(d.bigint) NOT NULL REFERENCES regions(id),
            assignee TEXT NOT NULL,
            day INTEGER NOT NULL,
            \(measures.map { "\($0.column) \(d.bigint) NOT NULL DEFAULT 0" }.joined(separator: ",\n    ")),
            PRIMARY KEY (grid_id, assignee, day))
        """
    }

    /// On PostgreSQL, takes each grid's tally lock for the rest of the transaction, in ascending grid order,
    /// before a transaction touches the grids' rows: two transactions (a step and a batch of reports, say)
    /// then never hold rows of one grid in opposite orders and deadlock. SQLite has one writer and needs none.
    static func lock(_ db: any SQLDatabase, grids: [Int64]) async throws {
        guard db.dialect.name == "postgresql", !grids.isEmpty else { return }
        let ordered = Array(Set(grids)).sorted()
        // unnest yields the array's order, and each row's lock is taken as that row is produced.
        try await db.raw("SELECT pg_advisory_xact_lock(\(bind: lockBase) + g) FROM unnest(\(bind: ordered)) AS t(g)").run()
    }

    /// The same for the grid of one matter.
    static func lock(_ db: any SQLDatabase, gridOf caseID: Int64) async throws {
        guard db.dialect.name == "postgresql" else { return }
        try await db.raw("SELECT pg_advisory_xact_lock(\(bind: lockBase) + grid_id) FROM cases WHERE id = \(bind: caseID)").run()
    }

    /// The grid's lock key is this plus the grid's id (migrations use 4305240001).
    static let lockBase: Int64 = 4_305_240_002 * 1_000_000

    /// Adds (`sign` 1) or takes away (`sign` -1) what the matters matching `condition` (over `cases c`) count for.
    /// Called with -1 before a matter's row changes and +1 after, so the sums follow every step.
    public static func add(_ db: any SQLDatabase, sign: Int, where condition: SQLQueryString) async throws {
        let columns = measures.map(\.column)
        func select(_ assignee: String) -> String {
            "SELECT c.grid_id, \(assignee) AS assignee, \(day("c.reported_at")) AS day, "
                + measures.map { "\(sign) * (\($0.expression)) AS \($0.column)" }.joined(separator: ", ")
        }
        let insert = "INSERT INTO case_tallies (grid_id, assignee, day, \(columns.joined(separator: ", ")))"
            + " SELECT grid_id, assignee, day, \(columns.map { "SUM(\($0))" }.joined(separator: ", ")) FROM ("
        let perAssignee = select("COALESCE(c.assignee, '')") + " FROM cases c WHERE "
        let perGrid = " UNION ALL " + select("'\(everyone)'") + " FROM cases c WHERE "
        let upsert = ") t WHERE true GROUP BY grid_id, assignee, day ON CONFLICT (grid_id, assignee, day) DO UPDATE SET "
            + columns.map { "\($0) = case_tallies.\($0) + excluded.\($0)" }.joined(separator: ", ")
        let sql: SQLQueryString = "\(unsafeRaw: insert)\(unsafeRaw: perAssignee)\(condition)\(unsafeRaw: perGrid)\(condition)\(unsafeRaw: upsert)"
        try await db.raw(sql).run()
    }

    /// Counts the sums again from the matters themselves, in one transaction that holds every grid's lock (so
    /// steps and reports wait for it rather than interleave). For repairs: after matters were changed by hand in
    /// the database, or by a server older than the sums. Returns the rows written.
    @discardableResult
    public static func rebuild(_ database: Database) async throws -> Int {
        try await database.transaction { db in
            let grids = try await db.raw("SELECT id FROM regions WHERE level = 'grid'").all().map { try $0.decode(column: "id", as: Int64.self) }
            try await lock(db, grids: grids)
            try await db.raw("DELETE FROM case_tallies").run()
            try await add(db, sign: 1, where: "true")
            return try await db.raw("SELECT COUNT(*) AS n FROM case_tallies").first()!.decode(column: "n", as: Int.self)
        }
    }

    /// The sums over `[from, to]` (Beijing days, inclusive) for the grids under `code`, per grid (`byArea`) or per assignee.
    static func sums(_ db: any SQLDatabase, under code: RegionCode, from: CivilDate, to: CivilDate, byArea: Bool) async throws -> [any SQLRow] {
        let key: SQLQueryString = byArea ? "t.grid_id" : "t.assignee"
        let who: SQLQueryString = byArea ? "t.assignee = \(bind: everyone)" : "t.assignee <> \(bind: everyone)"
        let sums = measures.map { ", CAST(SUM(t.\($0.column)) AS BIGINT) AS \($0.column)" }.joined()
        let sql: SQLQueryString = """
            SELECT \(key) AS k\(unsafeRaw: sums) FROM case_tallies t
            WHERE t.grid_id IN (SELECT id FROM regions WHERE level = 'grid' AND \(NetStore.subtree("code", code)))
              AND \(who) AND t.day >= \(bind: from.daysSinceEpoch) AND t.day <= \(bind: to.daysSinceEpoch)
            GROUP BY \(key)
            """
        return try await db.raw(sql).all()
    }
}
