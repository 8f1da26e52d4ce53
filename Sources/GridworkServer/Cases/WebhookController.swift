import Foundation
import GridworkCore
import GridworkStore
import Hummingbird

/// The grids' outbound hooks (WeChat Work group robots, signed JSON for SMS gateways) and the
/// deliveries that gave up, for grid leaders and the levels above.
struct WebhookController: Sendable {
    let app: AppContext

    static func manages(_ v: Viewer) -> Bool { Policy.netSupervisors.contains(v.role) }

    func register(on router: Router<AppRequestContext>) {
        router.get("/cases/webhooks", use: page)
        router.post("/cases/webhooks", use: add)
        router.post("/cases/webhooks/{id}/disable", use: disable)
        router.post("/cases/webhooks/deliveries/{id}/retry", use: retry)
    }

    struct Hook: Sendable { let id: Int64; let grid: String; let kind: String; let url: String; let active: Bool; let pending: Int; let dead: Int }
    struct Dead: Sendable { let id: Int64; let url: String; let text: String; let attempts: Int; let error: String; let at: String }

    struct HooksPage: PageView {
        let title = "群消息推送"
        let hooks: [Hook]
        let dead: [Dead]
        let kinds: [Option]
        let grid: String
        let notice: String?
        let error: String?
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try context.requireAdmin(Self.manages)
        return try await hooksPage(viewer: viewer, context: context)
    }

    private func hooksPage(viewer: Viewer, context: AppRequestContext, notice: String? = nil, error: String? = nil,
                           status: HTTPResponse.Status = .ok) async throws -> Response {
        let hooks = try await app.store.webhooks.list(viewer).map {
            Hook(id: $0.id, grid: $0.gridName, kind: $0.kind.label, url: Self.redacted($0.url), active: $0.active, pending: $0.pending, dead: $0.dead)
        }
        let dead = try await app.store.webhooks.dead(viewer).map {
            Dead(id: $0.id, url: Self.redacted($0.url), text: $0.text, attempts: $0.attempts, error: $0.lastError, at: CaseController.local($0.at))
        }
        let page = HooksPage(hooks: hooks, dead: dead, kinds: Webhook.Kind.allCases.map { Option(value: $0.rawValue, label: $0.label) },
                             grid: viewer.scope.level == .grid ? viewer.scope.value : "", notice: notice, error: error)
        return app.pages.response(status: status, page: page, template: "webhooks", context: context)
    }

    /// A robot's URL carries its key: show the host and the first characters only.
    static func redacted(_ url: String) -> String {
        guard let u = URL(string: url), let host = u.host else { return String(url.prefix(24)) + "…" }
        return "\(u.scheme ?? "https")://\(host)\(u.path.prefix(12))…"
    }

    @Sendable func add(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin(Self.manages)
        do {
            let grid: RegionCode
            do { grid = try RegionCode((form["grid"] ?? "").trimmingCharacters(in: .whitespaces)) } catch {
                throw StoreError.invalid(field: "网格 (grid)", reason: error.reason)
            }
            guard let kind = Webhook.Kind(rawValue: form["kind"] ?? "") else {
                throw StoreError.invalid(field: "类型 (kind)", reason: "请选择推送类型 (choose a kind)")
            }
            let secret = (form["secret"] ?? "").trimmingCharacters(in: .whitespaces)
            _ = try await app.denyingOutOfScope(context, target: "grid:\(grid)") {
                try await app.store.webhooks.add(grid: grid, kind: kind, url: (form["url"] ?? "").trimmingCharacters(in: .whitespaces),
                                                 secret: secret.isEmpty ? nil : secret, viewer: viewer, address: context.address)
            }
            return try await hooksPage(viewer: viewer, context: context, notice: "已添加推送地址 (added)")
        } catch StoreError.invalid(let field, let reason) {
            return try await hooksPage(viewer: viewer, context: context, error: "\(field):\(reason)", status: .badRequest)
        }
    }

    @Sendable func disable(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin(Self.manages)
        let id = try context.positiveID()
        try await app.denyingOutOfScope(context, target: "webhook:\(id)") {
            try await app.store.webhooks.disable(id, viewer: viewer, address: context.address)
        }
        return try await hooksPage(viewer: viewer, context: context, notice: "已停用 (disabled)")
    }

    @Sendable func retry(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin(Self.manages)
        let id = try context.positiveID()
        try await app.denyingOutOfScope(context, target: "delivery:\(id)") { try await app.store.webhooks.retry(delivery: id, viewer: viewer) }
        return try await hooksPage(viewer: viewer, context: context, notice: "已重新排队发送 (queued again)")
    }
}
