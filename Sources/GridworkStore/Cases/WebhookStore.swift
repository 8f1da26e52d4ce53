import Crypto
import Foundation
import GridworkCore
import SQLKit

/// A grid's outbound hook.
public struct Webhook: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A WeChat Work (企业微信) group robot: `{"msgtype":"text","text":{"content":…}}`.
        case wecom
        /// Generic JSON for an SMS gateway or any system, signed with HMAC-SHA256 of the body.
        case signed
        public var label: String { self == .wecom ? "企业微信群机器人" : "签名JSON(短信网关等)" }
    }
    public let id: Int64
    public let grid: RegionCode
    public let gridName: String
    public let kind: Kind
    public let url: String
    public let active: Bool
    public let pending: Int
    public let dead: Int
}

/// A delivery that gave up (the dead-letter list).
public struct DeadDelivery: Sendable, Equatable {
    public let id: Int64
    public let url: String
    public let event: String
    public let text: String
    public let attempts: Int
    public let lastError: String
    public let at: Int64
}

/// One delivery to make now: what to send where, already shaped for the hook's kind.
public struct DueDelivery: Sendable {
    public let id: Int64
    public let url: String
    public let body: Data
    public let headers: [String: String]
    public let kind: Webhook.Kind
}

/// The grids' hooks and their delivery queue. Messages carry the matter's title, place and state —
/// never a resident's name, ID number or phone — since they leave the county's server.
public struct WebhookStore: Sendable {
    let database: Database
    let sealer: Sealer

    /// Attempts before a delivery is given up and listed as dead.
    public static let maxAttempts = 8


    public func add(grid: RegionCode, kind: Webhook.Kind, url: String, secret: String?, viewer: Viewer, address: String) async throws -> Int64 {
        guard Policy.netSupervisors.contains(viewer.role), grid.level == .grid, viewer.covers(grid) else {
            throw StoreError.notFound(what: "网格 (grid)", key: grid.value)
        }
        guard url.count <= 500, let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "https" || scheme == "http",
              parsed.host?.isEmpty == false else {
            throw StoreError.invalid(field: "地址 (url)", reason: "应为 https:// 开头的完整地址 (a full http(s) URL)")
        }
        if kind == .signed, (secret ?? "").count < 16 {
            throw StoreError.invalid(field: "密钥 (secret)", reason: "签名密钥至少16位 (at least 16 characters)")
        }
        let kindDB = database.kind, sealer = sealer
        return try await database.transaction { db in
            guard let gridID = try await db.raw("SELECT id FROM regions WHERE code = \(bind: grid.value) AND level = 'grid'").first()?
                .decode(column: "id", as: Int64.self) else { throw StoreError.notFound(what: "网格 (grid)", key: grid.value) }
            let id = try await db.raw("""
                INSERT INTO webhooks (grid_id, kind, url, secret, created_by, created_at)
                VALUES (\(bind: gridID), \(bind: kind.rawValue), \(bind: url), \(bind: secret.map { sealer.seal($0) }), \(bind: viewer.login),
                        \(bind: Clock.now()))
                RETURNING id
                """).first()!.decode(column: "id", as: Int64.self)
            try await AuditLog.append(db, kind: kindDB, actor: Actor(viewer, address: address), action: "webhook.add", target: "webhook:\(id)",
                                      detail: "\(grid) \(kind.rawValue) \(parsed.host ?? "")")
            return id
        }
    }

    /// Hooks of grids in the viewer's scope, with how many deliveries wait and how many gave up.
    public func list(_ viewer: Viewer) async throws -> [Webhook] {
        guard Policy.netSupervisors.contains(viewer.role) else { return [] }
        return try await database.reader.raw("""
            SELECT w.id, w.kind, w.url, w.active, g.code, g.name,
                   (SELECT COUNT(*) FROM deliveries d WHERE d.webhook_id = w.id AND d.state = 'pending') AS pending,
                   (SELECT COUNT(*) FROM deliveries d WHERE d.webhook_id = w.id AND d.state = 'dead') AS dead
            FROM webhooks w JOIN regions g ON g.id = w.grid_id WHERE \(NetStore.subtree("g.code", viewer.scope)) ORDER BY g.code, w.id
            """).all().map { r in
            Webhook(id: try r.decode(column: "id", as: Int64.self), grid: try RegionCode(r.decode(column: "code", as: String.self)),
                    gridName: try r.decode(column: "name", as: String.self),
                    kind: Webhook.Kind(rawValue: try r.decode(column: "kind", as: String.self)) ?? .signed,
                    url: try r.decode(column: "url", as: String.self), active: try r.decode(column: "active", as: Int.self) != 0,
                    pending: try r.decode(column: "pending", as: Int.self), dead: try r.decode(column: "dead", as: Int.self))
        }
    }

