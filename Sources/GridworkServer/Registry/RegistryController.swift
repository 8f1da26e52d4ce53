import Foundation
import GridworkCore
import GridworkStore
import Hummingbird

/// The registry one person and one dwelling at a time: search, a resident's page and a
/// household's page with their history, births, moves and deaths, how a dwelling is used,
/// and spreadsheets of everyone in a scope. Pages for staff; the store applies scope and duty.
struct RegistryController: Sendable {
    let app: AppContext

    func register(on router: Router<AppRequestContext>) {
        router.get("/registry/search", use: searchForm)
        router.post("/registry/search", use: search)
        router.get("/registry/residents/{id}", use: resident)
        router.post("/registry/residents/{id}/unmask", use: unmask)
        router.post("/registry/residents/{id}/departure", use: departure)
        router.get("/registry/households/{id}", use: household)
        router.post("/registry/households/{id}/arrival", use: arrival)
        router.post("/registry/households/{id}/occupancy", use: occupancy)
        router.post("/registry/export", use: export)
        let api = router.group("/api/v1")
        api.get("/residents/{id}", use: residentJSON)
    }

    /// Everyone who reads residents at all: net staff and department officers, in a browser session.
    static func reader(_ context: AppRequestContext) throws -> Viewer {
        try context.requireAdmin { Policy.visibleTags(for: $0) != nil }
    }

    // MARK: search


    struct Hit: Sendable {
        let href: String
        let name: String
        let facts: String
        let id: String
        let phone: String?
        let place: String
        let placeHref: String
        let status: String?
        let tags: [String]
    }

    struct SearchPage: PageView {
        let title = "查找居民"
        let name: String
        let id: String
        let phone: String
        let address: String
        let minAge: String
        let maxAge: String
        let former: Bool
        let tags: [Option]
        let scope: String
        let hits: [Hit]
        let searched: Bool
        let more: Bool
        let count: Int
        let error: String?
    }

