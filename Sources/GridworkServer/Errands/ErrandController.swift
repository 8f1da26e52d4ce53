import Foundation
import GridworkCore
import GridworkStore
import Hummingbird

/// Errands (帮办代办) as pages: the catalogue for everyone; a resident asks on a phone (with or without an
/// account: a code and the phone follow the errand) or a building head records it at the door; the person it is
/// assigned to carries it through its steps; the resident follows it and rates it; the county edits the catalogue.
struct ErrandController: Sendable {
    let app: AppContext

    static let uploadLimit = 3 * PhotoCheck.maxBytes + 128 * 1024

    func register(on router: Router<AppRequestContext>) {
        router.get("/errands", use: list)
        router.get("/errands/new", use: newForm)
        router.post("/errands/new", use: create)
        router.get("/errands/track", use: trackForm)
        router.post("/errands/track", use: track)
        router.post("/errands/track/act", use: trackAct)
        router.get("/errands/catalogue", use: catalogue)
        router.post("/errands/catalogue", use: saveKind)
        router.get("/errands/figures", use: figures)
        router.get("/errands/{id}", use: page)
        router.post("/errands/{id}/act", use: act)
        router.post("/errands/{id}/phone", use: revealPhone)
        router.get("/errands/{id}/photos/{photo}", use: photo)
    }

    // MARK: list and catalogue

    struct Kind: Sendable { let code: String; let name: String; let documents: String; let days: Int; let href: String }
    struct Row: Sendable { let href: String; let title: String; let facts: String; let state: String; let late: Bool }
    struct ListPage: PageView {
        let title: String
        let kinds: [Kind]
        let rows: [Row]
        let hasRows: Bool
        let staff: Bool
        let officer: Bool
        let county: Bool
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = context.session == nil ? nil : context.viewer
        let kinds = try await app.store.errands.kinds().map {
            Kind(code: $0.code, name: $0.name, documents: $0.documents, days: $0.days, href: "/errands/new?kind=\($0.code)")
        }
        let now = Clock.now()
        var rows: [ErrandRow] = []
        if let viewer { rows = try await app.store.errands.list(viewer) }
        let staff = viewer.map { $0.role.isNetStaff && $0.role != .apiToken } ?? false
        let page = ListPage(title: staff ? "代办事项" : "帮办代办", kinds: kinds,
                            rows: rows.map { r in
                                Row(href: "/errands/\(r.id)", title: "\(r.kindName) · \(r.personName)",
                                    facts: "\(r.address)\(r.room) · 时限 \(WorkCalendar.localText(r.dueAt))", state: r.state.label, late: r.late(at: now))
                            },
                            hasRows: !rows.isEmpty, staff: staff, officer: viewer.map(Policy.watchesCases) ?? false,
                            county: viewer?.role == .countyAdmin)
        return app.pages.response(page: page, template: "errands", context: context)
    }

    struct CataloguePage: PageView {
        let title = "代办事项目录"
        let kinds: [Kind]
        let inactive: [Kind]
        let hasInactive: Bool
        let notice: String?
        let error: String?
    }

    @Sendable func catalogue(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.requireAdmin { $0.role == .countyAdmin }
        return try await cataloguePage(context: context)
    }

    private func cataloguePage(context: AppRequestContext, notice: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let all = try await app.store.errands.kinds(activeOnly: false).map {
            (Kind(code: $0.code, name: $0.name, documents: $0.documents, days: $0.days, href: ""), $0.active)
        }
        let inactive = all.filter { !$0.1 }.map(\.0)
        let page = CataloguePage(kinds: all.filter(\.1).map(\.0), inactive: inactive, hasInactive: !inactive.isEmpty, notice: notice, error: error)
        return app.pages.response(status: status, page: page, template: "errand-catalogue", context: context)
    }

    @Sendable func saveKind(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin { $0.role == .countyAdmin }
        guard let days = Int(form["days"] ?? "") else {
            return try await cataloguePage(context: context, error: "办理时限 (days):请填写天数 (a number of days)", status: .badRequest)
        }
        let kind = ErrandKind(code: (form["code"] ?? "").trimmingCharacters(in: .whitespaces), name: (form["name"] ?? "").trimmingCharacters(in: .whitespaces),
                              documents: (form["documents"] ?? "").trimmingCharacters(in: .whitespaces), days: days, active: form["active"] != nil)
        do {
            try await app.store.errands.saveKind(kind, viewer: viewer, address: context.address)
            return try await cataloguePage(context: context, notice: "已保存“\(kind.name)”")
        } catch StoreError.invalid(let field, let reason) {
            return try await cataloguePage(context: context, error: "\(field):\(reason)", status: .badRequest)
        }
    }

    // MARK: asking

