import Foundation
import GridworkCore
import HummingbirdBcrypt
import SQLKit

/// An account as an administrator sees it.
public struct UserSummary: Sendable, Equatable, Codable {
    public let login: String
    public let name: String
    public let role: Role
    public let scope: RegionCode
    public let department: Department?
    public let disabled: Bool
    public let secondFactor: Bool
}

/// What a login attempt came to.
public enum LoginOutcome: Sendable, Equatable {
    /// Password right; `secondFactor` holds the TOTP secret when one must also be checked.
    case accepted(Viewer, secondFactor: String?)
    case rejected
    case locked(until: String)
    case throttled
}

/// An API token's powers: a region and the API areas it may use.
public struct TokenGrant: Sendable, Equatable {
    public let id: Int64
    public let name: String
    public let scope: RegionCode
    public let areas: Set<String>

    /// The token acting as a viewer: its region, no unmasking.
    public var viewer: Viewer { Viewer(userID: -id, login: "token:\(name)", role: .apiToken, scope: scope) }
}

public struct TokenSummary: Sendable, Equatable, Codable {
    public let id: Int64
    public let name: String
    public let scope: String
    public let areas: String
    public let createdBy: String
    public let createdAt: String
    public let revoked: Bool
}

/// Accounts, sessions and API tokens. Passwords are bcrypt hashes; session and
/// API tokens are kept only as SHA-256 digests; TOTP secrets are sealed.
public struct AccountStore: Sendable {
    let database: Database
    let sealer: Sealer
    /// Sessions, kept while no transaction commits through this process (a logout, a revocation, a disabled
    /// account or a changed password are all transactions).
    var sessions = Recent<Found>(lifetime: 5)
    /// API tokens, kept until one is revoked here.
    var grants = Recent<TokenGrant>(lifetime: 5)
    public typealias Found = (viewer: Viewer, csrf: String)

    /// Consecutive failures before an account locks, and for how long.
    public static let lockAfter = 5
    public static let lockFor: TimeInterval = 15 * 60
    /// Failures from one address within `lockFor` before it is refused outright.
    public static let throttleAfter = 20
    public static let sessionLifetime: TimeInterval = 12 * 3600
    /// The API areas a token can be granted.
    public static let apiAreas: Set<String> = ["net", "residents", "open311"]
    static let bcryptCost: UInt8 = 12

    // MARK: accounts

    /// Adds an account after checking role, scope, department and password rules.
    @discardableResult
    public func addUser(login: String, name: String, role: Role, scope: RegionCode, department: Department?,
                        password: String, actor: Actor) async throws -> Int64 {
        try Self.validate(login: login, role: role, scope: scope, department: department)
        if let problem = PasswordRules.problems(password, login: login).first { throw StoreError.invalid(field: "password", reason: problem) }
        let hash = Bcrypt.hash(password, cost: Self.bcryptCost)
        return try await database.transaction { db in
            try await Self.requireRegion(db, scope)
            if try await db.select().column("id").from("users").where("login", .equal, login).first() != nil {
                throw StoreError.conflict("登录名\(login)已存在 (login already exists)")
            }
            let id = try await Self.insertUser(db, kind: database.kind, login: login, name: name, role: role, scope: scope,
                                               department: department, hash: hash)
            try await AuditLog.append(db, kind: database.kind, actor: actor, action: "user.add", target: "user:\(login)",
                                      detail: "\(role.rawValue) \(scope)\(department.map { " \($0.rawValue)" } ?? "")")
            return id
        }
    }

    static func insertUser(_ db: any SQLDatabase, kind: DatabaseKind, login: String, name: String, role: Role,
                           scope: RegionCode, department: Department?, hash: String) async throws -> Int64 {
        let row = try await db.raw("""
            INSERT INTO users (login, name, role, scope_code, department, password_hash, created_at)
            VALUES (\(bind: login), \(bind: name), \(bind: role.rawValue), \(bind: scope.value), \(bind: department?.rawValue),
                    \(bind: hash), \(bind: Timestamp.now())) RETURNING id
            """).first()
        return try row!.decode(column: "id", as: Int64.self)
    }

