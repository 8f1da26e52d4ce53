import Crypto
import Foundation
import GridworkCore
import SQLKit

/// Who did something, from where — the first columns of every audit entry.
public struct Actor: Sendable, Equatable {
    public let login: String
    public let role: String
    public let address: String

    public init(login: String, role: String, address: String) { self.login = login; self.role = role; self.address = address }
    public init(_ viewer: Viewer, address: String) { self.init(login: viewer.login, role: viewer.role.rawValue, address: address) }

    /// The operator at the server's own command line.
    public static let commandLine = Actor(login: "cli", role: "system", address: "local")
    /// Someone not (yet) logged in.
    public static func anonymous(_ address: String) -> Actor { Actor(login: "-", role: "anonymous", address: address) }
}

public struct AuditEntry: Sendable, Equatable, Codable {
    public let id: Int64
    public let at: String
    public let actor: String
    public let role: String
    public let action: String
    public let target: String
    public let detail: String
    public let address: String
}

/// An append-only log. Each entry's hash covers the previous entry's hash,
/// so editing or deleting an entry breaks the chain from there on.
public enum AuditLog {
    /// Appends inside the caller's transaction, so the entry lands with the change it records.
    public static func append(_ db: any SQLDatabase, kind: DatabaseKind, actor: Actor, action: String,
                              target: String, detail: String = "") async throws {
        if kind == .postgres {
            // Two writers must not both chain onto the same last entry.
            try await db.raw("SELECT pg_advisory_xact_lock(4305240002)").run()
        }
        let last = try await db.raw("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").first()
        let prev = try last?.decode(column: "hash", as: String.self) ?? genesis
        let at = Timestamp.now()
        let hash = digest(prev: prev, at: at, actor: actor.login, role: actor.role, action: action, target: target,
                          detail: detail, address: actor.address)
        try await db.insert(into: "audit_log")
            .columns("at", "actor", "role", "action", "target", "detail", "address", "prev_hash", "hash")
            .values(SQLBind(at), SQLBind(actor.login), SQLBind(actor.role), SQLBind(action), SQLBind(target),
                    SQLBind(detail), SQLBind(actor.address), SQLBind(prev), SQLBind(hash))
            .run()
    }

    static let genesis = String(repeating: "0", count: 64)

    static func digest(prev: String, at: String, actor: String, role: String, action: String, target: String,
                       detail: String, address: String) -> String {
        // Unit separators keep "ab"+"c" and "a"+"bc" apart.
        let text = [prev, at, actor, role, action, target, detail, address].joined(separator: "\u{1F}")
        return SHA256.hash(data: Data(text.utf8)).hex
    }

    public struct Verification: Sendable, Equatable {
        public let entries: Int
        /// The id of the first entry whose chain does not hold, if any.
        public let brokenAt: Int64?
    }

    /// Recomputes the whole chain.
    public static func verify(_ database: Database) async throws -> Verification {
        var prev = genesis
        var count = 0
        let rows = try await database.reader.raw("""
            SELECT id, at, actor, role, action, target, detail, address, prev_hash, hash FROM audit_log ORDER BY id
            """).all()
        for r in rows {
            count += 1
            let id = try r.decode(column: "id", as: Int64.self)
            let expected = digest(prev: prev, at: try r.decode(column: "at", as: String.self),
                                  actor: try r.decode(column: "actor", as: String.self), role: try r.decode(column: "role", as: String.self),
                                  action: try r.decode(column: "action", as: String.self), target: try r.decode(column: "target", as: String.self),
                                  detail: try r.decode(column: "detail", as: String.self), address: try r.decode(column: "address", as: String.self))
            let storedPrev = try r.decode(column: "prev_hash", as: String.self)
            let stored = try r.decode(column: "hash", as: String.self)
            if storedPrev != prev || stored != expected { return Verification(entries: count, brokenAt: id) }
            prev = stored
        }
        return Verification(entries: count, brokenAt: nil)
    }

    /// Newest first; `query` matches actor, action or target.
    public static func search(_ database: Database, query: String?, limit: Int = 100) async throws -> [AuditEntry] {
        var q = database.reader.select()
            .columns("id", "at", "actor", "role", "action", "target", "detail", "address")
            .from("audit_log").orderBy("id", .descending).limit(limit)
        if let query, !query.isEmpty {
            q = q.where { w in
                w.where("actor", .equal, query).orWhere("action", .equal, query).orWhere("target", .equal, query)
            }
        }
        return try await q.all(decoding: AuditEntry.self)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
