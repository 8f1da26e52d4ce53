import Foundation
import GridworkCore
import GridworkStore
import Hummingbird

/// Volunteers and partner units (志愿者 / 共驻共建单位): lists within scope with the hours they gave, registration,
/// one page per helper with their contributions, and help recorded on a matter or an errand.
struct HelperController: Sendable {
    let app: AppContext

    func register(on router: Router<AppRequestContext>) {
        router.get("/helpers", use: list)
        router.post("/helpers/volunteers", use: addVolunteer)
        router.post("/helpers/units", use: addUnit)
        router.get("/helpers/{helper}", use: page)
        router.post("/helpers/{helper}/hours", use: recordGeneral)
        router.post("/cases/{id}/helpers", use: recordOnCase)
        router.post("/errands/{id}/helpers", use: recordOnErrand)
    }

    static func staff(_ context: AppRequestContext) throws -> Viewer {
        try context.requireAdmin { $0.role.isNetStaff && $0.role != .apiToken }
    }

    struct Row: Sendable { let href: String; let name: String; let facts: String; let hours: String }
    struct ListPage: PageView {
        let title = "志愿者与共建单位"
        let volunteers: [Row]
        let units: [Row]
        let grids: [Option]
        let communities: [Option]
        let mayAddVolunteer: Bool
        let mayAddUnit: Bool
        let notice: String?
        let error: String?
    }

