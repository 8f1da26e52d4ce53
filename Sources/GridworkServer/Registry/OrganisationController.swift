import Foundation
import GridworkCore
import GridworkStore
import Hummingbird

/// The organisations in a region (社区单位), and registering one in a grid.
struct OrganisationController: Sendable {
    let app: AppContext

    func register(on router: Router<AppRequestContext>) {
        router.get("/registry/organisations", use: list)
        router.post("/registry/organisations", use: add)
    }

    struct Row: Sendable { let name: String; let kind: String; let code: String; let address: String; let contact: String; let phone: String; let grid: String; let gridHref: String }

    struct OrganisationsPage: PageView {
        let title: String
        let scope: String
        let rows: [Row]
        let total: String
        let truncated: Bool
        let mayAdd: Bool
        let kinds: [Option]
        let grid: String
        let name: String, creditCode: String, address: String, contact: String, contactPhone: String
        let notice: String?
        let error: String?
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try context.requireAdmin { $0.role.isNetStaff }
        let code = try scope(request.uri.queryParameters.get("in"), viewer: viewer)
        return try await page(code, viewer: viewer, context: context)
    }

    @Sendable func add(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin(Policy.mayEditRegistry)
        let code = try scope(form["in"], viewer: viewer)
        do {
            let grid: RegionCode
            do { grid = try RegionCode((form["grid"] ?? "").trimmingCharacters(in: .whitespaces)) } catch {
                throw FormProblem(field: "所在网格 (grid)", reason: error.reason)
            }
            guard grid.level == .grid else { throw FormProblem(field: "所在网格 (grid)", reason: "应为15位网格代码 (a 15-digit grid code)") }
            let organisation = try NewOrganisation.parse(form.fields)
            try await app.denyingOutOfScope(context, target: "grid:\(grid)") {
                try await app.store.organisations.add(organisation, grid: grid, viewer: viewer, address: context.address)
            }
            return try await page(code, viewer: viewer, context: context, notice: "已登记 \(organisation.name) (registered)")
        } catch let problem as FormProblem {
            return try await page(code, viewer: viewer, context: context, form: form.fields, error: problem.description, status: .badRequest)
        } catch StoreError.conflict(let reason) {
            return try await page(code, viewer: viewer, context: context, form: form.fields, error: reason, status: .conflict)
        }
    }

    /// The region asked for (default: the viewer's own; a building head's grid), which must be in scope.
    private func scope(_ text: String?, viewer: Viewer) throws -> RegionCode {
        let own = viewer.scope.level == .building ? viewer.scope.parent! : viewer.scope
        guard let text, !text.isEmpty else { return own }
        let code: RegionCode
        do { code = try RegionCode(text) } catch { throw AppError.badRequest("区划代码无效:\(error.reason) (invalid code)", code: "invalid_code") }
        return code.level == .building ? code.parent! : code
    }

    private func page(_ code: RegionCode, viewer: Viewer, context: AppRequestContext, form: [String: String] = [:], notice: String? = nil,
                      error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let list = try await app.denyingOutOfScope(context, target: "region:\(code)") {
            try await app.store.organisations.list(under: code, viewer: viewer)
        }
        let name = try await app.store.net.path(to: code).last?.name ?? code.value
        let f: (String) -> String = { String((form[$0] ?? "").prefix(80)) }
        let page = OrganisationsPage(
            title: "\(name) · 辖区单位", scope: code.value,
            rows: list.rows.map { Row(name: $0.name, kind: $0.kind.label, code: $0.creditCode, address: $0.address, contact: $0.contact,
                                      phone: $0.contactPhone, grid: $0.gridName, gridHref: "/net/\($0.grid)") },
            total: grouped(list.total), truncated: list.total > list.rows.count,
            mayAdd: Policy.mayEditRegistry(viewer),
            kinds: OrganisationKind.allCases.map { Option(value: $0.rawValue, label: $0.label, selected: form["kind"] == $0.rawValue) },
            grid: form["grid"].map { String($0.prefix(20)) } ?? (code.level == .grid ? code.value : ""),
            name: f("name"), creditCode: f("credit_code"), address: f("address"), contact: f("contact"), contactPhone: f("contact_phone"),
            notice: notice, error: error)
        return app.pages.response(status: status, page: page, template: "registry-organisations", context: context)
    }
}