    public func dead(_ viewer: Viewer, limit: Int = 100) async throws -> [DeadDelivery] {
        guard Policy.netSupervisors.contains(viewer.role) else { return [] }
        return try await database.reader.raw("""
            SELECT d.id, w.url, d.event, d.text, d.attempts, d.last_error, d.created_at FROM deliveries d
            JOIN webhooks w ON w.id = d.webhook_id JOIN regions g ON g.id = w.grid_id
            WHERE d.state = 'dead' AND \(NetStore.subtree("g.code", viewer.scope)) ORDER BY d.id DESC LIMIT \(bind: limit)
            """).all().map { r in
            DeadDelivery(id: try r.decode(column: "id", as: Int64.self), url: try r.decode(column: "url", as: String.self),
                         event: try r.decode(column: "event", as: String.self), text: try r.decode(column: "text", as: String.self),
                         attempts: try r.decode(column: "attempts", as: Int.self), lastError: try r.decode(column: "last_error", as: String?.self) ?? "",
                         at: try r.decode(column: "created_at", as: Int64.self))
        }
    }

    /// Puts a dead delivery back in the queue, or switches a hook off — within the viewer's scope.
    public func retry(delivery id: Int64, viewer: Viewer) async throws {
        guard Policy.netSupervisors.contains(viewer.role), try await database.reader.raw("""
            SELECT d.id FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN regions g ON g.id = w.grid_id
            WHERE d.id = \(bind: id) AND d.state = 'dead' AND \(NetStore.subtree("g.code", viewer.scope))
            """).first() != nil else { throw StoreError.notFound(what: "推送 (delivery)", key: String(id)) }
        try await database.transaction { db in
            try await db.raw("UPDATE deliveries SET state = 'pending', attempts = 0, next_at = \(bind: Clock.now()) WHERE id = \(bind: id)").run()
        }
    }

