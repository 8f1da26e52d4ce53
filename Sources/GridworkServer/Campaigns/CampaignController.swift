import Foundation
import GridworkCore
import GridworkStore
import Hummingbird

/// Campaigns as pages: a department or office builds one (from a template or from scratch), picks where it goes
/// and launches it; building heads knock on doors from a checklist on their phone (answers queue in the page
/// when the connection drops); everyone above watches progress roll up live, sees what was found, turns a
/// finding into a matter in one step and exports the results.
struct CampaignController: Sendable {
    let app: AppContext

    /// Photos at the door: a few of up to 5 MB, with room for the form.
    static let uploadLimit = 3 * PhotoCheck.maxBytes + 256 * 1024
    /// A target list of up to 2 MB, with the builder's fields.
    static let builderLimit = TargetList.maxBytes + 256 * 1024

    func register(on router: Router<AppRequestContext>) {
        router.get("/campaigns", use: list)
        router.get("/campaigns/new", use: newForm)
        router.post("/campaigns/new", use: create)
        router.get("/campaigns/{id}", use: page)
        router.post("/campaigns/{id}/launch", use: launch)
        router.post("/campaigns/{id}/close", use: close)
        router.post("/campaigns/{id}/targets", use: addTargets)
        router.post("/campaigns/{id}/place", use: place)
        router.post("/campaigns/{id}/reassign", use: reassign)
        router.get("/campaigns/{id}/live", use: live)
        router.get("/campaigns/{id}/visits", use: visits)
        router.post("/campaigns/{id}/visits/{visit}", use: submit)
        router.post("/campaigns/{id}/visits/{visit}/case", use: makeCase)
        router.get("/campaigns/{id}/visits/{visit}/photos/{photo}", use: photo)
        router.get("/campaigns/{id}/results", use: results)
        router.post("/campaigns/{id}/export", use: export)
    }

    /// Everyone on the staff side sees campaigns that reach their part of the net; residents and tokens do not.
    static func staff(_ context: AppRequestContext) throws -> Viewer {
        try context.requireAdmin { $0.role != .resident && $0.role != .apiToken }
    }

    // MARK: list

    struct ListRow: Sendable {
        let href: String
        let title: String
        let facts: String
        let state: String
        let stateClass: String
        let percent: Int
        let counts: String
        let visitsHref: String?
    }

    struct ListPage: PageView {
        let title = "排查任务"
        let mayCreate: Bool
        let templates: [Option]
        let rows: [ListRow]
        let empty: Bool
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try Self.staff(context)
        var rows: [ListRow] = []
        for c in try await app.store.campaigns.list(viewer) {
            let total = c.state == .draft ? nil : try await app.store.campaigns.overview(c.id, viewer: viewer).total
            let assigned = c.state == .running && viewer.role != .departmentOfficer && total.map { $0.total > 0 } == true
                && [Role.buildingHead, .gridWorker, .gridLeader].contains(viewer.role)
            rows.append(ListRow(href: "/campaigns/\(c.id)", title: c.title,
                                facts: "\(c.issuer) · 截止 \(c.deadline.iso)\(c.state == .draft ? " · 未发布" : "")",
                                state: c.state.label, stateClass: c.state.rawValue, percent: total?.percent ?? 0,
                                counts: total.map { "已完成 \(grouped($0.done)) / \(grouped($0.total)) 户\($0.findings > 0 ? " · 发现 \($0.findings) 处" : "")" } ?? "",
                                visitsHref: assigned ? "/campaigns/\(c.id)/visits" : nil))
        }
        let may = Policy.mayRunCampaigns(viewer)
        let page = ListPage(mayCreate: may, templates: may ? CampaignTemplate.all.map { Option(value: $0.id, label: $0.title) } : [],
                            rows: rows, empty: rows.isEmpty)
        return app.pages.response(page: page, template: "campaigns", context: context)
    }

    // MARK: building

    struct BuilderRow: Sendable {
        let n: Int
        let label: String
        let kinds: [Option]
        let options: String
        let required: Bool
        let showIf: String
        let finding: String
    }

    struct NewPage: PageView {
        let title = "新建排查任务"
        let error: String?
        let template: String
        let templates: [Option]
        let name: String
        let instructions: String
        let deadline: String
        let rows: [BuilderRow]
        let rowCount: Int
        let targetKinds: [Option]
        let regions: [Option]
        let tags: [Option]
        let hasTags: Bool
    }