    static func validate(login: String, role: Role, scope: RegionCode, department: Department?) throws {
        guard Role.accountRoles.contains(role) else {
            throw StoreError.invalid(field: "role", reason: "接口令牌不是账号角色,请用 gridwork token add (api_token is not an account role; use gridwork token add)")
        }
        let allowed = login.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_.".unicodeScalars.contains($0) }
        guard (3...64).contains(login.count), allowed else {
            throw StoreError.invalid(field: "login", reason: "登录名须为3–64位字母、数字或 - _ . (3–64 letters, digits or - _ .)")
        }
        if let level = role.scopeLevel, scope.level != level {
            throw StoreError.invalid(field: "scope", reason: "\(role.label)的范围必须是\(level.label)代码(\(level.codeLength)位) (a \(role.rawValue) is bound to a \(level.rawValue) code)")
        }
        if role == .departmentOfficer {
            guard department != nil else { throw StoreError.invalid(field: "department", reason: "部门工作人员必须指定部门 (a department officer needs --department)") }
            guard scope.level <= .township else { throw StoreError.invalid(field: "scope", reason: "部门范围须为县或乡镇 (a department works over the county or a township)") }
        } else if department != nil {
            throw StoreError.invalid(field: "department", reason: "只有部门工作人员可指定部门 (only department officers have a department)")
        }
    }

    /// Refuses a scope that is not a node of the loaded net.
    static func requireRegion(_ db: any SQLDatabase, _ code: RegionCode) async throws {
        let exists: Bool
        if code.level == .building {
            exists = try await NetStore.buildingID(db, code) != nil
        } else {
            exists = try await db.select().column("id").from("regions").where("code", .equal, code.value).first() != nil
        }
        guard exists else { throw StoreError.notFound(what: "区域 (region)", key: code.value) }
    }

    /// Accounts whose scope lies within `scope` (an admin sees the accounts of their subtree).
    public func users(within scope: RegionCode, limit: Int = 500) async throws -> [UserSummary] {
        try await database.reader.raw("""
            SELECT login, name, role, scope_code, department, disabled, totp_sealed FROM users
            WHERE \(NetStore.subtree("scope_code", scope)) ORDER BY scope_code, role, login LIMIT \(bind: limit)
            """).all().map(Self.summary)
    }

    public func user(_ login: String) async throws -> UserSummary? {
        try await database.reader.raw("""
            SELECT login, name, role, scope_code, department, disabled, totp_sealed FROM users WHERE login = \(bind: login)
            """).first().map(Self.summary)
    }

    static func summary(_ r: any SQLRow) throws -> UserSummary {
        UserSummary(login: try r.decode(column: "login", as: String.self), name: try r.decode(column: "name", as: String.self),
                    role: Role(rawValue: try r.decode(column: "role", as: String.self))!,
                    scope: try RegionCode(try r.decode(column: "scope_code", as: String.self)),
                    department: try r.decode(column: "department", as: String?.self).flatMap(Department.init(rawValue:)),
                    disabled: try r.decode(column: "disabled", as: Int.self) != 0,
                    secondFactor: try r.decode(column: "totp_sealed", as: String?.self) != nil)
    }

    /// Disables or re-enables an account; disabling ends its sessions.
    public func setDisabled(_ login: String, _ disabled: Bool, within scope: RegionCode, actor: Actor) async throws {
        try await database.transaction { db in
            let id = try await Self.userID(db, login, within: scope)
            try await db.update("users").set("disabled", to: disabled ? 1 : 0).set("failed_logins", to: 0)
                .set(SQLIdentifier("locked_until"), to: SQLLiteral.null).where("id", .equal, id).run()
            if disabled { try await Self.revokeSessions(db, userID: id) }
            try await AuditLog.append(db, kind: database.kind, actor: actor, action: disabled ? "user.disable" : "user.enable", target: "user:\(login)")
        }
    }