    public func disable(_ id: Int64, viewer: Viewer, address: String) async throws {
        guard Policy.netSupervisors.contains(viewer.role), try await database.reader.raw("""
            SELECT w.id FROM webhooks w JOIN regions g ON g.id = w.grid_id WHERE w.id = \(bind: id) AND \(NetStore.subtree("g.code", viewer.scope))
            """).first() != nil else { throw StoreError.notFound(what: "推送地址 (webhook)", key: String(id)) }
        let kind = database.kind
        try await database.transaction { db in
            try await db.raw("UPDATE webhooks SET active = 0 WHERE id = \(bind: id)").run()
            try await db.raw("UPDATE deliveries SET state = 'dead', last_error = '已停用 (disabled)' WHERE webhook_id = \(bind: id) AND state = 'pending'").run()
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "webhook.disable", target: "webhook:\(id)")
        }
    }

    /// Queues a message about a matter to every active hook of its grid, inside the caller's transaction.
    static func enqueue(_ db: any SQLDatabase, caseID: Int64, event: String, text: String, at: Int64) async throws {
        try await enqueue(db, [(caseID, event, text, at)])
    }

    /// Queues one message per active webhook of each matter's grid, for many matters in one statement.
    static func enqueue(_ db: any SQLDatabase, _ messages: [(caseID: Int64, event: String, text: String, at: Int64)]) async throws {
        guard !messages.isEmpty else { return }
        let values = CaseIntake.joined(messages.map { "(\(bind: $0.caseID), \(bind: $0.event), \(bind: $0.text), \(bind: $0.at))" })
        try await db.raw("""
            WITH m (case_id, event, text, at) AS (VALUES \(values))
            INSERT INTO deliveries (webhook_id, case_id, event, text, next_at, created_at)
            SELECT w.id, c.id, m.event, m.text, m.at, m.at
            FROM m JOIN cases c ON c.id = m.case_id JOIN webhooks w ON w.grid_id = c.grid_id WHERE w.active = 1
            """).run()
    }

    /// Claims deliveries that are due, each for `lease` seconds, so several processes never send one twice at once.
    public func claimDue(now: Int64 = Clock.now(), limit: Int = 50, lease: Int64 = 120) async throws -> [DueDelivery] {
        let rows = try await database.reader.raw("""
            SELECT d.id, d.next_at, d.event, d.text, d.case_id, w.kind, w.url, w.secret, c.code, c.state
            FROM deliveries d JOIN webhooks w ON w.id = d.webhook_id LEFT JOIN cases c ON c.id = d.case_id
            WHERE d.state = 'pending' AND d.next_at <= \(bind: now) ORDER BY d.next_at LIMIT \(bind: limit)
            """).all()
        var out: [DueDelivery] = []
        for r in rows {
            let id = try r.decode(column: "id", as: Int64.self)
            let claimed = try await database.transaction { db in
                try await db.raw("""
                    UPDATE deliveries SET next_at = \(bind: now + lease) WHERE id = \(bind: id) AND state = 'pending'
                    AND next_at = \(bind: try r.decode(column: "next_at", as: Int64.self)) RETURNING id
                    """).first() != nil
            }
            guard claimed, let kind = Webhook.Kind(rawValue: try r.decode(column: "kind", as: String.self)) else { continue }
            let text = try r.decode(column: "text", as: String.self)
            var headers = ["Content-Type": "application/json; charset=utf-8"]
            let body: Data
            switch kind {
            case .wecom:
                body = try JSONSerialization.data(withJSONObject: ["msgtype": "text", "text": ["content": text]], options: [.sortedKeys])
            case .signed:
                let payload: [String: Any] = [
                    "event": try r.decode(column: "event", as: String.self), "text": text, "delivery": id, "sent_at": now,
                    "case": ["id": try r.decode(column: "case_id", as: Int64?.self) ?? 0, "code": try r.decode(column: "code", as: String?.self) ?? "",
                             "state": try r.decode(column: "state", as: String?.self) ?? ""],
                ]
                body = try JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])
                if let sealed = try r.decode(column: "secret", as: String?.self) {
                    let secret = try sealer.open(sealed)
                    headers["X-Gridwork-Timestamp"] = String(now)
                    headers["X-Gridwork-Signature"] = "sha256=" + Self.signature(body: body, timestamp: now, secret: secret)
                }
            }
            out.append(DueDelivery(id: id, url: try r.decode(column: "url", as: String.self), body: body, headers: headers, kind: kind))
        }
        return out
    }

    /// HMAC-SHA256 over "timestamp.body", hex: what a receiver recomputes to trust the message.
    public static func signature(body: Data, timestamp: Int64, secret: String) -> String {
        var message = Data("\(timestamp).".utf8)
        message.append(body)
        return Data(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))).hex
    }

    /// Records the outcome: delivered, or another try later (30 s, 1 min, 2 min … up to an hour), or dead after `maxAttempts`.
    public func finish(_ id: Int64, error: String?, now: Int64 = Clock.now()) async throws {
        try await database.transaction { db in
            if let error {
                guard let r = try await db.raw("SELECT attempts FROM deliveries WHERE id = \(bind: id)").first() else { return }
                let attempts = try r.decode(column: "attempts", as: Int.self) + 1
                let backoff = min(3600, 30 << min(attempts - 1, 7))
                try await db.raw("""
                    UPDATE deliveries SET attempts = \(bind: attempts), last_error = \(bind: String(error.prefix(300))),
                        state = \(bind: attempts >= Self.maxAttempts ? "dead" : "pending"), next_at = \(bind: now + Int64(backoff))
                    WHERE id = \(bind: id)
                    """).run()
            } else {
                try await db.raw("""
                    UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = \(bind: now), last_error = NULL WHERE id = \(bind: id)
                    """).run()
            }
        }
    }
}
