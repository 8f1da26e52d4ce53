import Foundation
import GridworkCore
import GridworkStore
import Hummingbird

/// Training (培训): courses in the viewer's part of the net, attendance taken by the office that ran the course,
/// each person's record (also on their own profile), and who is short of mandatory hours.
struct TrainingController: Sendable {
    let app: AppContext

    func register(on router: Router<AppRequestContext>) {
        router.get("/training", use: list)
        router.post("/training", use: addCourse)
        router.get("/training/overdue", use: overdue)
        router.get("/training/people/{login}", use: person)
        router.get("/training/{id}", use: course)
        router.post("/training/{id}/attendance", use: attendance)
    }

    static func staff(_ context: AppRequestContext) throws -> Viewer {
        try context.requireAdmin { $0.role.isNetStaff && $0.role != .apiToken }
    }

    static func teaches(_ v: Viewer) -> Bool { [.countyAdmin, .townshipAdmin, .communityStaff].contains(v.role) }

    struct Row: Sendable { let href: String; let title: String; let facts: String; let mandatory: Bool }
    struct ListPage: PageView {
        let title = "培训"
        let rows: [Row]
        let empty: Bool
        let mayAdd: Bool
        let watches: Bool
        let today: String
        let mine: String
        let notice: String?
        let error: String?
    }

    static func audience(_ a: String) -> String { a == "building_head" ? "楼栋长" : a == "grid_worker" ? "网格员、网格长" : "全体网格人员" }
    static func hours(_ h: Double) -> String { h == h.rounded() ? String(Int(h)) : String(format: "%.1f", h) }

    static func row(_ c: Course) -> Row {
        Row(href: "/training/\(c.id)", title: c.topic,
            facts: "\(c.day.iso) · \(hours(c.hours)) 学时 · 授课 \(c.trainer) · \(audience(c.audience)) · 已登记 \(c.attended) 人", mandatory: c.mandatory)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await listPage(context: context)
    }

    private func listPage(context: AppRequestContext, notice: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try Self.staff(context)
        let courses = try await app.store.training.courses(viewer)
        let page = ListPage(rows: courses.map(Self.row), empty: courses.isEmpty, mayAdd: Self.teaches(viewer), watches: Policy.netOfficers.contains(viewer.role),
                            today: CivilDate.today().iso, mine: "/training/people/\(viewer.login)", notice: notice, error: error)
        return app.pages.response(status: status, page: page, template: "training", context: context)
    }

    @Sendable func addCourse(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin(Self.teaches)
        guard let day = CivilDate(iso: form["day"] ?? "") else {
            return try await listPage(context: context, error: "日期 (date):格式应为2026-12-01 (a date like 2026-12-01)", status: .badRequest)
        }
        guard let hours = Double(form["hours"] ?? "") else {
            return try await listPage(context: context, error: "学时 (hours):请填写数字,如2 (a number)", status: .badRequest)
        }
        do {
            let id = try await app.store.training.addCourse(topic: (form["topic"] ?? "").trimmingCharacters(in: .whitespaces), day: day, hours: hours,
                                                            trainer: (form["trainer"] ?? "").trimmingCharacters(in: .whitespaces), mandatory: form["mandatory"] != nil,
                                                            audience: form["audience"] ?? "", viewer: viewer, address: context.address)
            return redirect(to: "/training/\(id)")
        } catch StoreError.invalid(let field, let reason) {
            return try await listPage(context: context, error: "\(field):\(reason)", status: .badRequest)
        }
    }

    struct Person: Sendable { let login: String; let name: String; let role: String; let attended: Bool }
    struct CoursePage: PageView {
        let title: String
        let id: Int64
        let facts: [Option]
        let people: [Person]
        let mayRecord: Bool
        let notice: String?
        let error: String?
    }

    @Sendable func course(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await coursePage(try context.positiveID(), context: context)
    }

    private func coursePage(_ id: Int64, context: AppRequestContext, notice: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try Self.staff(context)
        let c = try await app.denyingOutOfScope(context, target: "course:\(id)") { try await app.store.training.course(id, viewer: viewer) }
        let people = Self.teaches(viewer) ? try await app.store.training.roster(id, viewer: viewer) : []
        let page = CoursePage(title: c.topic, id: id,
                              facts: [Option(value: "日期", label: c.day.iso), Option(value: "学时", label: Self.hours(c.hours)),
                                      Option(value: "授课人", label: c.trainer), Option(value: "对象", label: Self.audience(c.audience)),
                                      Option(value: "性质", label: c.mandatory ? "必修" : "选修")],
                              people: people.map { Person(login: $0.login, name: $0.name, role: $0.role.label, attended: $0.attended) },
                              mayRecord: Self.teaches(viewer), notice: notice, error: error)
        return app.pages.response(status: status, page: page, template: "course", context: context)
    }

    @Sendable func attendance(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin(Self.teaches)
        let id = try context.positiveID()
        let logins = Set(form.values["attended"] ?? [])
        do {
            try await app.denyingOutOfScope(context, target: "course:\(id)") {
                try await app.store.training.recordAttendance(id, logins: logins, viewer: viewer, address: context.address)
            }
            return try await coursePage(id, context: context, notice: "已登记 \(logins.count) 人参加")
        } catch StoreError.invalid(let field, let reason) {
            return try await coursePage(id, context: context, error: "\(field):\(reason)", status: .badRequest)
        }
    }

    struct GapRow: Sendable { let href: String; let name: String; let facts: String; let hours: String }
    struct OverduePage: PageView {
        let title = "必修培训学时不足的人员"
        let rows: [GapRow]
        let empty: Bool
    }

    @Sendable func overdue(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try context.requireAdmin { Policy.netOfficers.contains($0.role) }
        let gaps = try await app.store.training.overdue(viewer, today: CivilDate.today())
        let page = OverduePage(rows: gaps.map { g in
            GapRow(href: "/training/people/\(g.login)", name: "\(g.name)(\(g.role.label))", facts: g.scope.value,
                   hours: "近一年必修 \(Self.hours(g.hours)) / \(Self.hours(g.required)) 学时")
        }, empty: gaps.isEmpty)
        return app.pages.response(page: page, template: "training-overdue", context: context)
    }

    struct PersonPage: PageView {
        let title: String
        let rows: [Row]
        let empty: Bool
        let total: String
    }

    /// One person's training record: their own, or — for officers — anyone in their scope.
    @Sendable func person(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try Self.staff(context)
        let login = context.parameters.get("login") ?? ""
        guard let user = try await app.store.accounts.user(login),
              user.login == viewer.login || (Policy.netOfficers.contains(viewer.role) && viewer.covers(user.scope)) else {
            try await app.store.audit(actor: context.actor, action: "access.denied", target: "training:\(login.prefix(40))")
            throw AppError.notFound("未找到此人 (not found)")
        }
        let record = try await app.store.training.record(of: login)
        let year = CivilDate.today().daysSinceEpoch - 365
        let mandatory = record.filter { $0.mandatory && $0.day.daysSinceEpoch > year }.reduce(0) { $0 + $1.hours }
        let page = PersonPage(title: "\(user.name) 的培训记录", rows: record.map(Self.row), empty: record.isEmpty,
                              total: "近一年必修 \(Self.hours(mandatory)) 学时,要求 \(Self.hours(TrainingStore.requiredHours[user.role] ?? 0)) 学时")
        return app.pages.response(page: page, template: "training-person", context: context)
    }
}
