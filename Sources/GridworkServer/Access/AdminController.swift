import Foundation
import GridworkCore
import GridworkStore
import Hummingbird

/// Accounts, API tokens and the audit trail, for county and township admins.
struct AdminController: Sendable {
    let app: AppContext

    func register(on router: Router<AppRequestContext>) {
        router.get("/admin/users", use: users)
        router.post("/admin/users", use: addUser)
        router.post("/admin/users/{login}/disable", use: disable)
        router.post("/admin/users/{login}/enable", use: enable)
        router.post("/admin/users/{login}/reset-password", use: resetPassword)
        router.get("/admin/tokens", use: tokens)
        router.post("/admin/tokens", use: addToken)
        router.post("/admin/tokens/{id}/revoke", use: revokeToken)
        router.get("/admin/audit", use: audit)
    }

    struct UserRow: Sendable { let login: String; let name: String; let role: String; let scope: String; let department: String; let disabled: Bool; let secondFactor: Bool }

    struct UsersPage: PageView {
        let title = "账号管理"
        let users: [UserRow]
        let roles: [Option]
        let departments: [Option]
        let scope: String
        let notice: String?
        let error: String?
    }

    @Sendable func users(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await usersPage(context: context)
    }

    private func usersPage(context: AppRequestContext, notice: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try context.requireAdmin(Policy.mayManageUsers)
        let rows = try await app.store.accounts.users(within: viewer.scope, limit: 300).map {
            UserRow(login: $0.login, name: $0.name, role: $0.role.label, scope: $0.scope.value, department: $0.department?.label ?? "",
                    disabled: $0.disabled, secondFactor: $0.secondFactor)
        }
        let page = UsersPage(users: rows, roles: Role.accountRoles.map { Option(value: $0.rawValue, label: $0.label) },
                             departments: Department.allCases.map { Option(value: $0.rawValue, label: $0.label) },
                             scope: viewer.scope.value, notice: notice, error: error)
        return app.pages.response(status: status, page: page, template: "admin-users", context: context)
    }