    /// Sets a new password (by an administrator or at the command line); ends the account's sessions.
    public func resetPassword(_ login: String, to password: String, within scope: RegionCode, actor: Actor) async throws {
        if let problem = PasswordRules.problems(password, login: login).first { throw StoreError.invalid(field: "password", reason: problem) }
        let hash = Bcrypt.hash(password, cost: Self.bcryptCost)
        try await database.transaction { db in
            let id = try await Self.userID(db, login, within: scope)
            try await db.update("users").set("password_hash", to: hash).set("failed_logins", to: 0)
                .set(SQLIdentifier("locked_until"), to: SQLLiteral.null).where("id", .equal, id).run()
            try await Self.revokeSessions(db, userID: id)
            try await AuditLog.append(db, kind: database.kind, actor: actor, action: "user.reset_password", target: "user:\(login)")
        }
    }

    /// The account holder changes their own password, proving the old one.
    public func changePassword(_ viewer: Viewer, old: String, new: String, keepSession token: String?, actor: Actor) async throws {
        if let problem = PasswordRules.problems(new, login: viewer.login).first { throw StoreError.invalid(field: "password", reason: problem) }
        guard let row = try await database.reader.select().column("password_hash").from("users").where("id", .equal, viewer.userID).first(),
              Bcrypt.verify(old, hash: try row.decode(column: "password_hash", as: String.self))
        else { throw StoreError.invalid(field: "old_password", reason: "原密码不正确 (the current password is wrong)") }
        let hash = Bcrypt.hash(new, cost: Self.bcryptCost)
        try await database.transaction { db in
            try await db.update("users").set("password_hash", to: hash).where("id", .equal, viewer.userID).run()
            // Other sessions end; the one in use stays.
            let keep = token.map(Secrets.digest) ?? ""
            try await db.raw("""
                UPDATE sessions SET revoked_at = \(bind: Timestamp.now())
                WHERE user_id = \(bind: viewer.userID) AND revoked_at IS NULL AND token_hash <> \(bind: keep)
                """).run()
            try await AuditLog.append(db, kind: database.kind, actor: actor, action: "user.change_password", target: "user:\(viewer.login)")
        }
    }

    static func userID(_ db: any SQLDatabase, _ login: String, within scope: RegionCode) async throws -> Int64 {
        guard let row = try await db.raw("SELECT id FROM users WHERE login = \(bind: login) AND \(NetStore.subtree("scope_code", scope))").first()
        else { throw StoreError.notFound(what: "账号 (account)", key: login) }
        return try row.decode(column: "id", as: Int64.self)
    }

    // MARK: login

    /// Checks a password, counting failures per account (lockout) and per address (throttle). Every failure is audited.
    public func login(_ login: String, password: String, address: String, now: Date = Date()) async throws -> LoginOutcome {
        let since = Timestamp.string(now.addingTimeInterval(-Self.lockFor))
        let recent = try await database.reader.raw("""
            SELECT COUNT(*) AS n FROM login_failures WHERE address = \(bind: address) AND at > \(bind: since)
            """).first()!.decode(column: "n", as: Int.self)
        if recent >= Self.throttleAfter {
            try await recordFailure(login: login, address: address, now: now, reason: "throttled", countAgainstAccount: false)
            return .throttled
        }
        let row = try await database.reader.raw("""
            SELECT id, login, role, scope_code, department, password_hash, disabled, locked_until, totp_sealed
            FROM users WHERE login = \(bind: login)
            """).first()
        // Hash anyway for unknown logins, so timing does not tell which logins exist.
        let hash = try row?.decode(column: "password_hash", as: String.self) ?? Self.decoyHash
        let passwordOK = Bcrypt.verify(password, hash: hash)
        guard let row else {
            try await recordFailure(login: login, address: address, now: now, reason: "unknown login", countAgainstAccount: false)
            return .rejected
        }
        if let until = try row.decode(column: "locked_until", as: String?.self), until > Timestamp.string(now) {
            try await recordFailure(login: login, address: address, now: now, reason: "locked", countAgainstAccount: false)
            return .locked(until: until)
        }
        guard passwordOK, try row.decode(column: "disabled", as: Int.self) == 0 else {
            let locked = try await recordFailure(login: login, address: address, now: now,
                                                 reason: passwordOK ? "disabled" : "wrong password", countAgainstAccount: true)
            return locked.map { .locked(until: $0) } ?? .rejected
        }
        let viewer = try Self.viewer(row)
        let secret = try row.decode(column: "totp_sealed", as: String?.self).map { try sealer.open($0) }
        return .accepted(viewer, secondFactor: secret)
    }