    @Sendable func searchForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try Self.reader(context)
        return try await searchPage(viewer: viewer, form: [:], context: context)
    }

    /// A POST, so an ID number or phone typed in never lands in a URL, a proxy log or the browser history.
    @Sendable func search(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try Self.reader(context)
        let query: ResidentQuery
        do { query = try ResidentQuery.parse(form.fields) } catch {
            return try await searchPage(viewer: viewer, form: form.fields, context: context, error: error.description, status: .badRequest)
        }
        guard !query.isEmpty else {
            return try await searchPage(viewer: viewer, form: form.fields, context: context,
                                        error: "请至少填写一个条件 (enter at least one criterion)", status: .badRequest)
        }
        let today = CivilDate.today()
        let found = try await app.store.registry.search(query, viewer: viewer, today: today)
        let hits = found.hits.map { p in
            Hit(href: "/registry/residents/\(p.person.id)", name: p.person.name,
                facts: "\(p.person.sex.label) · \(p.person.birthDate.years(until: today))岁 · \(p.person.relation.label)",
                id: p.person.idMasked, phone: p.person.phoneMasked, place: p.buildingName + p.person.room,
                placeHref: "/registry/households/\(p.householdID)", status: p.status == .present ? nil : p.status.label,
                tags: p.person.tags.map(\.label))
        }
        return try await searchPage(viewer: viewer, form: form.fields, context: context, hits: hits, searched: true, more: found.more)
    }

    private func searchPage(viewer: Viewer, form: [String: String], context: AppRequestContext, hits: [Hit] = [], searched: Bool = false,
                            more: Bool = false, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let visible = Policy.visibleTags(for: viewer) ?? []
        let f: (String) -> String = { String((form[$0] ?? "").prefix(60)) }
        let page = SearchPage(
            name: f("name"), id: f("id"), phone: f("phone"), address: f("address"), minAge: f("min_age"), maxAge: f("max_age"),
            former: form["former"] == "on",
            tags: ResidentTag.allCases.filter(visible.contains).map { Option(value: $0.rawValue, label: $0.label, selected: form["tag"] == $0.rawValue) },
            scope: viewer.scope.value, hits: hits, searched: searched, more: more, count: hits.count, error: error)
        return app.pages.response(status: status, page: page, template: "registry-search", context: context)
    }

    // MARK: a resident

    struct HistoryRow: Sendable { let at: String; let who: String; let what: String; let detail: String; let by: String }

    struct ResidentPage: PageView {
        let title: String
        let id: Int64
        let facts: String
        let status: String?
        let present: Bool
        let idText: String
        let idRevealed: Bool
        let canUnmaskID: Bool
        let phoneText: String?
        let phoneRevealed: Bool
        let canUnmaskPhone: Bool
        let tags: [String]
        let address: String
        let registeredAddress: String
        let householdHref: String
        let place: String
        let buildingHref: String
        let buildingName: String
        let history: [HistoryRow]
        let mayEdit: Bool
        let today: String
        let notice: String?
        let error: String?
    }

    @Sendable func resident(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try Self.reader(context)
        return try await residentPage(try context.positiveID(), viewer: viewer, context: context)
    }

    private func residentPage(_ id: Int64, viewer: Viewer, context: AppRequestContext, revealed: BuildingPage.Revealed? = nil,
                              notice: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let (p, history) = try await app.denyingOutOfScope(context, target: "resident:\(id)") {
            try await app.store.registry.resident(id, viewer: viewer)
        }
        let today = CivilDate.today()
        let idShown = revealed.flatMap { $0.field == .citizenID ? $0.value : nil }
        let phoneShown = revealed.flatMap { $0.field == .phone ? $0.value : nil }
        let page = ResidentPage(
            title: p.person.name, id: id,
            facts: "\(p.person.relation.label) · \(p.person.sex.label) · \(p.person.birthDate.iso)生 · \(p.person.birthDate.years(until: today))岁 · \(p.person.ethnicity)",
            status: p.status == .present ? nil : p.status.label, present: p.status == .present,
            idText: idShown ?? p.person.idMasked, idRevealed: idShown != nil,
            canUnmaskID: idShown == nil && Policy.mayUnmask(.citizenID, viewer: viewer),
            phoneText: phoneShown ?? p.person.phoneMasked, phoneRevealed: phoneShown != nil,
            canUnmaskPhone: phoneShown == nil && p.person.phoneMasked != nil && Policy.mayUnmask(.phone, viewer: viewer),
            tags: p.person.tags.map(\.label), address: p.address, registeredAddress: p.registeredAddress,
            householdHref: "/registry/households/\(p.householdID)", place: p.buildingName + p.person.room, buildingHref: "/net/\(p.building)",
            buildingName: p.buildingName, history: history.map(Self.historyRow), mayEdit: Policy.mayEditRegistry(viewer) && p.status == .present,
            today: today.iso, notice: notice, error: error)
        return app.pages.response(status: status, page: page, template: "registry-resident", context: context)
    }

    /// The resident's page again with one field revealed (audited in the store, in the same transaction).
    @Sendable func unmask(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try Self.reader(context)
        let id = try context.positiveID()
        let field = try NetController.field(form["field"] ?? "")
        let value = try await app.denyingOutOfScope(context, target: "resident:\(id)") {
            try await app.store.residents.unmask(field, of: id, viewer: viewer, address: context.address)
        }
        return try await residentPage(id, viewer: viewer, context: context, revealed: .init(resident: id, field: field, value: value))
    }

    /// 迁出 or 死亡: the person stays on the registry with the event in their history.
    @Sendable func departure(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin(Policy.mayEditRegistry)
        let id = try context.positiveID()
        do {
            let event = try LifeEvent.parseDeparture(form.fields, today: .today())
            try await app.denyingOutOfScope(context, target: "resident:\(id)") {
                try await app.store.registry.recordDeparture(event, resident: id, viewer: viewer, address: context.address)
            }
            return try await residentPage(id, viewer: viewer, context: context, notice: "已登记\(event.label) (recorded)")
        } catch let problem as FormProblem {
            return try await residentPage(id, viewer: viewer, context: context, error: problem.description, status: .badRequest)
        } catch StoreError.conflict(let reason) {
            return try await residentPage(id, viewer: viewer, context: context, error: reason, status: .conflict)
        }
    }

    // MARK: a household

    struct Member: Sendable { let href: String; let name: String; let facts: String; let status: String? }

    struct HouseholdPage: PageView {
        let title: String
        let id: Int64
        let address: String
        let buildingHref: String
        let buildingName: String
        let occupancy: String
        let occupancies: [Option]
        let members: [Member]
        let former: [Member]
        let relations: [Option]
        let history: [HistoryRow]
        let mayEdit: Bool
        let hasFormer: Bool
        let fields: NewPersonFields
        let notice: String?
        let error: String?
    }

    /// What the arrival form held, to show again after a refusal.
    struct NewPersonFields: Sendable {
        let name: String, idNumber: String, phone: String, ethnicity: String, origin: String, birth: Bool
        init(_ form: [String: String]) {
            let f: (String) -> String = { String((form[$0] ?? "").prefix(60)) }
            name = f("name"); idNumber = f("id_number"); phone = f("phone"); ethnicity = f("ethnicity"); origin = f("origin")
            birth = form["event"] == "birth"
        }
    }

    @Sendable func household(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try Self.reader(context)
        return try await householdPage(try context.positiveID(), viewer: viewer, context: context)
    }

    private func householdPage(_ id: Int64, viewer: Viewer, context: AppRequestContext, form: [String: String] = [:],
                               notice: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let h = try await app.denyingOutOfScope(context, target: "household:\(id)") {
            try await app.store.registry.household(id, viewer: viewer)
        }
        let today = CivilDate.today()
        func member(_ p: PersonDetail) -> Member {
            Member(href: "/registry/residents/\(p.person.id)", name: p.person.name,
                   facts: "\(p.person.relation.label) · \(p.person.sex.label) · \(p.person.birthDate.years(until: today))岁",
                   status: p.status == .present ? nil : p.status.label)
        }
        let page = HouseholdPage(
            title: h.room, id: id, address: h.address, buildingHref: "/net/\(h.building)", buildingName: h.buildingName,
            occupancy: h.occupancy.label,
            occupancies: Occupancy.allCases.map { Option(value: $0.rawValue, label: $0.label, selected: $0 == h.occupancy) },
            members: h.members.map(member), former: h.former.map(member),
            relations: Relation.allCases.map { Option(value: $0.rawValue, label: $0.label, selected: form["relation"] == $0.rawValue) },
            history: h.history.map(Self.historyRow), mayEdit: Policy.mayEditRegistry(viewer), hasFormer: !h.former.isEmpty,
            fields: NewPersonFields(form), notice: notice, error: error)
        return app.pages.response(status: status, page: page, template: "registry-household", context: context)
    }

    /// 出生 or 迁入 into this dwelling.
    @Sendable func arrival(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin(Policy.mayEditRegistry)
        let id = try context.positiveID()
        do {
            let person = try NewResident.parse(form.fields, today: .today())
            try await app.denyingOutOfScope(context, target: "household:\(id)") {
                try await app.store.registry.recordArrival(person, household: id, viewer: viewer, address: context.address)
            }
            return try await householdPage(id, viewer: viewer, context: context, notice: "已登记\(person.event.label):\(person.name) (recorded)")
        } catch let problem as FormProblem {
            return try await householdPage(id, viewer: viewer, context: context, form: form.fields, error: problem.description, status: .badRequest)
        } catch StoreError.conflict(let reason) {
            return try await householdPage(id, viewer: viewer, context: context, form: form.fields, error: reason, status: .conflict)
        }
    }

    @Sendable func occupancy(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin(Policy.mayEditRegistry)
        let id = try context.positiveID()
        guard let occupancy = Occupancy(rawValue: form["occupancy"] ?? "") else {
            return try await householdPage(id, viewer: viewer, context: context,
                                           error: "房屋使用情况应为自住、出租或空置 (owner_occupied, rented or vacant)", status: .badRequest)
        }
        try await app.denyingOutOfScope(context, target: "household:\(id)") {
            try await app.store.registry.setOccupancy(occupancy, household: id, viewer: viewer, address: context.address)
        }
        return try await householdPage(id, viewer: viewer, context: context, notice: "已改为\(occupancy.label) (saved)")
    }

    // MARK: export

    /// A spreadsheet of everyone living in a region or building of the viewer's scope; masked unless asked
    /// for and allowed. A POST with the CSRF token, since the file is personal data and the export is audited.
    @Sendable func export(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try Self.reader(context)
        let scope: RegionCode
        do { scope = try RegionCode(form["scope"] ?? viewer.scope.value) } catch {
            throw AppError.badRequest("导出范围代码无效:\(error.reason) (invalid scope code)", code: "invalid_code")
        }
        guard viewer.covers(scope) else {
            try await app.store.audit(actor: context.actor, action: "access.denied", target: "export:\(scope)")
            throw AppError.notFound("未找到区域 (not found): \(scope)")
        }
        guard let format = ExportFormat(rawValue: form["format"] ?? "csv") else {
            throw AppError.badRequest("格式应为 csv 或 xlsx (format must be csv or xlsx)", code: "invalid_format")
        }
        let unmasked = form["unmasked"] == "on"
        let narrowed = Viewer(userID: viewer.userID, login: viewer.login, role: viewer.role, scope: scope, department: viewer.department)
        let path = try exportPath(format)
        do {
            try await ResidentExporter(store: app.store).export(to: path, format: format, viewer: narrowed, unmasked: unmasked, address: context.address)
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        let name = "居民-\(scope)\(unmasked ? "-完整号码" : "")-\(CivilDate.today().compact).\(format.rawValue)"
        return download(path: path, name: name, asciiName: "residents-\(scope).\(format.rawValue)", contentType: format.contentType)
    }

    // MARK: API

    struct ResidentAnswer: ResponseEncodable {
        let resident: PersonDetail
        let history: [HistoryEntry]
    }

    /// One resident with their history, for integrations holding a `residents` token (masked).
    @Sendable func residentJSON(_ request: Request, context: AppRequestContext) async throws -> ResidentAnswer {
        let viewer = try context.requireArea("residents")
        let id = try context.positiveID()
        let (person, history) = try await app.denyingOutOfScope(context, target: "resident:\(id)") {
            try await app.store.registry.resident(id, viewer: viewer)
        }
        return ResidentAnswer(resident: person, history: history)
    }

    // MARK: helpers

    static let fieldLabels = ["name": "姓名", "ethnicity": "民族", "phone": "联系电话", "household": "住户", "relation": "与户主关系",
                              "address": "现住址", "registered_address": "户籍地址", "tags": "人员类别"]

    /// A history entry in words: 迁出 → 长沙市; 修改 联系电话 138****0001 → 139****0002.
    static func historyRow(_ e: HistoryEntry) -> HistoryRow {
        func relation(_ v: String?) -> String { v.flatMap { Relation(rawValue: $0)?.label } ?? v ?? "" }
        let (what, detail): (String, String) = switch e.kind {
        case "created": ("建档", "")
        case "born": ("出生登记", e.new.map { "落户 \($0)" } ?? "")
        case "moved_in": ("迁入", [e.old, e.new].compactMap { $0 }.joined(separator: " → "))
        case "moved_out": ("迁出", e.new.map { "迁往 \($0)" } ?? "")
        case "died": ("死亡", e.new ?? "")
        case "updated":
            ("修改\(fieldLabels[e.field ?? ""] ?? e.field ?? "")",
             e.field == "relation" ? "\(relation(e.old)) → \(relation(e.new))" : "\(e.old ?? "") → \(e.new ?? "")")
        default: (e.kind, e.new ?? "")
        }
        let source = e.source.hasPrefix("import:") ? "导入#\(e.source.dropFirst(7))" : e.source == "web" ? "网页登记" : e.source
        return HistoryRow(at: AccessController.local(e.at), who: e.name, what: what, detail: detail, by: "\(e.actor) · \(source)")
    }
}