    struct NewPage: PageView {
        let title: String
        let csrf: String
        let staff: Bool
        let kinds: [Option]
        let documents: String?
        let kind: String
        /// nil until the building is found: the page offers the search first.
        let building: String?
        let buildingName: String?
        let query: String
        let found: [Option]
        let searched: Bool
        let key: String
        let name: String
        let phone: String
        let room: String
        let note: String
        let error: String?
    }

    @Sendable func newForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await newPage(request, context: context, form: [:])
    }

    private func newPage(_ request: Request, context: AppRequestContext, form: [String: String], error: String? = nil,
                         status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = context.session == nil ? nil : context.viewer
        let staff = viewer.map { $0.role != .resident } ?? false
        let q = request.uri.queryParameters
        let kindCode = form["kind"] ?? q.get("kind").map { String($0) } ?? ""
        let kinds = try await app.store.errands.kinds()
        var building = form["building"] ?? q.get("building").map { String($0) } ?? ""
        if building.isEmpty, let v = viewer, v.scope.level == .building { building = v.scope.value }
        var buildingName: String?
        if let code = try? RegionCode(building), code.level == .building, let d = try? await app.store.net.building(code) {
            buildingName = d.building.address
        } else { building = "" }
        let query = searchText(request)
        let found = query.isEmpty ? [] : try await app.store.net.findBuildings(query).map { Option(value: $0.code.value, label: $0.address) }
        let csrf = context.session?.csrf ?? Form.anonymousToken(request)
        let f: (String) -> String = { String((form[$0] ?? "").prefix(1000)) }
        let page = NewPage(title: staff ? "登记代办(上门)" : "申请代办", csrf: csrf, staff: staff,
                           kinds: kinds.map { Option(value: $0.code, label: "\($0.name)(\($0.days)天内)", selected: $0.code == kindCode) },
                           documents: kinds.first { $0.code == kindCode }.map { "需准备:\($0.documents)" }, kind: kindCode,
                           building: building.isEmpty ? nil : building, buildingName: buildingName,
                           query: query, found: found, searched: !query.isEmpty, key: form["key"] ?? UUID().uuidString,
                           name: f("name"), phone: f("phone"), room: f("room"), note: f("note"), error: error)
        var response = app.pages.response(status: status, page: page, template: "errand-new", context: context)
        if context.session == nil { Form.setAnonymousToken(csrf, on: &response, request: request) }
        return response
    }

    struct DonePage: PageView {
        let title = "代办申请已收到"
        let code: String
        let kind: String
        let due: String
        let documents: String
        let href: String?
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store, limit: Self.uploadLimit)
        let viewer = context.session == nil ? nil : context.viewer
        do {
            let r = try ErrandRequest.parse(form.fields, phoneRequired: viewer == nil)
            guard let building = try? RegionCode(form["building"] ?? ""), building.level == .building else {
                throw FormProblem(field: "楼栋 (building)", reason: "请先找到所在的楼栋 (find the building first)")
            }
            let made = try await app.denyingOutOfScope(context, target: "building:\(building)") {
                try await app.store.errands.request(r, building: building, photos: form.files["photo"] ?? [], by: viewer,
                                                    key: form["key"].map { "web:" + String($0.prefix(64)) })
            }
            let kind = try await app.store.errands.kinds().first { $0.code == r.kind }
            let detail = try await app.store.errands.detail(made.id, actor: viewer.map(ErrandActor.viewer) ?? .requester(code: made.code, phone: r.phone!))
            let page = DonePage(code: made.code, kind: kind?.name ?? r.kind, due: WorkCalendar.localText(detail.row.dueAt),
                                documents: kind?.documents ?? "", href: viewer.map { _ in "/errands/\(made.id)" })
            return app.pages.response(page: page, template: "errand-done", context: context)
        } catch let problem as FormProblem {
            return try await newPage(request, context: context, form: form.fields, error: problem.description, status: .badRequest)
        } catch StoreError.invalid(let field, let reason) {
            return try await newPage(request, context: context, form: form.fields, error: "\(field):\(reason)", status: .badRequest)
        }
    }

    // MARK: following an errand

    struct Step: Sendable { let at: String; let label: String; let who: String; let note: String }
    struct ActionForm: Sendable { let name: String; let label: String; let reason: Bool; let office: Bool; let note: Bool; let score: Bool; let danger: Bool }
    struct ErrandPage: PageView {
        let title: String
        let id: Int64
        let code: String
        let state: String
        let facts: [Option]
        let documents: String
        let note: String?
        let steps: [Step]
        let photos: [String]
        let actions: [ActionForm]
        let hasActions: Bool
        let version: Int
        let trackPhone: String?
        let csrf: String
        let action: String
        let helpers: [String]
        let helperOptions: [Option]
        let mayAddHelper: Bool
        /// The whole phone, after the handler asked to see it (audited); or whether they may ask.
        let phone: String?
        let mayReveal: Bool
        let notice: String?
        let error: String?
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try context.requireAdmin { _ in true }
        return try await errandPage(try context.positiveID(), actor: .viewer(viewer), request: request, context: context)
    }

    func errandPage(_ id: Int64, actor: ErrandActor, request: Request, context: AppRequestContext, notice: String? = nil, error: String? = nil,
                    status: HTTPResponse.Status = .ok, phone revealed: String? = nil) async throws -> Response {
        let d = try await app.denyingOutOfScope(context, target: "errand:\(id)") { try await app.store.errands.detail(id, actor: actor) }
        var facts = [Option(value: "办事人", label: "\(d.row.personName)\(d.row.phoneMasked.map { " \($0)" } ?? "")"),
                     Option(value: "地址", label: "\(d.row.address)\(d.row.room)"),
                     Option(value: "时限", label: WorkCalendar.localText(d.row.dueAt)), Option(value: "查询码", label: d.row.code)]
        if let office = d.office { facts.append(Option(value: "经办部门", label: office)) }
        if let r = d.row.rating { facts.append(Option(value: "评价", label: "\(r)分 \(d.ratingComment ?? "")")) }
        var trackPhone: String?
        if case .requester(_, let phone) = actor { trackPhone = phone.value }
        let handler = d.roles.contains(.handler)
        var helpers: [String] = [], options: [Option] = []
        if handler, case .viewer = actor {
            helpers = try await app.store.helpers.contributions(for: .errand(id)).map { "\($0.helperName) \($0.hours) 小时 \($0.note)" }
            options = try await app.store.helpers.available(near: d.row.building.parent!).map { Option(value: $0.helper.formValue, label: $0.label) }
        }
        let page = ErrandPage(
            title: d.row.kindName, id: id, code: d.row.code, state: d.row.state.label, facts: facts, documents: d.documents,
            note: d.note.isEmpty ? nil : d.note,
            steps: d.steps.map { Step(at: WorkCalendar.localText($0.at), label: Self.stepLabel($0.action), who: $0.actor, note: $0.note) },
            photos: trackPhone == nil ? d.photos.map { "/errands/\(id)/photos/\($0)" } : [],
            actions: d.actions.map { name in
                ActionForm(name: name, label: Self.stepLabel(name), reason: name == "decline", office: name == "wait", note: name == "finish",
                           score: name == "rate", danger: name == "decline" || name == "cancel")
            },
            hasActions: !d.actions.isEmpty, version: d.row.version, trackPhone: trackPhone, csrf: context.session?.csrf ?? Form.anonymousToken(request),
            action: trackPhone == nil ? "/errands/\(id)/act" : "/errands/track/act",
            helpers: helpers, helperOptions: options, mayAddHelper: !options.isEmpty, phone: revealed,
            mayReveal: revealed == nil && handler && d.row.phoneMasked != nil && {
                if case .viewer(let v) = actor { return Policy.mayUnmask(.phone, viewer: v) } else { return false }
            }(), notice: notice, error: error)
        var response = app.pages.response(status: status, page: page, template: "errand", context: context)
        if context.session == nil { Form.setAnonymousToken(page.csrf, on: &response, request: request) }
        return response
    }

    @Sendable func revealPhone(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin { _ in true }
        let id = try context.positiveID()
        let phone = try await app.denyingOutOfScope(context, target: "errand:\(id)") {
            try await app.store.errands.revealPhone(id, viewer: viewer, address: context.address)
        }
        return try await errandPage(id, actor: .viewer(viewer), request: request, context: context, phone: phone)
    }

    static func stepLabel(_ action: String) -> String {
        switch action {
        case "request": "申请"
        case "accept": "受理"
        case "decline": "不予代办"
        case "start": "开始办理"
        case "wait": "已交部门办理"
        case "resume": "部门已办完,继续"
        case "finish": "办结"
        case "rate": "评价"
        case "cancel": "撤销"
        default: action
        }
    }

    @Sendable func act(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin { _ in true }
        return try await perform(form, on: try context.positiveID(), actor: .viewer(viewer), request: request, context: context)
    }

    private func perform(_ form: Form, on id: Int64, actor: ErrandActor, request: Request, context: AppRequestContext) async throws -> Response {
        guard let version = form["version"].flatMap(Int.init) else {
            return try await errandPage(id, actor: actor, request: request, context: context, error: "缺少版本号,请刷新页面 (version missing; reload)", status: .badRequest)
        }
        do {
            let action = try ErrandMachine.parse(form.fields)
            try await app.denyingOutOfScope(context, target: "errand:\(id)") {
                try await app.store.errands.act(action, on: id, version: version, actor: actor)
            }
            return try await errandPage(id, actor: actor, request: request, context: context, notice: "已记录:\(action.label)")
        } catch let problem as FormProblem {
            return try await errandPage(id, actor: actor, request: request, context: context, error: problem.description, status: .badRequest)
        } catch StoreError.invalid(let field, let reason) {
            return try await errandPage(id, actor: actor, request: request, context: context, error: "\(field):\(reason)", status: .badRequest)
        } catch StoreError.conflict(let reason) {
            return try await errandPage(id, actor: actor, request: request, context: context, error: reason, status: .conflict)
        }
    }

    struct TrackPage: PageView {
        let title = "代办进度查询"
        let csrf: String
        let code: String
        let error: String?
    }

    @Sendable func trackForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        trackPage(request, context: context, code: request.uri.queryParameters.get("code").map { String($0) } ?? "", error: nil, status: .ok)
    }

    private func trackPage(_ request: Request, context: AppRequestContext, code: String, error: String?, status: HTTPResponse.Status) -> Response {
        let csrf = context.session?.csrf ?? Form.anonymousToken(request)
        var response = app.pages.response(status: status, page: TrackPage(csrf: csrf, code: String(code.prefix(12)), error: error), template: "errand-track", context: context)
        if context.session == nil { Form.setAnonymousToken(csrf, on: &response, request: request) }
        return response
    }

    static func requester(_ form: Form) -> ErrandActor? {
        let code = (form["code"] ?? "").trimmingCharacters(in: .whitespaces).uppercased()
        guard (6...12).contains(code.count), let phone = MobilePhone(form["phone"] ?? "") else { return nil }
        return .requester(code: code, phone: phone)
    }

    @Sendable func track(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        guard let actor = Self.requester(form), case .requester(let code, let phone) = actor, let id = try? await app.store.errands.find(code: code, phone: phone) else {
            try await app.store.audit(actor: context.actor, action: "errands.track_failed", target: "errand:\(form["code"]?.prefix(12) ?? "")")
            return trackPage(request, context: context, code: form["code"] ?? "", error: "查询码与手机号不匹配 (no errand with this code and phone)", status: .notFound)
        }
        return try await errandPage(id, actor: actor, request: request, context: context)
    }

    @Sendable func trackAct(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        guard let actor = Self.requester(form), case .requester(let code, let phone) = actor, let id = try? await app.store.errands.find(code: code, phone: phone) else {
            throw AppError.notFound("查询码与手机号不匹配 (no errand with this code and phone)")
        }
        return try await perform(form, on: id, actor: actor, request: request, context: context)
    }

    @Sendable func photo(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try context.requireAdmin { _ in true }
        let id = try context.positiveID(), photo = try context.positiveID("photo")
        let image = try await app.denyingOutOfScope(context, target: "errand:\(id)") {
            try await app.store.errands.photo(photo, of: id, actor: .viewer(viewer))
        }
        return Response(status: .ok, headers: [.contentType: image.contentType, .cacheControl: "private, max-age=86400",
                                               .init("X-Content-Type-Options")!: "nosniff"],
                        body: .init(byteBuffer: ByteBuffer(bytes: image.bytes)))
    }

    // MARK: figures

    struct FigureRow: Sendable { let name: String; let done: Int; let onTime: String; let rating: String }
    struct FiguresPage: PageView {
        let title = "代办统计(按经办人)"
        let from: String
        let to: String
        let rows: [FigureRow]
        let empty: Bool
    }

    @Sendable func figures(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try context.requireAdmin(Policy.watchesCases)
        let q = request.uri.queryParameters
        let today = CivilDate.today()
        let from = q.get("from").flatMap { CivilDate(iso: String($0)) } ?? CivilDate(daysSinceEpoch: today.daysSinceEpoch - 30)
        let to = q.get("to").flatMap { CivilDate(iso: String($0)) } ?? today
        let start = from.daysSinceEpoch * 86_400 - WorkCalendar.offset, end = (to.daysSinceEpoch + 1) * 86_400 - WorkCalendar.offset
        let rows = try await app.store.errands.figures(under: viewer.scope, from: start, to: end, viewer: viewer)
        let page = FiguresPage(from: from.iso, to: to.iso, rows: rows.map { r in
            FigureRow(name: r.name.isEmpty ? r.login : "\(r.name)(\(r.login))", done: r.done,
                      onTime: "\(r.onTime)(\(r.done == 0 ? 0 : r.onTime * 100 / r.done)%)",
                      rating: r.averageRating.map { String(format: "%.1f 分(%d 人评价)", $0, r.rated) } ?? "暂无评价")
        }, empty: rows.isEmpty)
        return app.pages.response(page: page, template: "errand-figures", context: context)
    }
}
