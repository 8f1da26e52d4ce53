import Foundation
import NIOCore
import SQLKit
import VaporCSQLite

/// Multi-row INSERTs within the bind limits of each database
/// (SQLite takes 32,766 bound values per statement, PostgreSQL 65,535).
public enum BulkInsert {
    public static func rows(_ db: any SQLDatabase, kind: DatabaseKind, table: String, columns: [String], _ rows: [[any Encodable & Sendable]]) async throws {
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

/// A value bound to a raw statement.
enum RawValue: Sendable {
    case int(Int64)
    case text(String)
    case null

    static func text(_ s: String?) -> RawValue { s.map { .text($0) } ?? .null }
}

/// A plain `sqlite3` connection of its own, for bulk writes: prepared
/// statements are compiled once and executed per row with typed binds, which
/// costs a fraction of building multi-row INSERTs through SQLKit (where every
/// bind is boxed and the statement text is parsed again for every batch).
///
/// Calls block; run them off the cooperative pool (the importer uses
/// `NIOThreadPool`). Used by one task at a time.
final class RawSQLite: @unchecked Sendable {
    private var db: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(path: String, cacheKiB: Int = 65_536) throws {
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_URI
        let rc = sqlite_nio_sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK else {
            let message = db.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "open failed"
            sqlite_nio_sqlite3_close(db)
            db = nil
            throw StoreError.unreachable("sqlite:\(path)", reason: message)
        }
        // The same settings as the app's own connections (see Database.openSQLite).
        try exec("PRAGMA busy_timeout = 10000")
        try exec("PRAGMA journal_mode = WAL")
        try exec("PRAGMA foreign_keys = ON")
        try exec("PRAGMA synchronous = NORMAL")
        try exec("PRAGMA cache_size = -\(cacheKiB)")
        // Bulk loads rewrite the same index pages commit after commit: checkpoint less often
        // (the WAL grows to ~40 MB, and the latest copy of each page is copied once).
        try exec("PRAGMA wal_autocheckpoint = 10000")
    }

    deinit { close() }

    func close() {
        for s in statements.values { sqlite_nio_sqlite3_finalize(s) }
        statements = [:]
        if let db { sqlite_nio_sqlite3_close(db) }
        db = nil
    }

    private func error(_ rc: Int32) -> any Error {
        let message = db.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "closed"
        return StoreError.invalid(field: "SQLite", reason: "\(message) (\(rc))")
    }

    /// Runs statements without binds or results.
    func exec(_ sql: String) throws {
        let rc = sqlite_nio_sqlite3_exec(db, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw error(rc) }
    }

    private func statement(_ sql: String) throws -> OpaquePointer {
        if let s = statements[sql] { return s }
        var s: OpaquePointer?
        let rc = sqlite_nio_sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &s, nil)
        guard rc == SQLITE_OK, let s else { throw error(rc) }
        statements[sql] = s
        return s
    }

    @inline(__always) private func bind(_ s: OpaquePointer, _ i: Int32, _ v: RawValue) {
        switch v {
        case .int(let n): sqlite_nio_sqlite3_bind_int64(s, i, n)
        case .null: sqlite_nio_sqlite3_bind_null(s, i)
        case .text(var t):
            t.withUTF8 { b in
                b.withMemoryRebound(to: CChar.self) { c in
                    // A nil pointer would bind NULL: an empty text is bound from a static empty C string.
                    if let base = c.baseAddress, c.count > 0 {
                        _ = sqlite_nio_sqlite3_bind_text64(s, i, base, UInt64(c.count), Self.transient, UInt8(SQLITE_UTF8))
                    } else {
                        _ = sqlite_nio_sqlite3_bind_text64(s, i, "", 0, Self.transient, UInt8(SQLITE_UTF8))
                    }
                }
            }
        }
    }

    /// Executes a (cached) statement once per row of binds.
    func run(_ sql: String, _ rows: some Sequence<[RawValue]>) throws {
        let s = try statement(sql)
        for row in rows {
            for (i, v) in row.enumerated() { bind(s, Int32(i + 1), v) }
            let rc = sqlite_nio_sqlite3_step(s)
            sqlite_nio_sqlite3_reset(s)
            guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw error(rc) }
        }
    }

