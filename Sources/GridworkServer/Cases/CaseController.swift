import Foundation
import GridworkCore
import GridworkStore
import Hummingbird

/// Matters on a clock, as pages: a resident reports on a phone (with or without an account) and follows it
/// with a tracking code and their phone; staff take matters in, dispatch, handle, check and close them from
/// an inbox that puts the late ones first; the level above watches the supervision board.
struct CaseController: Sendable {
    let app: AppContext

    /// Six photos of up to 5 MB each, with room for the form around them.
    static let uploadLimit = 6 * PhotoCheck.maxBytes + 512 * 1024

    func register(on router: Router<AppRequestContext>) {
        router.get("/report", use: reportForm)
        router.post("/report", use: report)
        router.get("/track", use: trackForm)
        router.post("/track", use: track)
        router.post("/track/act", use: trackAct)
        router.get("/cases", use: inbox)
        router.get("/cases/new", use: newForm)
        router.get("/cases/board", use: board)
        router.get("/cases/{id}", use: page)
        router.post("/cases/{id}/act", use: act)
        router.get("/cases/{id}/photos/{photo}", use: photo)
    }

    // MARK: view models

    struct CategoryGroup: Sendable { let name: String; let options: [Option] }

    struct ReportPage: PageView {
        let title: String
        let csrf: String
        let staff: Bool
        let building: String
        let buildingName: String?
        let found: [Option]
        let query: String
        let searched: Bool
        let groups: [CategoryGroup]
        let channels: [Option]
        let key: String
        let description: String
        let name: String
        let phone: String
        let error: String?
    }

    struct DonePage: PageView {
        let title = "已收到您反映的问题"
        let code: String
        let caseTitle: String
        let due: String
        let staffHref: String?
    }

    struct TrackPage: PageView {
        let title = "查询办理进度"
        let csrf: String
        let code: String
        let error: String?
    }

    struct Row: Sendable {
        let href: String
        let title: String
        let facts: String
        let state: String
        let light: String
        let lightLabel: String
        let due: String
    }

    struct ListPage: PageView {
        let title: String
        let hint: String
        let rows: [Row]
        let mayReport: Bool
        let residentReport: Bool
        let managesHooks: Bool
        let boardHref: String?
        let notices: [String]
        /// Set when the inbox shows only its most urgent part.
        var moreHref: String? = nil
    }

    /// How many matters the inbox shows before "show all": the reddest, then the soonest due.
    static let inboxFirst = 30

    struct Step: Sendable { let at: String; let label: String; let who: String; let note: String; let late: Bool; let photos: [String] }

    struct ActionForm: Sendable {
        let name: String
        let label: String
        let reason: Bool
        let note: Bool
        let assignees: [Option]
        let hasAssignees: Bool
        let days: Bool
        let verify: Bool
        let approve: Bool
        let score: Bool
        let photo: Bool
        let danger: Bool
    }

    struct CasePage: PageView {
        let title: String
        let id: Int64
        let code: String
        let state: String
        let light: String
        let lightLabel: String
        let facts: [Option]
        let description: String
        let steps: [Step]
        let actions: [ActionForm]
        let hasActions: Bool
        let version: Int
        /// Set for a reporter without an account: the forms carry code and phone instead of a session.
        let trackPhone: String?
        let csrf: String
        let action: String
        /// Volunteers and partner units who helped, and who could (for net staff who may see the matter).
        let helpers: [String]
        let helperOptions: [Option]
        let mayAddHelper: Bool
        let notice: String?
        let error: String?
    }

    // MARK: reporting