    static let decoyHash = Bcrypt.hash("decoy password for unknown logins", cost: bcryptCost)

    /// Records a failed attempt; returns the lock time when this failure locked the account.
    @discardableResult
    public func recordFailure(login: String, address: String, now: Date = Date(), reason: String, countAgainstAccount: Bool) async throws -> String? {
        try await database.transaction { db in
            try await db.insert(into: "login_failures").columns("address", "login", "at")
                .values(SQLBind(address), SQLBind(login), SQLBind(Timestamp.string(now))).run()
            var lockedUntil: String?
            if countAgainstAccount {
                try await db.raw("UPDATE users SET failed_logins = failed_logins + 1 WHERE login = \(bind: login)").run()
                let failures = try await db.raw("SELECT failed_logins FROM users WHERE login = \(bind: login)").first()?
                    .decode(column: "failed_logins", as: Int.self) ?? 0
                if failures >= Self.lockAfter {
                    let until = Timestamp.string(now.addingTimeInterval(Self.lockFor))
                    try await db.raw("UPDATE users SET locked_until = \(bind: until), failed_logins = 0 WHERE login = \(bind: login)").run()
                    lockedUntil = until
                }
            }
            try await AuditLog.append(db, kind: database.kind, actor: .anonymous(address), action: "login.failed",
                                      target: "user:\(login.prefix(64))", detail: reason + (lockedUntil.map { ", locked until \($0)" } ?? ""))
            return lockedUntil
        }
    }

    /// Starts a session after a full login; returns the cookie token and the CSRF token.
    public func startSession(for viewer: Viewer, address: String, now: Date = Date()) async throws -> (token: String, csrf: String) {
        let token = Secrets.token(), csrf = Secrets.token()
        try await database.transaction { db in
            try await db.insert(into: "sessions").columns("token_hash", "user_id", "csrf", "address", "created_at", "expires_at")
                .values(SQLBind(Secrets.digest(token)), SQLBind(viewer.userID), SQLBind(csrf), SQLBind(address),
                        SQLBind(Timestamp.string(now)), SQLBind(Timestamp.string(now.addingTimeInterval(Self.sessionLifetime)))).run()
            try await db.raw("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = \(bind: viewer.userID)").run()
            try await AuditLog.append(db, kind: database.kind, actor: Actor(viewer, address: address), action: "login", target: "user:\(viewer.login)")
        }
        return (token, csrf)
    }

    /// The viewer and CSRF token of a live session, or nil for an unknown, expired, revoked or disabled one.
    public func session(_ token: String, now: Date = Date()) async throws -> (viewer: Viewer, csrf: String)? {
        guard token.count <= 128 else { return nil }
        let digest = Secrets.digest(token), at = Timestamp.string(now), changes = database.changeCount
        if let kept = sessions.get(digest, stamp: changes, now: now, at: at) { return kept }
        guard let row = try await database.reader.raw("""
            SELECT u.id, u.login, u.role, u.scope_code, u.department, s.csrf, s.expires_at
            FROM sessions s JOIN users u ON u.id = s.user_id
            WHERE s.token_hash = \(bind: digest) AND s.revoked_at IS NULL
              AND s.expires_at > \(bind: at) AND u.disabled = 0
            """).first() else { return nil }
        let found = (viewer: try Self.viewer(row), csrf: try row.decode(column: "csrf", as: String.self))
        sessions.put(digest, found, stamp: changes, now: now, expires: try row.decode(column: "expires_at", as: String.self))
        return found
    }