    /// Executes a (cached) statement with one row of binds, filling the binds in place (no array per row).
    func run(_ sql: String, count: Int, binds: (_ bind: (Int32, RawValue) -> Void) -> Void) throws {
        let s = try statement(sql)
        binds { i, v in bind(s, i, v) }
        let rc = sqlite_nio_sqlite3_step(s)
        sqlite_nio_sqlite3_reset(s)
        sqlite_nio_sqlite3_clear_bindings(s)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw error(rc) }
    }


    /// Runs a (cached) query, handing each result row to `row` while it is the current one.
    func query(_ sql: String, _ binds: [RawValue] = [], row: (Columns) throws -> Void) throws {
        let s = try statement(sql)
        defer { sqlite_nio_sqlite3_reset(s); sqlite_nio_sqlite3_clear_bindings(s) }
        for (i, v) in binds.enumerated() { bind(s, Int32(i + 1), v) }
        while true {
            let rc = sqlite_nio_sqlite3_step(s)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw error(rc) }
            try row(Columns(statement: s))
        }
    }

    /// The current row of a query, read by column number (from 0).
    struct Columns {
        fileprivate let statement: OpaquePointer

        func int(_ column: Int32) -> Int64 { sqlite_nio_sqlite3_column_int64(statement, column) }

        /// Nil for NULL.
        func text(_ column: Int32) -> String? {
            guard let bytes = sqlite_nio_sqlite3_column_text(statement, column) else { return nil }
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
        }
    }

    /// The first column of the first row as an integer (queries of one row: `LIMIT 1`, an aggregate).
    func int(_ sql: String, _ binds: [RawValue] = []) throws -> Int64? {
        var first: Int64?
        try query(sql, binds) { c in first = first ?? c.int(0) }
        return first
    }

    private(set) var inTransaction = false

    /// Runs `body` inside the open transaction (beginning one if none is open); on failure rolls the whole transaction back.
    func within(_ body: () throws -> Void) throws {
        if !inTransaction { try exec("BEGIN IMMEDIATE"); inTransaction = true }
        do { try body() } catch {
            inTransaction = false
            try? exec("ROLLBACK")
            throw error
        }
    }

    /// Commits the open transaction, if any.
    func commit() throws {
        guard inTransaction else { return }
        inTransaction = false
        do { try exec("COMMIT") } catch { try? exec("ROLLBACK"); throw error }
    }

    /// Rolls the open transaction back, if any.
    func rollback() {
        guard inTransaction else { return }
        inTransaction = false
        try? exec("ROLLBACK")
    }

    /// Runs `body` in one `BEGIN IMMEDIATE` transaction: all of it lands, or none of it.
    func transaction<R>(_ body: () throws -> R) throws -> R {
        try exec("BEGIN IMMEDIATE")
        do {
            let r = try body()
            try exec("COMMIT")
            return r
        } catch {
            try? exec("ROLLBACK")
            throw error
        }
    }
}

/// Rows in PostgreSQL's COPY text format (tab-separated, `\N` for NULL), built into one buffer.
struct CopyText {
    var buffer: ByteBuffer

    init(capacity: Int = 1 << 16) { buffer = ByteBufferAllocator().buffer(capacity: capacity) }

    mutating func field(_ value: Int64) {
        buffer.writeString(String(value))
        buffer.writeInteger(UInt8(ascii: "\t"))
    }

    mutating func field(_ value: String?) {
        guard var value else { buffer.writeStaticString("\\N\t"); return }
        value.withUTF8 { bytes in
            // Most values need no escaping: write them in one go.
            if !bytes.contains(where: { $0 == 0x5C || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }) {
                buffer.writeBytes(bytes)
            } else {
                for b in bytes {
                    switch b {
                    case 0x5C: buffer.writeStaticString("\\\\")
                    case 0x09: buffer.writeStaticString("\\t")
                    case 0x0A: buffer.writeStaticString("\\n")
                    case 0x0D: buffer.writeStaticString("\\r")
                    default: buffer.writeInteger(b)
                    }
                }
            }
        }
        buffer.writeInteger(UInt8(ascii: "\t"))
    }

    /// Ends a row (replacing the last field's tab).
    mutating func endRow() {
        buffer.moveWriterIndex(to: buffer.writerIndex - 1)
        buffer.writeInteger(UInt8(ascii: "\n"))
    }
}
