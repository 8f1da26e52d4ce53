import SQLKit

/// Accounts, sessions, login failures, API tokens and the hash-chained audit log.
struct CreateAccess: Migration {
    let number = 2
    let name = "create_access"

    func prepare(on db: any SQLDatabase, dialect d: Dialect) async throws {
        let statements = [
            """
            CREATE TABLE users (
                id \(d.primaryKey),
                login TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                role TEXT NOT NULL,
                scope_code TEXT NOT NULL,
                department TEXT REFERENCES departments(code),
                password_hash TEXT NOT NULL,
                disabled INTEGER NOT NULL DEFAULT 0,
                failed_logins INTEGER NOT NULL DEFAULT 0,
                locked_until TEXT,
                totp_sealed TEXT,
                totp_pending_sealed TEXT,
                created_at TEXT NOT NULL,
                CHECK ((role = 'department_officer') = (department IS NOT NULL)))
            """,
            "CREATE INDEX users_scope ON users(scope_code)",
            """
            CREATE TABLE sessions (
                token_hash TEXT PRIMARY KEY,
                user_id \(d.bigint) NOT NULL REFERENCES users(id),
                csrf TEXT NOT NULL,
                address TEXT NOT NULL,
                created_at TEXT NOT NULL,
                expires_at TEXT NOT NULL,
                revoked_at TEXT)
            """,
            "CREATE INDEX sessions_user ON sessions(user_id)",
            """
            CREATE TABLE login_failures (
                id \(d.primaryKey),
                address TEXT NOT NULL,
                login TEXT NOT NULL,
                at TEXT NOT NULL)
            """,
            "CREATE INDEX login_failures_address ON login_failures(address, at)",
            """
            CREATE TABLE api_tokens (
                id \(d.primaryKey),
                name TEXT NOT NULL,
                token_hash TEXT NOT NULL UNIQUE,
                scope_code TEXT NOT NULL,
                areas TEXT NOT NULL,
                created_by TEXT NOT NULL,
                created_at TEXT NOT NULL,
                revoked_at TEXT)
            """,
            """
            CREATE TABLE audit_log (
                id \(d.primaryKey),
                at TEXT NOT NULL,
                actor TEXT NOT NULL,
                role TEXT NOT NULL,
                action TEXT NOT NULL,
                target TEXT NOT NULL,
                detail TEXT NOT NULL,
                address TEXT NOT NULL,
                prev_hash TEXT NOT NULL,
                hash TEXT NOT NULL)
            """,
            "CREATE INDEX audit_actor ON audit_log(actor)",
            "CREATE INDEX audit_target ON audit_log(target)",
        ]
        for sql in statements { try await db.raw(SQLQueryString(sql)).run() }
    }
}