    /// Adds an account within the admin's own scope.
    @Sendable func addUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin(Policy.mayManageUsers)
        do {
            guard let role = Role(rawValue: form["role"] ?? ""), Role.accountRoles.contains(role) else {
                throw StoreError.invalid(field: "角色 (role)", reason: "请选择角色 (choose a role)")
            }
            let scope: RegionCode
            do { scope = try RegionCode((form["scope"] ?? "").trimmingCharacters(in: .whitespaces)) } catch {
                throw StoreError.invalid(field: "范围 (scope)", reason: error.reason)
            }
            guard viewer.covers(scope) else { throw StoreError.notFound(what: "区域 (region)", key: scope.value) }
            let department = (form["department"] ?? "").isEmpty ? nil : Department(rawValue: form["department"]!)
            let login = (form["login"] ?? "").trimmingCharacters(in: .whitespaces)
            let name = (form["name"] ?? "").trimmingCharacters(in: .whitespaces)
            try await app.store.accounts.addUser(login: login, name: name.isEmpty ? login : String(name.prefix(40)), role: role,
                                                 scope: scope, department: department, password: form["password"] ?? "", actor: context.actor)
            return try await usersPage(context: context, notice: "已添加账号 \(login) (account added)")
        } catch let error as StoreError {
            return try await usersPage(context: context, error: error.message, status: .badRequest)
        }
    }

    @Sendable func disable(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await setDisabled(true, request, context)
    }

    @Sendable func enable(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await setDisabled(false, request, context)
    }

    private func setDisabled(_ disabled: Bool, _ request: Request, _ context: AppRequestContext) async throws -> Response {
        _ = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin(Policy.mayManageUsers)
        let login = context.parameters.get("login") ?? ""
        guard login != viewer.login else {
            return try await usersPage(context: context, error: "不能停用自己的账号 (you cannot disable yourself)", status: .badRequest)
        }
        try await app.store.accounts.setDisabled(login, disabled, within: viewer.scope, actor: context.actor)
        return try await usersPage(context: context, notice: disabled ? "已停用 \(login),其登录已全部退出" : "已启用 \(login)")
    }

    @Sendable func resetPassword(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin(Policy.mayManageUsers)
        let login = context.parameters.get("login") ?? ""
        do {
            try await app.store.accounts.resetPassword(login, to: form["password"] ?? "", within: viewer.scope, actor: context.actor)
        } catch let error as StoreError where { if case .invalid = error { true } else { false } }() {
            return try await usersPage(context: context, error: error.message, status: .badRequest)
        }
        return try await usersPage(context: context, notice: "已为 \(login) 设置新密码 (password reset)")
    }

    struct TokenRow: Sendable { let id: Int64; let name: String; let scope: String; let areas: String; let createdBy: String; let createdAt: String; let revoked: Bool }

    struct TokensPage: PageView {
        let title = "接口令牌"
        let tokens: [TokenRow]
        let scope: String
        let areas: [Option]
        let created: String?
        let error: String?
    }

    @Sendable func tokens(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await tokensPage(context: context)
    }

    private func tokensPage(context: AppRequestContext, created: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try context.requireAdmin(Policy.mayManageUsers)
        let rows = try await app.store.accounts.tokens(within: viewer.scope).map {
            TokenRow(id: $0.id, name: $0.name, scope: $0.scope, areas: $0.areas, createdBy: $0.createdBy,
                     createdAt: AccessController.local($0.createdAt), revoked: $0.revoked)
        }
        let labels = ["net": "一张网 (net)", "residents": "居民 (residents)", "open311": "事项上报 Open311 (open311)"]
        let areas = AccountStore.apiAreas.sorted().map { Option(value: $0, label: labels[$0] ?? $0) }
        return app.pages.response(status: status, page: TokensPage(tokens: rows, scope: viewer.scope.value, areas: areas, created: created, error: error),
                                  template: "admin-tokens", context: context)
    }

    /// Shows the new token once; afterwards only its digest exists.
    @Sendable func addToken(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin(Policy.mayManageUsers)
        do {
            let scope: RegionCode
            do { scope = try RegionCode((form["scope"] ?? "").trimmingCharacters(in: .whitespaces)) } catch {
                throw StoreError.invalid(field: "范围 (scope)", reason: error.reason)
            }
            guard viewer.covers(scope) else { throw StoreError.notFound(what: "区域 (region)", key: scope.value) }
            let areas = Set(AccountStore.apiAreas.filter { form["area_\($0)"] != nil })
            let token = try await app.store.accounts.addToken(name: (form["name"] ?? "").trimmingCharacters(in: .whitespaces),
                                                              scope: scope, areas: areas, actor: context.actor)
            return try await tokensPage(context: context, created: token)
        } catch let error as StoreError {
            return try await tokensPage(context: context, error: error.message, status: .badRequest)
        }
    }

    @Sendable func revokeToken(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin(Policy.mayManageUsers)
        let id = try context.positiveID()
        try await app.store.accounts.revokeToken(id, within: viewer.scope, actor: context.actor)
        return try await tokensPage(context: context)
    }

    struct AuditRow: Sendable { let id: Int64; let at: String; let actor: String; let role: String; let action: String; let target: String; let detail: String; let address: String }
    struct AuditPage: PageView {
        let title = "审计日志"
        let query: String
        let entries: [AuditRow]
        let chain: String
        let intact: Bool
    }

    /// Search by actor, action or target; the chain is verified on every view.
    @Sendable func audit(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.requireAdmin(Policy.mayReadAudit)
        let query = String((request.uri.queryParameters.get("q") ?? "").trimmingCharacters(in: .whitespaces).prefix(100))
        let entries = try await AuditLog.search(app.store.database, query: query, limit: 200).map {
            AuditRow(id: $0.id, at: AccessController.local($0.at), actor: $0.actor, role: $0.role, action: $0.action,
                     target: $0.target, detail: $0.detail, address: $0.address)
        }
        let check = try await AuditLog.verify(app.store.database)
        let chain = check.brokenAt.map { "审计链在第 \($0) 条处断裂:记录被修改或删除 (chain broken)" } ?? "审计链完整,共 \(check.entries) 条 (chain intact)"
        return app.pages.response(page: AuditPage(query: query, entries: entries, chain: chain, intact: check.brokenAt == nil),
                                  template: "admin-audit", context: context)
    }
}