    public func endSession(_ token: String, actor: Actor) async throws {
        try await database.transaction { db in
            try await db.raw("UPDATE sessions SET revoked_at = \(bind: Timestamp.now()) WHERE token_hash = \(bind: Secrets.digest(token)) AND revoked_at IS NULL").run()
            try await AuditLog.append(db, kind: database.kind, actor: actor, action: "logout", target: "user:\(actor.login)")
        }
    }

    static func revokeSessions(_ db: any SQLDatabase, userID: Int64) async throws {
        try await db.raw("UPDATE sessions SET revoked_at = \(bind: Timestamp.now()) WHERE user_id = \(bind: userID) AND revoked_at IS NULL").run()
    }

    static func viewer(_ row: any SQLRow) throws -> Viewer {
        Viewer(userID: try row.decode(column: "id", as: Int64.self), login: try row.decode(column: "login", as: String.self),
               role: Role(rawValue: try row.decode(column: "role", as: String.self))!,
               scope: try RegionCode(try row.decode(column: "scope_code", as: String.self)),
               department: try row.decode(column: "department", as: String?.self).flatMap(Department.init(rawValue:)))
    }

    // MARK: second factor

    /// Starts TOTP enrolment: a new secret, kept pending until a code from it is confirmed.
    public func beginSecondFactor(_ viewer: Viewer) async throws -> String {
        guard viewer.role.mayUseSecondFactor else {
            throw StoreError.invalid(field: "totp", reason: "只有县、乡镇管理员可启用两步验证 (only county and township admins)")
        }
        let secret = Secrets.totpSecret()
        try await database.transaction { db in
            try await db.update("users").set("totp_pending_sealed", to: sealer.seal(secret)).where("id", .equal, viewer.userID).run()
        }
        return secret
    }

    /// The pending secret, for the server to check a code against.
    public func pendingSecondFactor(_ viewer: Viewer) async throws -> String? {
        try await database.reader.select().column("totp_pending_sealed").from("users").where("id", .equal, viewer.userID).first()?
            .decode(column: "totp_pending_sealed", as: String?.self).map { try sealer.open($0) }
    }

    /// Makes the pending secret the account's second factor (after the server checked a code).
    public func confirmSecondFactor(_ viewer: Viewer, actor: Actor) async throws {
        try await database.transaction { db in
            try await db.raw("UPDATE users SET totp_sealed = totp_pending_sealed, totp_pending_sealed = NULL WHERE id = \(bind: viewer.userID) AND totp_pending_sealed IS NOT NULL").run()
            try await AuditLog.append(db, kind: database.kind, actor: actor, action: "user.totp_enabled", target: "user:\(viewer.login)")
        }
    }

    // MARK: API tokens

    /// Creates a token and returns it; only its digest is kept, so it is shown once.
    public func addToken(name: String, scope: RegionCode, areas: Set<String>, actor: Actor) async throws -> String {
        guard (1...80).contains(name.count) else { throw StoreError.invalid(field: "name", reason: "名称须为1–80个字符 (name must be 1–80 characters)") }
        guard !areas.isEmpty, areas.isSubset(of: Self.apiAreas) else {
            throw StoreError.invalid(field: "areas", reason: "接口范围须为 \(Self.apiAreas.sorted().joined(separator: ", ")) 中的一项或多项 (areas must be among \(Self.apiAreas.sorted()))")
        }
        let token = "gw_" + Secrets.token()
        try await database.transaction { db in
            try await Self.requireRegion(db, scope)
            try await db.insert(into: "api_tokens").columns("name", "token_hash", "scope_code", "areas", "created_by", "created_at")
                .values(SQLBind(name), SQLBind(Secrets.digest(token)), SQLBind(scope.value), SQLBind(areas.sorted().joined(separator: ",")),
                        SQLBind(actor.login), SQLBind(Timestamp.now())).run()
            try await AuditLog.append(db, kind: database.kind, actor: actor, action: "token.add", target: "token:\(name)",
                                      detail: "\(scope) \(areas.sorted().joined(separator: ","))")
        }
        return token
    }