    /// The grid the viewer's volunteers belong to: their own (a building head's grid), or their scope.
    static func area(_ v: Viewer) -> RegionCode { v.role == .buildingHead ? v.scope.parent! : v.scope }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await listPage(context: context)
    }

    private func listPage(context: AppRequestContext, notice: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try Self.staff(context)
        let area = Self.area(viewer)
        let volunteers = try await app.store.helpers.volunteers(under: area, viewer: viewer)
        let units = try await app.store.helpers.units(under: area, viewer: viewer)
        let regions = try await app.store.net.regions(under: area)
        let hours = { (h: Double, n: Int) in "共 \(Self.hours(h)) 小时 · \(n) 次" }
        let page = ListPage(
            volunteers: volunteers.map { Row(href: "/helpers/\(Helper.volunteer($0.id).formValue)", name: $0.name,
                                             facts: "\($0.skills) · \($0.availability) · \($0.phoneMasked)", hours: hours($0.hours, $0.times)) },
            units: units.map { Row(href: "/helpers/\(Helper.unit($0.id).formValue)", name: $0.name, facts: "\($0.kind) · \($0.services)",
                                   hours: hours($0.hours, $0.times)) },
            grids: regions.filter { $0.level == .grid }.map { Option(value: $0.code.value, label: $0.name) },
            communities: regions.filter { $0.level == .community }.map { Option(value: $0.code.value, label: $0.name) },
            mayAddVolunteer: Policy.netOfficers.contains(viewer.role), mayAddUnit: [.countyAdmin, .townshipAdmin, .communityStaff].contains(viewer.role),
            notice: notice, error: error)
        return app.pages.response(status: status, page: page, template: "helpers", context: context)
    }

    static func hours(_ h: Double) -> String { h == h.rounded() ? String(Int(h)) : String(format: "%.1f", h) }

    @Sendable func addVolunteer(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try Self.staff(context)
        guard let phone = MobilePhone(form["phone"] ?? "") else {
            return try await listPage(context: context, error: "手机号 (phone):应为11位手机号 (an 11-digit mobile number)", status: .badRequest)
        }
        guard let grid = try? RegionCode(form["grid"] ?? "") else {
            return try await listPage(context: context, error: "网格 (grid):请选择网格 (choose a grid)", status: .badRequest)
        }
        do {
            _ = try await app.denyingOutOfScope(context, target: "grid:\(grid)") {
                try await app.store.helpers.addVolunteer(grid: grid, name: form["name"] ?? "", phone: phone, skills: form["skills"] ?? "",
                                                         availability: form["availability"] ?? "", viewer: viewer, address: context.address)
            }
            return try await listPage(context: context, notice: "已登记志愿者 \(form["name"] ?? "")")
        } catch StoreError.invalid(let field, let reason) {
            return try await listPage(context: context, error: "\(field):\(reason)", status: .badRequest)
        }
    }

    @Sendable func addUnit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try Self.staff(context)
        guard let community = try? RegionCode(form["community"] ?? "") else {
            return try await listPage(context: context, error: "社区 (community):请选择社区 (choose a community)", status: .badRequest)
        }
        do {
            _ = try await app.denyingOutOfScope(context, target: "community:\(community)") {
                try await app.store.helpers.addUnit(community: community, name: (form["name"] ?? "").trimmingCharacters(in: .whitespaces),
                                                    creditCode: form["code"] ?? "", kind: form["kind"] ?? "", services: form["services"] ?? "",
                                                    contact: form["contact"] ?? "", viewer: viewer, address: context.address)
            }
            return try await listPage(context: context, notice: "已登记共建单位 \(form["name"] ?? "")")
        } catch StoreError.invalid(let field, let reason) {
            return try await listPage(context: context, error: "\(field):\(reason)", status: .badRequest)
        } catch StoreError.conflict(let reason) {
            return try await listPage(context: context, error: reason, status: .conflict)
        }
    }

    struct Item: Sendable { let at: String; let what: String; let href: String?; let hours: String; let by: String }
    struct HelperPage: PageView {
        let title: String
        let helper: String
        let facts: [Option]
        let items: [Item]
        let total: String
        let notice: String?
        let error: String?
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await helperPage(try Self.helper(context), context: context)
    }

    static func helper(_ context: AppRequestContext) throws -> Helper {
        guard let h = Helper(context.parameters.get("helper") ?? "") else { throw AppError.notFound("编号无效 (no such helper)") }
        return h
    }

    private func helperPage(_ helper: Helper, context: AppRequestContext, notice: String? = nil, error: String? = nil,
                            status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try Self.staff(context)
        let area = Self.area(viewer)
        var title = "", facts: [Option] = []
        switch helper {
        case .volunteer(let id):
            guard let v = try await app.store.helpers.volunteers(under: area, viewer: viewer).first(where: { $0.id == id }) else {
                try await app.store.audit(actor: context.actor, action: "access.denied", target: "helper:\(helper.formValue)")
                throw AppError.notFound("未找到志愿者 (not found)")
            }
            title = "志愿者 \(v.name)"
            facts = [Option(value: "网格", label: v.grid.value), Option(value: "特长", label: v.skills), Option(value: "可服务时间", label: v.availability),
                     Option(value: "电话", label: v.phoneMasked)]
        case .unit(let id):
            guard let u = try await app.store.helpers.units(under: area, viewer: viewer).first(where: { $0.id == id }) else {
                try await app.store.audit(actor: context.actor, action: "access.denied", target: "helper:\(helper.formValue)")
                throw AppError.notFound("未找到共建单位 (not found)")
            }
            title = "共建单位 \(u.name)"
            facts = [Option(value: "统一社会信用代码", label: u.creditCode), Option(value: "类别", label: u.kind),
                     Option(value: "承诺服务", label: u.services), Option(value: "联系人", label: u.contact)]
        }
        let items = try await app.store.helpers.contributions(by: helper)
        let page = HelperPage(
            title: title, helper: helper.formValue, facts: facts,
            items: items.map { c in
                let (what, href): (String, String?) = switch c.target {
                case .matter(let id): ("协助事项 #\(id)", "/cases/\(id)")
                case .errand(let id): ("协助代办 #\(id)", "/errands/\(id)")
                case .none: ("社区服务", nil)
                }
                return Item(at: WorkCalendar.localText(c.at), what: c.note.isEmpty ? what : "\(what):\(c.note)", href: href, hours: Self.hours(c.hours), by: c.recordedBy)
            },
            total: Self.hours(items.reduce(0) { $0 + $1.hours }), notice: notice, error: error)
        return app.pages.response(status: status, page: page, template: "helper", context: context)
    }

    /// Help not tied to a matter or errand (a community activity), recorded from the helper's page.
    @Sendable func recordGeneral(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let helper = try Self.helper(context)
        do {
            try await record(helper, for: .none, form: form, context: context)
            return try await helperPage(helper, context: context, notice: "已记录")
        } catch StoreError.invalid(let field, let reason) {
            return try await helperPage(helper, context: context, error: "\(field):\(reason)", status: .badRequest)
        }
    }

    private func record(_ helper: Helper, for target: HelpTarget, form: Form, context: AppRequestContext) async throws {
        let viewer = try Self.staff(context)
        guard let hours = Double((form["hours"] ?? "").trimmingCharacters(in: .whitespaces)) else {
            throw StoreError.invalid(field: "时长 (hours)", reason: "请填写小时数,如1.5 (hours, like 1.5)")
        }
        try await app.denyingOutOfScope(context, target: "helper:\(helper.formValue)") {
            try await app.store.helpers.record(helper, for: target, hours: hours, note: form["note"] ?? "", viewer: viewer, address: context.address)
        }
    }

    /// On a matter's page: who helped, for how long. Only those who may see the matter.
    @Sendable func recordOnCase(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try Self.staff(context)
        let id = try context.positiveID()
        _ = try await app.denyingOutOfScope(context, target: "case:\(id)") { try await app.store.cases.detail(id, actor: .viewer(viewer)) }
        guard let helper = Helper(form["helper"] ?? "") else { throw AppError.badRequest("请选择志愿者或共建单位 (choose a helper)", code: "invalid_helper") }
        try await record(helper, for: .matter(id), form: form, context: context)
        return redirect(to: "/cases/\(id)")
    }

    @Sendable func recordOnErrand(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try Self.staff(context)
        let id = try context.positiveID()
        let d = try await app.denyingOutOfScope(context, target: "errand:\(id)") { try await app.store.errands.detail(id, actor: .viewer(viewer)) }
        guard d.roles.contains(.handler) else { throw AppError.notFound("未找到代办事项 (not found)") }
        guard let helper = Helper(form["helper"] ?? "") else { throw AppError.badRequest("请选择志愿者或共建单位 (choose a helper)", code: "invalid_helper") }
        try await record(helper, for: .errand(id), form: form, context: context)
        return redirect(to: "/errands/\(id)")
    }
}