    @Sendable func newForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try context.requireAdmin(Policy.mayRunCampaigns)
        var fields: [String: String] = [:]
        let today = CivilDate.today()
        if let id = request.uri.queryParameters.get("template").map { String($0) }, let t = CampaignTemplate.named(id) {
            fields = Self.builderFields(t.form)
            fields["title"] = t.title
            fields["instructions"] = t.instructions
            fields["template"] = t.id
            fields["deadline"] = CivilDate(daysSinceEpoch: today.daysSinceEpoch + Int64(t.days)).iso
        } else {
            fields["deadline"] = CivilDate(daysSinceEpoch: today.daysSinceEpoch + 7).iso
        }
        return try await builder(viewer, fields: fields, context: context)
    }

    /// A form as the builder's rows: what a template fills in, and what a refused form shows again.
    static func builderFields(_ form: CampaignForm) -> [String: String] {
        var out: [String: String] = [:]
        let rowOfKey = Dictionary(uniqueKeysWithValues: form.fields.enumerated().map { ($1.key, $0 + 1) })
        for (i, f) in form.fields.enumerated() {
            let n = i + 1
            out["label_\(n)"] = f.label
            out["kind_\(n)"] = f.kind.rawValue
            out["options_\(n)"] = f.options.joined(separator: ",")
            if f.required { out["required_\(n)"] = "on" }
            if let c = f.showIf, let row = rowOfKey[c.field] { out["showif_\(n)"] = "\(row)=\(c.equals)" }
            if let finding = f.finding { out["finding_\(n)"] = "\(finding.equals)=\(finding.category)" }
        }
        return out
    }

    private func builder(_ viewer: Viewer, fields f: [String: String], error: String? = nil, status: HTTPResponse.Status = .ok,
                         context: AppRequestContext) async throws -> Response {
        let filled = (1...(CampaignForm.maxFields + CampaignDraft.spareRows)).filter { !(f["label_\($0)"] ?? "").isEmpty }.max() ?? 0
        let extra = f["more"] != nil ? 5 : CampaignDraft.spareRows
        let count = min(CampaignForm.maxFields + CampaignDraft.spareRows, max(filled, Int(f["rows"] ?? "") ?? 0) + extra)
        let rows = (0..<count).map { i in
            let n = i + 1
            let kind = f["kind_\(n)"] ?? CampaignField.Kind.yesNo.rawValue
            return BuilderRow(n: n, label: f["label_\(n)"] ?? "",
                              kinds: CampaignField.Kind.allCases.map { Option(value: $0.rawValue, label: $0.label, selected: $0.rawValue == kind) },
                              options: f["options_\(n)"] ?? "", required: f["required_\(n)"] != nil, showIf: f["showif_\(n)"] ?? "",
                              finding: f["finding_\(n)"] ?? "")
        }
        let target = f["target"] ?? "region"
        let region = f["region"] ?? viewer.scope.value
        let regions = try await app.store.net.regions(under: viewer.scope).filter { $0.level != .building }.map {
            Option(value: $0.code.value, label: "\(String(repeating: "　", count: max(0, $0.code.value.count - viewer.scope.value.count) / 3))\($0.name)",
                   selected: $0.code.value == region)
        }
        let allowedTags = ResidentTag.allCases.filter { (Policy.visibleTags(for: viewer) ?? []).contains($0) }
        let page = NewPage(error: error, template: f["template"] ?? "",
                           templates: CampaignTemplate.all.map { Option(value: $0.id, label: $0.title, selected: $0.id == f["template"]) },
                           name: f["title"] ?? "", instructions: f["instructions"] ?? "", deadline: f["deadline"] ?? "", rows: rows, rowCount: rows.count,
                           targetKinds: [Option(value: "region", label: "范围内全部住户", selected: target == "region"),
                                         Option(value: "tags", label: "有以下人员类别的住户", selected: target == "tags"),
                                         Option(value: "list", label: "上传名单(身份证号、手机号或“姓名,住址”)", selected: target == "list")],
                           regions: regions,
                           tags: allowedTags.map { Option(value: $0.rawValue, label: $0.label, selected: f["tag_\($0.rawValue)"] != nil) },
                           hasTags: !allowedTags.isEmpty)
        return app.pages.response(status: status, page: page, template: "campaign-new", context: context)
    }

    /// Stores the draft and shows it for a last look before launch; "more rows" only re-renders the builder.
    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store, limit: Self.builderLimit)
        let viewer = try context.requireAdmin(Policy.mayRunCampaigns)
        if form["more"] != nil { return try await builder(viewer, fields: form.fields, context: context) }
        do {
            let draft = try CampaignDraft.parse(form.fields, today: CivilDate.today())
            let region: RegionCode
            do { region = try RegionCode(form["region"] ?? "") } catch {
                throw FormProblem(field: "范围 (region)", reason: "请选择发布范围 (choose where it goes)")
            }
            let target: CampaignTarget
            var unreadable: [TargetLineProblem] = []
            switch form["target"] ?? "region" {
            case "tags":
                target = .tags(region, Set(ResidentTag.allCases.filter { form["tag_\($0.rawValue)"] != nil }))
            case "list":
                guard let bytes = form.files["list"]?.first else {
                    throw FormProblem(field: "名单 (list)", reason: "请选择名单文件 (choose a list file)")
                }
                let parsed = try TargetList.parse(bytes)
                target = .list(region, parsed.entries)
                unreadable = parsed.problems
            default:
                target = .region(region)
            }
            let id = try await app.store.campaigns.create(draft, target: target, viewer: viewer, address: context.address)
            try await app.store.campaigns.recordUnreadable(unreadable, campaign: id)
            return redirect(to: "/campaigns/\(id)")
        } catch let problem as FormProblem {
            return try await builder(viewer, fields: form.fields, error: problem.description, status: .badRequest, context: context)
        } catch StoreError.invalid(let field, let reason) {
            return try await builder(viewer, fields: form.fields, error: "\(field):\(reason)", status: .badRequest, context: context)
        }
    }

    // MARK: the campaign's page

    struct FieldPreview: Sendable { let n: Int; let label: String; let kind: String; let required: Bool; let detail: String? }
    struct ProgressRow: Sendable {
        let code: String
        let href: String?
        let name: String
        let percent: Int
        let done: Int
        let total: Int
        let notHome: Int
        let findings: Int
        let who: String?
        let late: Bool
    }
    struct EntryRow: Sendable { let entryID: Int64; let line: Int; let shown: String; let reason: String }

    struct CampaignPage: PageView {
        let title: String
        let id: Int64
        let state: String
        let stateClass: String
        let facts: [Option]
        let instructions: String?
        let draft: Bool
        let targetCount: String
        let fields: [FieldPreview]
        let manages: Bool
        let launchable: Bool
        let running: Bool
        let node: String
        let crumbs: [Option]
        let percent: Int
        let done: String
        let total: String
        let notHome: String
        let findings: String
        let eta: String
        let children: [ProgressRow]
        let childLabel: String
        let laggards: [ProgressRow]
        let hasLaggards: Bool
        let visitsHref: String?
        let resultsHref: String?
        let entries: [EntryRow]
        let hasEntries: Bool
        let notice: String?
        let error: String?
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let q = request.uri.queryParameters
        var notice: String?
        if let ms = q.get("launched").flatMap({ Int($0) }), (0...3_600_000).contains(ms) {
            notice = "launched:\(ms):\(q.get("notified").flatMap { Int($0) } ?? 0)"
        } else if q.get("closed") != nil {
            notice = "任务已结束,不再接收结果"
        }
        return try await campaignPage(try context.positiveID(), request: request, context: context, notice: notice)
    }

    private func campaignPage(_ id: Int64, request: Request, context: AppRequestContext, notice: String? = nil, error: String? = nil,
                              status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try Self.staff(context)
        let store = app.store.campaigns
        let campaign = try await app.denyingOutOfScope(context, target: "campaign:\(id)") { try await store.campaign(id, viewer: viewer) }
        let c = campaign.summary
        let manages = CampaignStore.manages(c, viewer: viewer)
        let node = try request.uri.queryParameters.get("node").map { code in
            do { return try RegionCode(String(code)) } catch { throw AppError.notFound("区划代码无效 (invalid region code)") }
        }
        let now = Clock.now()
        var overview: CampaignOverview?
        if c.state != .draft {
            overview = try await app.denyingOutOfScope(context, target: "campaign:\(id)") { try await store.overview(id, under: node, viewer: viewer) }
        }
        let regionName = try await app.store.net.path(to: c.region).last?.name ?? c.region.value
        var facts = [Option(value: "发布单位", label: c.issuer), Option(value: "范围", label: regionName),
                     Option(value: "对象", label: Self.targetLabel(c)), Option(value: "截止", label: c.deadline.iso)]
        if let at = c.launchedAt { facts.append(Option(value: "发布时间", label: WorkCalendar.localText(at))) }
        if let at = c.closedAt { facts.append(Option(value: "结束时间", label: WorkCalendar.localText(at))) }
        let total = overview?.total ?? CampaignProgress()
        var crumbs: [Option] = []
        if let o = overview {
            for ref in try await app.store.net.path(to: o.node) where ref.code.isWithin(CampaignStore.focus(c, viewer: viewer)) {
                crumbs.append(Option(value: "/campaigns/\(id)?node=\(ref.code)", label: ref.name))
            }
            if o.node.level == .building { crumbs.append(Option(value: "/campaigns/\(id)?node=\(o.node)", label: "楼栋 \(o.node.localNumber ?? 0)")) }
        }
        let eta = Self.eta(total, firstAnswerAt: overview?.firstAnswerAt, state: c.state, now: now)
        let entries = manages ? try await store.listEntries(id, viewer: viewer) : []
        var notice = notice
        if let n = notice, n.hasPrefix("launched:") {
            let parts = n.split(separator: ":")
            notice = "已发布:\(grouped(total.total)) 户分派到 \(grouped(try await store.buildingCount(id))) 栋楼,已通知 \(grouped(Int(parts[2]) ?? 0)) 人(用时 \(parts[1])ms)"
        }
        let assignedHere = c.state != .draft && total.total > 0 && viewer.role != .departmentOfficer
        let page = CampaignPage(
            title: c.title, id: id, state: c.state.label, stateClass: c.state.rawValue, facts: facts, instructions: campaign.instructions.isEmpty ? nil : campaign.instructions,
            draft: c.state == .draft, targetCount: c.state == .draft ? grouped(try await store.targetCount(c)) : "",
            fields: campaign.form.fields.enumerated().map { i, f in
                var detail = f.options.joined(separator: " / ")
                if let s = f.showIf, let parent = campaign.form.fields.firstIndex(where: { $0.key == s.field }) {
                    detail += (detail.isEmpty ? "" : " · ") + "第\(parent + 1)题答“\(s.equals)”时显示"
                }
                if let finding = f.finding { detail += (detail.isEmpty ? "" : " · ") + "答“\(finding.equals)”需处置(\(finding.category))" }
                return FieldPreview(n: i + 1, label: f.label, kind: f.kind.label, required: f.required, detail: detail.isEmpty ? nil : detail)
            },
            manages: manages, launchable: manages && c.state == .draft, running: c.state == .running,
            node: overview?.node.value ?? c.region.value, crumbs: crumbs, percent: total.percent, done: grouped(total.done), total: grouped(total.total),
            notHome: grouped(total.notHome), findings: grouped(total.findings), eta: eta,
            children: (overview?.children ?? []).map { Self.progressRow($0, campaign: id, launchedAt: c.launchedAt, now: now) },
            childLabel: overview.map { $0.node.level == .grid || $0.node.level == .building ? "楼栋" : "下级" } ?? "",
            laggards: (overview?.laggards ?? []).map { Self.progressRow($0, campaign: id, launchedAt: c.launchedAt, now: now) },
            // At a grid the table of buildings already is the list; laggards matter where there are many.
            hasLaggards: !(overview?.laggards.isEmpty ?? true) && !(overview.map { $0.node.level == .grid || $0.node.level == .building } ?? true),
            visitsHref: assignedHere && c.state == .running ? "/campaigns/\(id)/visits" : nil,
            resultsHref: c.state != .draft && (manages || Policy.netOfficers.contains(viewer.role)) ? "/campaigns/\(id)/results" : nil,
            entries: entries.map { EntryRow(entryID: $0.id, line: $0.line, shown: $0.shown, reason: $0.reason ?? "") }, hasEntries: !entries.isEmpty,
            notice: notice, error: error)
        return app.pages.response(status: status, page: page, template: "campaign", context: context)
    }

    /// The line under the progress bar: the estimate, or why there is none yet.
    static func eta(_ p: CampaignProgress, firstAnswerAt: Int64?, state: CampaignState, now: Int64) -> String {
        if let at = p.estimatedCompletion(firstAnswerAt: firstAnswerAt, now: now) { return "按目前进度,预计 \(WorkCalendar.localText(at)) 全部完成" }
        if p.total > 0, p.done == p.total { return "已全部完成" }
        return state == .running ? "收到一批结果后按进度估算完成时间" : ""
    }

    static func targetLabel(_ c: CampaignSummary) -> String {
        switch c.targetKind {
        case "tags": "有" + c.targetTags.map(\.label).joined(separator: "、") + "的住户"
        case "list": "名单上的人员"
        default: "范围内全部住户"
        }
    }

    /// A building is late when it is not finished and nobody has answered there for two hours (or since launch).
    static func progressRow(_ p: PlaceProgress, campaign id: Int64, launchedAt: Int64?, now: Int64) -> ProgressRow {
        let building = p.code.level == .building
        var who = ""
        if let a = p.assignee {
            // The usual case (its own building head) goes unsaid; exceptions are named.
            who = a.hasPrefix("role:building_head@") ? "" : a.hasPrefix("role:grid_worker@") ? "网格员(无楼栋长)" : a.replacingOccurrences(of: "user:", with: "转交 ")
        }
        return ProgressRow(code: p.code.value, href: "/campaigns/\(id)?node=\(p.code)", name: p.name, percent: p.progress.percent,
                           done: p.progress.done, total: p.progress.total, notHome: p.progress.notHome, findings: p.progress.findings, who: who.isEmpty ? nil : who,
                           late: building && p.progress.done < p.progress.total && (p.lastAt ?? launchedAt).map { now - $0 > 2 * 3600 } == true)
    }

    // MARK: managing

    /// One step of an office on its campaign: the store call (out of scope is audited), live dashboards told; a
    /// refusal — bad input, or a step the campaign's state does not allow — comes back on its page with the reason.
    private func manage(_ id: Int64, request: Request, context: AppRequestContext,
                        _ step: () async throws -> Response) async throws -> Response {
        do {
            let response = try await app.denyingOutOfScope(context, target: "campaign:\(id)", step)
            await app.feed.publish(id)
            return response
        } catch StoreError.invalid(let field, let reason) {
            return try await campaignPage(id, request: request, context: context, error: "\(field):\(reason)", status: .badRequest)
        } catch StoreError.conflict(let reason) {
            return try await campaignPage(id, request: request, context: context, error: reason, status: .conflict)
        }
    }

    @Sendable func launch(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await Form.read(request, context: context, store: app.store)
        let viewer = try Self.staff(context)
        let id = try context.positiveID()
        return try await manage(id, request: request, context: context) {
            let started = ContinuousClock.now
            let made = try await app.store.campaigns.launch(id, viewer: viewer, address: context.address)
            let took = ContinuousClock.now - started
            let ms = took.components.seconds * 1000 + took.components.attoseconds / 1_000_000_000_000_000
            // Post/redirect/get: a reload of the page does not post the launch again.
            return redirect(to: "/campaigns/\(id)?launched=\(ms)&notified=\(made.notified)")
        }
    }

    @Sendable func close(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await Form.read(request, context: context, store: app.store)
        let viewer = try Self.staff(context)
        let id = try context.positiveID()
        return try await manage(id, request: request, context: context) {
            try await app.store.campaigns.close(id, viewer: viewer, address: context.address)
            return redirect(to: "/campaigns/\(id)?closed=1")
        }
    }

    /// Household numbers (as the registry shows them), separated by commas, spaces or lines.
    @Sendable func addTargets(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try Self.staff(context)
        let id = try context.positiveID()
        let parts = (form["households"] ?? "").split(whereSeparator: { ",,、 \n\r\t".contains($0) })
        let ids = parts.compactMap { Int64($0) }.filter { $0 > 0 }
        guard !parts.isEmpty, ids.count == parts.count else {
            return try await campaignPage(id, request: request, context: context, error: "住户编号 (households):请填写住户编号,用逗号分开 (household numbers, comma-separated)",
                                          status: .badRequest)
        }
        return try await manage(id, request: request, context: context) {
            let added = try await app.store.campaigns.addHouseholds(ids, to: id, viewer: viewer, address: context.address)
            return try await campaignPage(id, request: request, context: context, notice: "已增加 \(added) 户")
        }
    }

    @Sendable func place(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try Self.staff(context)
        let id = try context.positiveID()
        guard let entry = form["entry"].flatMap(Int64.init), let household = form["household"].flatMap(Int64.init), household > 0 else {
            return try await campaignPage(id, request: request, context: context, error: "住户编号 (household):请填写正确的住户编号 (a household number)",
                                          status: .badRequest)
        }
        return try await manage(id, request: request, context: context) {
            try await app.store.campaigns.place(entry: entry, household: household, campaign: id, viewer: viewer, address: context.address)
            return try await campaignPage(id, request: request, context: context, notice: "已安排到住户 \(household)")
        }
    }

    @Sendable func reassign(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try Self.staff(context)
        let id = try context.positiveID()
        guard let building = try? RegionCode(form["building"] ?? ""), building.level == .building else {
            return try await campaignPage(id, request: request, context: context, error: "楼栋 (building):请填写18位楼栋编码 (an 18-digit building code)",
                                          status: .badRequest)
        }
        let login = (form["login"] ?? "").trimmingCharacters(in: .whitespaces)
        return try await manage(id, request: request, context: context) {
            try await app.store.campaigns.reassign(building: building, to: login, campaign: id, viewer: viewer, address: context.address)
            return try await campaignPage(id, request: request, context: context, notice: "楼栋\(building)的走访已转给 \(login)")
        }
    }

    // MARK: live progress

    struct LivePlace: Codable { let code: String; let name: String; let done: Int; let total: Int; let notHome: Int; let findings: Int; let percent: Int }
    struct LiveProgress: Codable {
        let campaign: Int64
        let state: String
        let node: String
        let done: Int
        let total: Int
        let notHome: Int
        let findings: Int
        let percent: Int
        let eta: String
        let children: [LivePlace]
        let laggards: [LivePlace]
        /// When the server counted, in milliseconds since 1970: the lag of a dashboard is its arrival minus an answer's time.
        let at: Int64
    }

    /// Server-Sent Events: the progress under `node` now and after every change (at most five times a second),
    /// with a heartbeat every 15 s. `?once=1` sends one event and ends (for scripts and tests).
    @Sendable func live(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try Self.staff(context)
        let id = try context.positiveID()
        let node = try request.uri.queryParameters.get("node").map { code in
            do { return try RegionCode(String(code)) } catch { throw AppError.notFound("区划代码无效 (invalid region code)") }
        }
        let store = app.store.campaigns
        // Checked before the stream starts, so a refusal is a plain 404.
        _ = try await app.denyingOutOfScope(context, target: "campaign:\(id)") { try await store.overview(id, under: node, viewer: viewer) }
        let once = request.uri.queryParameters.get("once") != nil
        let feed = app.feed
        @Sendable func event() async throws -> String {
            let c = try await store.summary(id, viewer: viewer)
            let o = try await store.overview(id, under: node, viewer: viewer)
            let place = { (p: PlaceProgress) in
                LivePlace(code: p.code.value, name: p.name,
                          done: p.progress.done, total: p.progress.total, notHome: p.progress.notHome, findings: p.progress.findings,
                          percent: p.progress.percent)
            }
            let now = Clock.now()
            let eta = Self.eta(o.total, firstAnswerAt: o.firstAnswerAt, state: c.state, now: now)
            let body = LiveProgress(campaign: id, state: c.state.rawValue, node: o.node.value, done: o.total.done, total: o.total.total,
                                    notHome: o.total.notHome, findings: o.total.findings, percent: o.total.percent, eta: eta,
                                    children: o.children.map(place), laggards: o.laggards.map(place),
                                    at: Int64(Date().timeIntervalSince1970 * 1000))
            return "event: progress\ndata: \(String(decoding: try JSONEncoder().encode(body), as: UTF8.self))\n\n"
        }
        var headers: HTTPFields = [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store"]
        headers[.init("X-Accel-Buffering")!] = "no"
        if once {
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: try await event())))
        }
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let (token, stream) = await feed.subscribe(id)
            let heartbeat = Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(10))
                    guard await feed.poke(id, token) else { return }
                }
            }
            do {
                try await writer.write(ByteBuffer(string: "retry: 3000\n\n"))
                var last = ""
                for await _ in stream {
                    let text = try await event()
                    // Unchanged counts go out as a comment: it keeps proxies from closing the stream.
                    try await writer.write(ByteBuffer(string: text == last ? ": ping\n\n" : text))
                    last = text
                    try await Task.sleep(for: .milliseconds(200))
                }
            } catch {}
            heartbeat.cancel()
            await feed.unsubscribe(id, token)
            try? await writer.finish(nil)
        })
    }

    // MARK: door to door

    struct Choice: Sendable { let value: String; let checked: Bool }
    struct FieldInput: Sendable {
        let key: String
        let label: String
        let required: Bool
        let choice: Bool
        let multiple: Bool
        let text: Bool
        let number: Bool
        let date: Bool
        let photo: Bool
        let choices: [Choice]
        let value: String
        let showIf: String?
        let showValue: String
    }
    struct VisitItem: Sendable {
        let visitID: Int64
        /// Set on the first door of each building: the building's name, once.
        let buildingHeader: String?
        let heading: String
        let state: String
        let stateClass: String
        let attempts: String?
        let open: Bool
        let summary: String?
        let finding: Bool
        let key: String
        let fields: [FieldInput]
    }
    struct VisitsPage: PageView {
        let title: String
        let id: Int64
        let instructions: String?
        let deadline: String
        let counts: String
        let running: Bool
        let building: String
        let items: [VisitItem]
        let empty: Bool
        let notice: String?
        let error: String?
    }

    @Sendable func visits(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await checklist(try context.positiveID(), request: request, context: context)
    }

    private func checklist(_ id: Int64, request: Request, context: AppRequestContext, notice: String? = nil, error: String? = nil,
                           status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try Self.staff(context)
        let store = app.store.campaigns
        let campaign = try await app.denyingOutOfScope(context, target: "campaign:\(id)") { try await store.campaign(id, viewer: viewer) }
        let building = request.uri.queryParameters.get("building").flatMap { try? RegionCode(String($0)) }
        let rows = viewer.role == .departmentOfficer ? [] : try await store.checklist(id, viewer: viewer, building: building)
        let form = campaign.form
        let items = rows.enumerated().map { i, v in
            VisitItem(visitID: v.id, buildingHeader: i == 0 || rows[i - 1].building != v.building ? v.address : nil,
                      heading: "\(v.room)\(v.person.map { " · \($0)" } ?? "")", state: v.state.label,
                      stateClass: v.state.rawValue, attempts: v.attempts > 0 ? "(\(v.attempts)次)" : nil, open: v.state != .done,
                      summary: v.answers.isEmpty ? nil : form.summary(v.answers),
                      finding: v.finding, key: UUID().uuidString,
                      fields: form.fields.map { f in
                          let value = v.answers[f.key] ?? ""
                          let picked = Set(value.components(separatedBy: "、"))
                          return FieldInput(key: f.key, label: f.label, required: f.required, choice: f.kind == .yesNo || f.kind == .single,
                                            multiple: f.kind == .multiple, text: f.kind == .text, number: f.kind == .number, date: f.kind == .date,
                                            photo: f.kind == .photo, choices: f.choices.map { Choice(value: $0, checked: picked.contains($0)) },
                                            value: f.kind == .photo ? "" : value, showIf: f.showIf?.field, showValue: f.showIf?.equals ?? "")
                      })
        }
        let done = rows.filter { $0.state == .done }.count, away = rows.filter { $0.state == .notHome }.count
        let page = VisitsPage(title: "入户登记:\(campaign.summary.title)", id: id, instructions: campaign.instructions.isEmpty ? nil : campaign.instructions,
                              deadline: campaign.summary.deadline.iso,
                              counts: "共 \(rows.count) 户 · 已完成 \(done) · 不在家 \(away) · 未走访 \(rows.count - done - away)",
                              running: campaign.summary.state == .running, building: building?.value ?? "", items: items, empty: items.isEmpty,
                              notice: notice, error: error)
        return app.pages.response(status: status, page: page, template: "campaign-visits", context: context)
    }

    /// One door's answer. From the page's script (`Accept: application/json`) the answer is JSON; from a plain form,
    /// the checklist again. The same key twice is answered like the first time and writes nothing.
    @Sendable func submit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store, limit: Self.uploadLimit)
        let viewer = try Self.staff(context)
        let id = try context.positiveID()
        let visit = try context.positiveID("visit")
        let json = (request.headers[.accept] ?? "").contains("application/json")
        func answer(_ status: HTTPResponse.Status, _ body: [String: String]) -> Response {
            let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
            return Response(status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        func refused(_ status: HTTPResponse.Status, _ message: String) async throws -> Response {
            json ? answer(status, ["error": message]) : try await checklist(id, request: request, context: context, error: message, status: status)
        }
        guard let outcome = VisitOutcome(rawValue: form["outcome"] ?? "") else {
            return try await refused(.badRequest, "结果 (outcome):应为提交或不在家 (answered or not_home)")
        }
        var photos: [String: [UInt8]] = [:]
        for (name, files) in form.files { if let first = files.first { photos[name] = first } }
        let submission = VisitSubmission(outcome: outcome, values: form.values, photos: photos, key: form["key"] ?? "")
        do {
            let done = try await app.denyingOutOfScope(context, target: "visit:\(visit)") {
                try await app.store.campaigns.submit(submission, visit: visit, viewer: viewer)
            }
            guard done.campaign == id else { throw AppError.notFound("未找到走访 (no such visit in this campaign)") }
            if !done.repeated { await app.feed.publish(id) }
            if json { return answer(.ok, ["state": done.state.rawValue, "label": done.state.label, "repeated": done.repeated ? "true" : "false"]) }
            return try await checklist(id, request: request, context: context,
                                       notice: done.repeated ? "这一户的结果已保存过,未重复登记" : "已保存:\(done.state.label)")
        } catch StoreError.invalid(let field, let reason) {
            return try await refused(.badRequest, "\(field):\(reason)")
        } catch StoreError.conflict(let reason) {
            return try await refused(.conflict, reason)
        } catch let error as StoreError {
            if json, case .notFound = error { return answer(.notFound, ["error": error.message]) }
            throw error
        }
    }

    @Sendable func photo(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try Self.staff(context)
        _ = try context.positiveID()
        let visit = try context.positiveID("visit"), photo = try context.positiveID("photo")
        let image = try await app.denyingOutOfScope(context, target: "visit:\(visit)") {
            try await app.store.campaigns.photo(photo, visit: visit, viewer: viewer)
        }
        return Response(status: .ok, headers: [.contentType: image.contentType, .cacheControl: "private, max-age=86400",
                                               .init("X-Content-Type-Options")!: "nosniff"],
                        body: .init(byteBuffer: ByteBuffer(bytes: image.bytes)))
    }

    @Sendable func makeCase(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await Form.read(request, context: context, store: app.store)
        let viewer = try Self.staff(context)
        let id = try context.positiveID()
        let visit = try context.positiveID("visit")
        do {
            let matter = try await app.denyingOutOfScope(context, target: "visit:\(visit)") {
                try await app.store.campaigns.makeCase(visit: visit, viewer: viewer, cases: app.store.cases)
            }
            return redirect(to: "/cases/\(matter)")
        } catch StoreError.invalid(let field, let reason) {
            return try await resultsPage(id, request: request, context: context, error: "\(field):\(reason)", status: .badRequest)
        }
    }

    // MARK: results

    struct ResultRow: Sendable {
        let visit: Int64
        let place: String
        let state: String
        let stateClass: String
        let summary: String
        let finding: Bool
        let caseHref: String?
        let makeCase: Bool
        let photos: [String]
        let who: String
    }
    struct ResultsPage: PageView {
        let title: String
        let id: Int64
        let findingsOnly: Bool
        let rows: [ResultRow]
        let empty: Bool
        let error: String?
    }

    @Sendable func results(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await resultsPage(try context.positiveID(), request: request, context: context)
    }

    private func resultsPage(_ id: Int64, request: Request, context: AppRequestContext, error: String? = nil,
                             status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try Self.staff(context)
        let store = app.store.campaigns
        let findingsOnly = request.uri.queryParameters.get("findings") != nil
        let campaign = try await app.denyingOutOfScope(context, target: "campaign:\(id)") { try await store.campaign(id, viewer: viewer) }
        let rows = try await app.denyingOutOfScope(context, target: "campaign:\(id)") {
            try await store.results(id, viewer: viewer, findingsOnly: findingsOnly)
        }
        let page = ResultsPage(
            title: "排查结果:\(campaign.summary.title)", id: id, findingsOnly: findingsOnly,
            rows: rows.map { v in
                ResultRow(visit: v.id, place: "\(v.address) \(v.room)\(v.person.map { " · \($0)" } ?? "")", state: v.state.label,
                          stateClass: v.state.rawValue, summary: campaign.form.summary(v.answers), finding: v.finding,
                          caseHref: v.caseID.map { "/cases/\($0)" }, makeCase: v.finding && v.caseID == nil && viewer.role != .departmentOfficer,
                          photos: v.answers.values.filter { $0.hasPrefix("photo:") }.sorted()
                              .map { "/campaigns/\(id)/visits/\(v.id)/photos/\($0.dropFirst(6))" },
                          who: [v.answeredBy, v.answeredAt.map(WorkCalendar.localText)].compactMap { $0 }.joined(separator: " "))
            },
            empty: rows.isEmpty, error: error)
        return app.pages.response(status: status, page: page, template: "campaign-results", context: context)
    }

    @Sendable func export(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try Self.staff(context)
        let id = try context.positiveID()
        guard let format = ExportFormat(rawValue: form["format"] ?? "xlsx") else {
            throw AppError.badRequest("格式应为 csv 或 xlsx (format must be csv or xlsx)", code: "invalid_format")
        }
        let path = try exportPath(format)
        do {
            try await app.denyingOutOfScope(context, target: "campaign:\(id)") {
                try await app.store.campaigns.export(id, to: path, format: format, viewer: viewer, address: context.address)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        return download(path: path, name: "排查结果-\(id)-\(CivilDate.today().compact).\(format.rawValue)",
                        asciiName: "campaign-\(id).\(format.rawValue)", contentType: format.contentType)
    }
}
