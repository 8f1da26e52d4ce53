import SQLKit

/// Outbound webhooks per grid — a WeChat Work group robot, or a signed JSON hook for an SMS
/// gateway — and the deliveries waiting, done or given up (the dead-letter list).
struct CreateWebhooks: Migration {
    let number = 6
    let name = "create_webhooks"

    func prepare(on db: any SQLDatabase, dialect d: Dialect) async throws {
        let statements = [
            """
            CREATE TABLE webhooks (
                id \(d.primaryKey),
                grid_id \(d.bigint) NOT NULL REFERENCES regions(id),
                kind TEXT NOT NULL CHECK (kind IN ('wecom','signed')),
                url TEXT NOT NULL,
                secret TEXT,
                active INTEGER NOT NULL DEFAULT 1,
                created_by TEXT NOT NULL,
                created_at \(d.bigint) NOT NULL)
            """,
            "CREATE INDEX webhooks_grid ON webhooks(grid_id)",
            """
            CREATE TABLE deliveries (
                id \(d.primaryKey),
                webhook_id \(d.bigint) NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
                case_id \(d.bigint) REFERENCES cases(id) ON DELETE CASCADE,
                event TEXT NOT NULL,
                text TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','delivered','dead')),
                attempts INTEGER NOT NULL DEFAULT 0,
                next_at \(d.bigint) NOT NULL,
                last_error TEXT,
                created_at \(d.bigint) NOT NULL,
                delivered_at \(d.bigint))
            """,
            "CREATE INDEX deliveries_due ON deliveries(state, next_at)",
        ]
        for sql in statements { try await db.raw(SQLQueryString(sql)).run() }
    }
}