    /// The report form: a resident on a phone (from a building's page or its stairwell QR code), or staff entering a matter.
    @Sendable func reportForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await reportPage(request, context: context, form: [:])
    }

    @Sendable func newForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.requireAdmin { $0.role.isNetStaff || $0.role == .departmentOfficer }
        return try await reportPage(request, context: context, form: [:])
    }

    private func reportPage(_ request: Request, context: AppRequestContext, form: [String: String], error: String? = nil,
                            status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = context.session == nil ? nil : context.viewer
        let staff = viewer.map { $0.role != .resident } ?? false
        var building = form["building"] ?? request.uri.queryParameters.get("building").map { String($0) } ?? ""
        if building.isEmpty, let v = viewer, v.scope.level == .building { building = v.scope.value }
        var buildingName: String?
        if let code = try? RegionCode(building), code.level == .building, let detail = try? await app.store.net.building(code) {
            buildingName = detail.building.address
        } else {
            building = ""
        }
        let query = searchText(request)
        let found = query.isEmpty ? [] : try await app.store.net.findBuildings(query).map {
            Option(value: $0.code.value, label: $0.address, selected: false)
        }
        let categories = try await app.store.cases.categories()
        var groups: [CategoryGroup] = []
        for c in categories {
            let option = Option(value: c.code, label: c.name, selected: form["category"] == c.code)
            if groups.last?.name == c.groupName {
                groups[groups.count - 1] = CategoryGroup(name: c.groupName, options: groups[groups.count - 1].options + [option])
            } else {
                groups.append(CategoryGroup(name: c.groupName, options: [option]))
            }
        }
        let channels = Self.channels(for: viewer).map { Option(value: $0.rawValue, label: $0.label, selected: form["channel"] == $0.rawValue) }
        let csrf = context.session?.csrf ?? Form.anonymousToken(request)
        let f: (String) -> String = { String((form[$0] ?? "").prefix(2000)) }
        let page = ReportPage(title: staff ? "录入事项" : "反映问题", csrf: csrf, staff: staff, building: building, buildingName: buildingName,
                              found: found, query: query, searched: !query.isEmpty, groups: groups, channels: channels,
                              key: form["key"] ?? UUID().uuidString, description: f("description"), name: f("name"), phone: f("phone"),
                              error: error)
        var response = app.pages.response(status: status, page: page, template: "report", context: context)
        if context.session == nil { Form.setAnonymousToken(csrf, on: &response, request: request) }
        return response
    }

    /// The channels a person may enter a matter under: residents report for themselves; staff record where it came from.
    static func channels(for viewer: Viewer?) -> [Channel] {
        switch viewer?.role {
        case nil, .resident?: [.resident]
        case .buildingHead?: [.buildingHead, .groupChat, .patrol]
        case .gridWorker?, .gridLeader?: [.gridWorker, .groupChat, .patrol, .hotline]
        default: [.staff, .hotline, .groupChat]
        }
    }

    /// Takes the matter in; the same form sent twice (a retry on a bad connection) makes one matter.
    @Sendable func report(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store, limit: Self.uploadLimit)
        let viewer = context.session == nil ? nil : context.viewer
        do {
            let report = try CaseReport.parse(form.fields, phoneRequired: viewer == nil, allowedChannels: Self.channels(for: viewer))
            let code: RegionCode
            do { code = try RegionCode(form["building"] ?? "") } catch {
                throw FormProblem(field: "楼栋 (building)", reason: "请先找到您所在的楼栋 (find your building first)")
            }
            guard code.level == .building else { throw FormProblem(field: "楼栋 (building)", reason: "请先找到您所在的楼栋 (find your building first)") }
            let key = form["key"].map { String($0.prefix(64)) }
            let photos = (form.files["photo"] ?? []).map(CasePhoto.init)
            let made = try await app.store.cases.report(report, at: .building(code), photos: photos, by: viewer,
                                                        idempotencyKey: key.map { "web:" + $0 })
            let detail = try await app.store.cases.detail(made.id, actor: viewer.map(CaseActor.viewer) ?? .reporter(code: made.code, phone: report.reporterPhone!))
            let done = DonePage(code: made.code, caseTitle: detail.row.title, due: detail.row.dueAt.map(Self.local) ?? "",
                                staffHref: viewer.map { _ in "/cases/\(made.id)" })
            return app.pages.response(page: done, template: "report-done", context: context)
        } catch let problem as FormProblem {
            return try await reportPage(request, context: context, form: form.fields, error: problem.description, status: .badRequest)
        } catch StoreError.invalid(let field, let reason) {
            return try await reportPage(request, context: context, form: form.fields, error: "\(field):\(reason)", status: .badRequest)
        }
    }

    // MARK: tracking without an account

    @Sendable func trackForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        trackPage(request, context: context, code: request.uri.queryParameters.get("code").map { String($0) } ?? "", error: nil, status: .ok)
    }

    private func trackPage(_ request: Request, context: AppRequestContext, code: String, error: String?, status: HTTPResponse.Status) -> Response {
        let csrf = context.session?.csrf ?? Form.anonymousToken(request)
        var response = app.pages.response(status: status, page: TrackPage(csrf: csrf, code: String(code.prefix(12)), error: error),
                                          template: "track", context: context)
        if context.session == nil { Form.setAnonymousToken(csrf, on: &response, request: request) }
        return response
    }

    /// Tracking code and phone: both must match, or nothing is shown (and nothing tells which was wrong).
    @Sendable func track(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        guard let actor = Self.reporter(form) else {
            return trackPage(request, context: context, code: form["code"] ?? "", error: "请填写查询码和手机号 (code and phone are required)", status: .badRequest)
        }
        guard case .reporter(let code, let phone) = actor, let id = try? await app.store.cases.find(code: code, phone: phone) else {
            try await app.store.audit(actor: context.actor, action: "cases.track_failed", target: "case:\(form["code"]?.prefix(12) ?? "")")
            return trackPage(request, context: context, code: form["code"] ?? "",
                             error: "查询码与手机号不匹配 (no matter with this code and phone)", status: .notFound)
        }
        return try await casePage(id, actor: actor, request: request, context: context)
    }

    /// A reporter without an account rates or reopens their matter; the form carries code and phone again.
    @Sendable func trackAct(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        guard let actor = Self.reporter(form), case .reporter(let code, let phone) = actor,
              let id = try? await app.store.cases.find(code: code, phone: phone) else {
            throw AppError.notFound("查询码与手机号不匹配 (no matter with this code and phone)")
        }
        return try await perform(form, on: id, actor: actor, request: request, context: context)
    }

    static func reporter(_ form: Form) -> CaseActor? {
        let code = (form["code"] ?? "").trimmingCharacters(in: .whitespaces).uppercased()
        guard (6...12).contains(code.count), let phone = MobilePhone(form["phone"] ?? "") else { return nil }
        return .reporter(code: code, phone: phone)
    }

    // MARK: staff

    /// The inbox: what needs this person, late first — the first `inboxFirst`, or all with `?all=1`.
    /// Residents with an account see the matters they reported. The page is kept per session until
    /// something changes (`InboxPages`).
    @Sendable func inbox(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try context.requireAdmin { _ in true }
        let all = request.uri.queryParameters.get("all") == "1"
        let now = Clock.now()
        // Taken before anything is read: a change committed while this page is built makes the kept copy stale at once.
        let changes = app.store.database.changeCount
        let app = app
        // Builds the page and says when its first light changes colour (a kept copy must not outlive that).
        let build: @Sendable () async throws -> (html: String, lightChange: Int64?) = {
            let limit = all ? 500 : Self.inboxFirst + 1
            var rows: [CaseRow]
            let title: String, hint: String
            if viewer.role == .resident {
                rows = try await app.store.cases.reportedBy(viewer, limit: limit)
                (title, hint) = ("我反映的问题", "点开可查看每一步的办理情况,办结后请评价。")
            } else {
                rows = try await app.store.cases.inbox(viewer, now: now, limit: limit)
                (title, hint) = ("我的待办", "红色为已超时,黄色为即将到期;超时未办的事项会自动升级到上一级督办。")
            }
            let more = !all && rows.count > Self.inboxFirst
            if more { rows.removeLast(rows.count - Self.inboxFirst) }
            let notices = try await app.store.cases.notices(viewer, limit: 5).map { "\(Self.local($0.at)) \($0.text)" }
            let page = ListPage(title: title, hint: hint, rows: rows.map { Self.row($0, now: now) }, mayReport: viewer.role != .resident,
                                residentReport: viewer.role == .resident, managesHooks: Policy.netSupervisors.contains(viewer.role),
                                boardHref: Policy.watchesCases(viewer) ? "/cases/board" : nil, notices: notices,
                                moreHref: more ? "/cases?all=1" : nil)
            let lightChange = rows.flatMap { [$0.yellowAt, $0.redAt] }.compactMap { $0 }.filter { $0 > now }.min()
            return (app.pages.html(page, template: "cases", chrome: Chrome(context)), lightChange)
        }
        guard !all, let session = context.session?.token else { return app.pages.htmlResponse(try await build().html) }
        return app.pages.htmlResponse(try await app.inboxes.page(session, changes: changes, now: now, build: build))
    }

    /// 督办: late matters in the viewer's scope.
    @Sendable func board(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try context.requireAdmin(Policy.watchesCases)
        let now = Clock.now()
        let rows = try await app.store.cases.late(viewer, now: now)
        let page = ListPage(title: "督办:超时和即将超时的事项", hint: "范围 \(viewer.scope) · 共 \(rows.count) 件,最红、最久的在前。",
                            rows: rows.map { Self.row($0, now: now) }, mayReport: false, residentReport: false, managesHooks: false, boardHref: nil, notices: [])
        return app.pages.response(page: page, template: "cases", context: context)
    }

    static func row(_ r: CaseRow, now: Int64) -> Row {
        let light = r.light(at: now)
        return Row(href: "/cases/\(r.id)", title: r.title, facts: "\(r.categoryName) · \(r.address)\(r.escalation > 0 ? " · 已升级督办" : "")",
                   state: r.state.label, light: light, lightLabel: lightLabel(light), due: r.dueAt.map { "时限 " + local($0) } ?? "")
    }

    static func lightLabel(_ light: String) -> String { light == "red" ? "超时" : light == "yellow" ? "将到期" : "正常" }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try context.requireAdmin { _ in true }
        return try await casePage(try context.positiveID(), actor: .viewer(viewer), request: request, context: context)
    }

    @Sendable func act(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store, limit: Self.uploadLimit)
        let viewer = try context.requireAdmin { _ in true }
        return try await perform(form, on: try context.positiveID(), actor: .viewer(viewer), request: request, context: context)
    }

    @Sendable func photo(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try context.requireAdmin { _ in true }
        let photo = try context.positiveID("photo")
        let id = try context.positiveID()
        let image = try await app.denyingOutOfScope(context, target: "case:\(id)") {
            try await app.store.cases.photo(photo, of: id, actor: .viewer(viewer))
        }
        return Response(status: .ok, headers: [.contentType: image.contentType, .cacheControl: "private, max-age=86400",
                                               .init("X-Content-Type-Options")!: "nosniff"],
                        body: .init(byteBuffer: ByteBuffer(bytes: image.bytes)))
    }

    /// One step from a case page's form: the rules decide; a refusal or a stale version is explained on the page.
    private func perform(_ form: Form, on id: Int64, actor: CaseActor, request: Request, context: AppRequestContext) async throws -> Response {
        guard let version = form["version"].flatMap(Int.init) else {
            return try await casePage(id, actor: actor, request: request, context: context, error: "缺少版本号,请刷新页面 (version missing; reload)",
                                      status: .badRequest)
        }
        do {
            let action = try Self.action(form)
            let photos = (form.files["photo"] ?? []).map(CasePhoto.init)
            try await app.denyingOutOfScope(context, target: "case:\(id)") {
                try await app.store.cases.act(action, on: id, version: version, actor: actor, photos: photos)
            }
            return try await casePage(id, actor: actor, request: request, context: context, notice: "已\(action.label) (done)")
        } catch let problem as FormProblem {
            return try await casePage(id, actor: actor, request: request, context: context, error: problem.description, status: .badRequest)
        } catch StoreError.invalid(let field, let reason) {
            return try await casePage(id, actor: actor, request: request, context: context, error: "\(field):\(reason)", status: .badRequest)
        } catch StoreError.conflict(let reason) {
            return try await casePage(id, actor: actor, request: request, context: context, error: reason, status: .conflict)
        }
    }

    /// The action a form asks for, with its fields checked.
    static func action(_ form: Form) throws(FormProblem) -> CaseAction {
        let text: (String) -> String = { (form[$0] ?? "").trimmingCharacters(in: .whitespacesAndNewlines) }
        func assignee() throws(FormProblem) -> Assignee {
            guard let a = Assignee(text("assignee")) else { throw FormProblem(field: "承办 (assignee)", reason: "请选择派给谁 (choose an assignee)") }
            return a
        }
        switch text("action") {
        case "accept": return .accept
        case "decline": return .decline(reason: text("reason"))
        case "file": return .file
        case "dispatch": return .dispatch(to: try assignee())
        case "take": return .take
        case "give_back": return .giveBack(reason: text("reason"))
        case "reassign": return .reassign(to: try assignee())
        case "report_done": return .reportDone(note: text("note"))
        case "verify": return .verify(passed: text("passed") == "yes", note: text("note"))
        case "request_extension":
            guard let days = Int(text("days")) else { throw FormProblem(field: "天数 (days)", reason: "请填写延期的工作日数 (working days)") }
            return .requestExtension(days: days, reason: text("reason"))
        case "decide_extension": return .decideExtension(approved: text("approved") == "yes")
        case "suspend": return .suspend(reason: text("reason"))
        case "resume": return .resume
        case "rate":
            guard let score = Int(text("score")) else { throw FormProblem(field: "评分 (score)", reason: "请选择1到5分 (choose 1 to 5)") }
            return .rate(score: score, comment: text("comment"))
        case "reopen": return .reopen(reason: text("reason"))
        default: throw FormProblem(field: "操作 (action)", reason: "未知的操作 (unknown action)")
        }
    }

    private func casePage(_ id: Int64, actor: CaseActor, request: Request, context: AppRequestContext, notice: String? = nil,
                          error: String? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let now = Clock.now()
        let d = try await app.denyingOutOfScope(context, target: "case:\(id)") { try await app.store.cases.detail(id, actor: actor, now: now) }
        let assignees = d.actions.contains(where: { $0 == "dispatch" || $0 == "reassign" }) ? try await app.store.cases.assignees(for: d) : []
        let options = assignees.map { Option(value: $0.value, label: $0.label + ($0.suggested ? "(按类别默认)" : ""), selected: $0.suggested) }
        let staff: Bool = if case .viewer = actor { true } else { false }
        let light = d.row.light(at: now)
        var facts = [Option(value: "编号", label: d.row.code, selected: false), Option(value: "类别", label: "\(d.category.groupName) · \(d.category.name)", selected: false),
                     Option(value: "等级", label: d.severity.label, selected: false), Option(value: "地点", label: d.row.address, selected: false),
                     Option(value: "来源", label: d.channel.label, selected: false),
                     Option(value: "反映人", label: d.reporterName + (staff ? (d.reporterPhoneMasked.map { " " + $0 } ?? "") : ""), selected: false)]
        if let name = d.assigneeName { facts.append(Option(value: "承办", label: name, selected: false)) }
        if let due = d.row.dueAt { facts.append(Option(value: "本环节时限", label: Self.local(due), selected: false)) }
        facts.append(Option(value: "结案条件", label: d.category.closing, selected: false))
        if d.snapshot.reworks > 0 { facts.append(Option(value: "返工", label: "\(d.snapshot.reworks)次", selected: false)) }
        if let rating = d.snapshot.rating { facts.append(Option(value: "评价", label: "\(rating)分 \(d.ratingComment ?? "")", selected: false)) }
        if let days = d.snapshot.extensionRequested { facts.append(Option(value: "延期申请", label: "\(days)个工作日,待上级批准", selected: false)) }
        let steps = d.steps.map { s in
            Step(at: Self.local(s.at), label: Self.stepLabel(s),
                 who: s.actorRole == "reporter" || s.actorRole == "resident" ? "反映人"
                     : s.actorRole == "system" ? "系统" : (Role(rawValue: s.actorRole)?.label ?? "") + (staff ? " \(s.actor)" : ""),
                 note: Self.stepNote(s, options: assignees), late: s.onTime == false,
                 photos: staff ? s.photoIDs.map { "/cases/\(id)/photos/\($0)" } : [])
        }
        let forms = d.actions.map { name in
            ActionForm(name: name, label: Self.actionLabels[name] ?? name,
                       reason: ["decline", "give_back", "request_extension", "suspend", "reopen"].contains(name),
                       note: ["report_done", "verify"].contains(name),
                       assignees: ["dispatch", "reassign"].contains(name) ? options : [],
                       hasAssignees: ["dispatch", "reassign"].contains(name),
                       days: name == "request_extension", verify: name == "verify", approve: name == "decide_extension",
                       score: name == "rate", photo: ["report_done", "take"].contains(name) && staff,
                       danger: ["decline", "give_back", "suspend", "reopen"].contains(name))
        }
        var phone: String?
        if case .reporter(_, let p) = actor { phone = p.value }
        var helpers: [String] = [], helperOptions: [Option] = []
        if case .viewer(let v) = actor, v.role.isNetStaff, v.role != .apiToken {
            helpers = try await app.store.helpers.contributions(for: .matter(id)).map { "\($0.helperName) \(HelperController.hours($0.hours)) 小时 \($0.note)" }
            helperOptions = try await app.store.helpers.available(near: d.row.grid).map { Option(value: $0.helper.formValue, label: $0.label) }
        }
        let page = CasePage(title: d.row.title, id: id, code: d.row.code, state: d.row.state.label, light: light, lightLabel: Self.lightLabel(light),
                            facts: facts, description: d.description, steps: steps, actions: forms, hasActions: !forms.isEmpty, version: d.row.version, trackPhone: phone,
                            csrf: context.session?.csrf ?? Form.anonymousToken(request),
                            action: phone == nil ? "/cases/\(id)/act" : "/track/act", helpers: helpers, helperOptions: helperOptions,
                            mayAddHelper: !helperOptions.isEmpty, notice: notice, error: error)
        var response = app.pages.response(status: status, page: page, template: "case", context: context)
        if context.session == nil { Form.setAnonymousToken(page.csrf, on: &response, request: request) }
        return response
    }

    static let actionLabels = ["accept": "受理", "decline": "不予受理", "file": "立案", "dispatch": "派遣", "take": "签收,开始处置",
                               "give_back": "退回", "reassign": "改派", "report_done": "处置完毕,反馈", "verify": "核查",
                               "request_extension": "申请延期", "decide_extension": "审批延期", "suspend": "挂起", "resume": "恢复办理",
                               "rate": "评价", "reopen": "不满意,要求重新办理"]

    static func stepLabel(_ s: CaseStep) -> String {
        switch s.action {
        case "report": "上报"
        case "escalate": "超时升级"
        case "verify": s.toState == .closed ? "核查通过,结案" : "核查未通过,返工"
        case "decide_extension": "审批延期"
        default: actionLabels[s.action] ?? s.action
        }
    }

    static func stepNote(_ s: CaseStep, options: [CaseStore.AssigneeOption]) -> String {
        guard s.action == "dispatch" || s.action == "reassign", let a = Assignee(s.note) else { return s.note }
        return "派给 " + assigneeLabel(a, options: options)
    }

    static func assigneeLabel(_ a: Assignee, options: [CaseStore.AssigneeOption]) -> String {
        if let o = options.first(where: { $0.value == a.description }) { return o.label }
        switch a {
        case .person: return "工作人员"
        case .department(let d): return d.fullName
        }
    }

    /// An instant as Beijing wall time: 11月30日 09:00.
    static func local(_ instant: Int64) -> String { WorkCalendar.localText(instant) }
}