    public func tokens(within scope: RegionCode) async throws -> [TokenSummary] {
        try await database.reader.raw("""
            SELECT id, name, scope_code, areas, created_by, created_at, revoked_at FROM api_tokens
            WHERE \(NetStore.subtree("scope_code", scope)) ORDER BY id
            """).all().map { r in
            TokenSummary(id: try r.decode(column: "id", as: Int64.self), name: try r.decode(column: "name", as: String.self),
                         scope: try r.decode(column: "scope_code", as: String.self), areas: try r.decode(column: "areas", as: String.self),
                         createdBy: try r.decode(column: "created_by", as: String.self), createdAt: try r.decode(column: "created_at", as: String.self),
                         revoked: try r.decode(column: "revoked_at", as: String?.self) != nil)
        }
    }

    public func revokeToken(_ id: Int64, within scope: RegionCode, actor: Actor) async throws {
        try await database.transaction { db in
            guard let row = try await db.raw("SELECT name FROM api_tokens WHERE id = \(bind: id) AND revoked_at IS NULL AND \(NetStore.subtree("scope_code", scope))").first()
            else { throw StoreError.notFound(what: "令牌 (token)", key: String(id)) }
            try await db.raw("UPDATE api_tokens SET revoked_at = \(bind: Timestamp.now()) WHERE id = \(bind: id)").run()
            try await AuditLog.append(db, kind: database.kind, actor: actor, action: "token.revoke",
                                      target: "token:\(try row.decode(column: "name", as: String.self))")
        }
        // Lookups kept from before the revocation, or still under way, are not trusted after it.
        grants.forgetAll()
    }

    /// The grant of a live token, or nil.
    public func grant(forToken token: String, now: Date = Date()) async throws -> TokenGrant? {
        guard token.count <= 128 else { return nil }
        let digest = Secrets.digest(token), stamp = grants.generation
        if let kept = grants.get(digest, stamp: stamp, now: now) { return kept }
        guard let row = try await database.reader.raw("""
            SELECT id, name, scope_code, areas FROM api_tokens WHERE token_hash = \(bind: digest) AND revoked_at IS NULL
            """).first() else { return nil }
        let grant = TokenGrant(id: try row.decode(column: "id", as: Int64.self), name: try row.decode(column: "name", as: String.self),
                          scope: try RegionCode(try row.decode(column: "scope_code", as: String.self)),
                          areas: Set(try row.decode(column: "areas", as: String.self).split(separator: ",").map(String.init)))
        grants.put(digest, grant, stamp: stamp, now: now)
        return grant
    }
}

/// Lookups made in the last few seconds (sessions, API tokens), so requests do not read the same row again
/// and again. An entry stands only while the `stamp` it was read under stands still, until its `expires` text
/// timestamp, and for at most `lifetime` seconds — the longest a change made by another process takes to reach
/// this one. `forgetAll()` moves the memo's own stamp, for lookups stamped with `generation`.
final class Recent<Value: Sendable>: Sendable {
    private struct Entry { let value: Value; let stamp: UInt64; let read: Date; let expires: String? }
    private let state = Locked<(entries: [String: Entry], generation: UInt64)>(([:], 0))
    let lifetime: TimeInterval
    let capacity: Int

    init(lifetime: TimeInterval, capacity: Int = 20_000) { self.lifetime = lifetime; self.capacity = capacity }

    var generation: UInt64 { state.withLock { $0.generation } }

    func get(_ key: String, stamp: UInt64, now: Date, at: String? = nil) -> Value? {
        state.withLock { state in
            guard let e = state.entries[key] else { return nil }
            guard e.stamp == stamp, now.timeIntervalSince(e.read) < lifetime, e.expires.map({ (at ?? "") < $0 }) ?? true else {
                state.entries[key] = nil
                return nil
            }
            return e.value
        }
    }

    func put(_ key: String, _ value: Value, stamp: UInt64, now: Date, expires: String? = nil) {
        state.withLock { state in
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[key] = Entry(value: value, stamp: stamp, read: now, expires: expires)
        }
    }

    func forgetAll() { state.withLock { $0.entries.removeAll(); $0.generation &+= 1 } }
}
