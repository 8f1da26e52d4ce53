import SQLKit

/// On PostgreSQL the residents' blind indexes (hex digests of the ID number and the phone) compare as bytes
/// (`COLLATE "C"`) rather than by the database's locale. A county's server is often created with a
/// `zh_CN.UTF-8` or `C.UTF-8` default, where every comparison of two digests goes through the locale's
/// collation and sorting cannot use abbreviated keys: building the ID index on 1.01 M residents took 2.1 s
/// that way and 0.8 s as bytes (the phone index 1.3 s and 0.7 s), and each look-up by digest descends the
/// index the same way. The digests are ASCII hex, so equality and every use of them are unchanged.
///
/// PostgreSQL rebuilds the two indexes on these columns; the rows are not rewritten. SQLite already
/// compares text as bytes (its `BINARY` collation): nothing to do there.
struct CompareBlindIndexesAsBytes: Migration {
    let number = 12
    let name = "compare_blind_indexes_as_bytes"

    func prepare(on db: any SQLDatabase, dialect d: Dialect) async throws {
        guard d.kind == .postgres else { return }
        try await db.raw(#"ALTER TABLE residents ALTER COLUMN id_index TYPE TEXT COLLATE "C", ALTER COLUMN phone_index TYPE TEXT COLLATE "C""#).run()
    }
}
