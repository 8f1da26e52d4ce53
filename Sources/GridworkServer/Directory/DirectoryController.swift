import Foundation
import GridworkCore
import GridworkStore
import Hummingbird

/// The public directory (公示), without logging in: find a building by address or code and see who answers for
/// it — building head, grid worker, grid leader with their work phones, the grid's duties and building range,
/// the community office — and a grid's page; print a building's stairwell notice (A4, with a QR code to its page
/// and report form), or all of a community's at once. Staff keep the people and the duty list current here.
struct DirectoryController: Sendable {
    let app: AppContext

    func register(on router: Router<AppRequestContext>) {
        router.get("/directory", use: search)
        router.get("/directory/buildings/{code}", use: building)
        router.get("/directory/buildings/{code}/notice", use: notice)
        router.get("/directory/grids/{code}", use: grid)
        router.get("/directory/communities/{code}/notices", use: communityNotices)
        router.get("/directory/duties", use: dutiesForm)
        router.post("/directory/duties", use: saveDuties)
        router.get("/directory/grids/{code}/staff", use: staffForm)
        router.post("/directory/grids/{code}/staff", use: saveStaff)
    }

    // MARK: view models

    struct Person: Sendable { let role: String; let name: String; let phone: String }
    struct Office: Sendable { let name: String; let address: String?; let phone: String? }

    struct SearchPage: PageView {
        let title = "查找我的楼栋和网格员"
        let query: String
        let searched: Bool
        let found: [Option]
        let empty: Bool
        let error: String?
    }

    struct BuildingPage: PageView {
        let title: String
        let code: String
        let address: String
        let gridName: String
        let gridHref: String
        let staff: [Person]
        let range: String
        let community: Office
        let township: Office
        let duties: [String]
        let reportHref: String
        let noticeHref: String
    }

    struct MovedPage: PageView {
        let title = "楼栋编码已变更"
        let from: String
        let to: String
        let href: String
    }

    struct GridPage: PageView {
        let title: String
        let code: String
        let staff: [Person]
        let community: Office
        let duties: [String]
        let buildings: [Option]
        let noticesHref: String
        let editHref: String?
    }

    struct Notice: Sendable {
        let title: String
        let address: String
        let code: String
        let staff: [Person]
        let range: String
        let gridName: String
        let community: Office
        let duties: [String]
        let qr: String
        let url: String
    }

    struct NoticePage: PageView {
        let title: String
        let notices: [Notice]
    }

    static func people(_ staff: [DirectoryPerson]) -> [Person] {
        staff.map { Person(role: $0.role.label, name: $0.name, phone: $0.workPhone) }
    }

    static func office(_ o: DirectoryOffice) -> Office { Office(name: o.name, address: o.address, phone: o.phone) }

    static func code(_ context: AppRequestContext, level: RegionLevel) throws -> RegionCode {
        let text = context.parameters.get("code") ?? ""
        guard let code = try? RegionCode(text), code.level == level else {
            throw AppError.notFound("编码无效:\(String(text.prefix(24))) (not a \(level.rawValue) code)")
        }
        return code
    }

    // MARK: public pages

    @Sendable func search(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = searchText(request)
        let found = query.isEmpty ? [] : try await app.store.directory.search(query)
        let page = SearchPage(query: query, searched: !query.isEmpty,
                              found: found.map { Option(value: "/directory/buildings/\($0.code)", label: "\($0.name) · \($0.address)") },
                              empty: !query.isEmpty && found.isEmpty, error: nil)
        return app.pages.response(page: page, template: "directory", context: context)
    }

    /// Served from the page cache to readers without a session (the stairwell's QR code); staff get it fresh.
    @Sendable func building(_ request: Request, context: AppRequestContext) async throws -> Response {
        let text = context.parameters.get("code") ?? ""
        let anonymous = context.session == nil
        if anonymous {
            let directory = app.store.directory
            await app.directory.revalidate { try await directory.version() }
            if let cached = await app.directory.get("b:" + text) { return app.pages.htmlResponse(cached) }
        }
        guard let code = try? RegionCode(text), code.level == .building else {
            return try await notFound(text, context: context)
        }
        let lookup: DirectoryLookup
        do { lookup = try await app.store.directory.lookup(code) } catch StoreError.notFound {
            return try await notFound(text, context: context)
        }
        let html: String
        switch lookup {
        case .moved(let from, let to):
            html = app.pages.html(MovedPage(from: from.value, to: to.value, href: "/directory/buildings/\(to)"), template: "directory-moved",
                                  chrome: Chrome(context))
        case .building(let b):
            let page = BuildingPage(title: b.name, code: b.code.value, address: b.address, gridName: b.gridName,
                                    gridHref: "/directory/grids/\(b.code.parent!)", staff: Self.people(b.staff), range: b.range,
                                    community: Self.office(b.community), township: Self.office(b.township), duties: b.duties,
                                    reportHref: "/report?building=\(b.code)", noticeHref: "/directory/buildings/\(b.code)/notice")
            html = app.pages.html(page, template: "directory-building", chrome: Chrome(context))
        }
        if anonymous { await app.directory.put("b:" + text, html) }
        return app.pages.htmlResponse(html)
    }

    /// An unknown code: a 404 that still lets the reader search (nothing about why it is unknown).
    private func notFound(_ text: String, context: AppRequestContext) async throws -> Response {
        let page = SearchPage(query: "", searched: false, found: [], empty: false,
                              error: "没有编码为“\(String(text.prefix(24)))”的楼栋,请按地址查找 (no building with this code; search by address)")
        return app.pages.response(status: .notFound, page: page, template: "directory", context: context)
    }

    @Sendable func grid(_ request: Request, context: AppRequestContext) async throws -> Response {
        let code = try Self.code(context, level: .grid)
        let g = try await app.store.directory.grid(code)
        let viewer = context.session == nil ? nil : context.viewer
        let page = GridPage(title: g.name, code: g.code.value, staff: Self.people(g.staff), community: Self.office(g.community), duties: g.duties,
                            buildings: g.buildings.map { Option(value: "/directory/buildings/\($0.code)", label: "\($0.name)\($0.head.map { " · 楼栋长 \($0.name)" } ?? "")") },
                            noticesHref: "/directory/communities/\(code.parent!)/notices",
                            editHref: viewer.map { Self.editsStaff($0, code) } == true ? "/directory/grids/\(code)/staff" : nil)
        return app.pages.response(page: page, template: "directory-grid", context: context)
    }

    static func editsStaff(_ v: Viewer, _ code: RegionCode) -> Bool {
        [.countyAdmin, .townshipAdmin, .communityStaff].contains(v.role) && v.covers(code)
    }

    // MARK: printing

    /// Where the QR code points: `GRIDWORK_PUBLIC_URL` when the county set it (the address residents reach),
    /// otherwise the address this page was asked for.
    static func base(_ request: Request) -> String {
        if let configured = ProcessInfo.processInfo.environment["GRIDWORK_PUBLIC_URL"], !configured.isEmpty {
            return configured.hasSuffix("/") ? String(configured.dropLast()) : configured
        }
        let proto = request.headers[.forwardedProto]?.lowercased() == "https" ? "https" : "http"
        let host = (request.head.authority ?? "127.0.0.1").filter { $0.isASCII && ($0.isLetter || $0.isNumber || ".-:[]".contains($0)) }
        return "\(proto)://\(host)"
    }

    func sheet(_ b: DirectoryBuilding, base: String) throws -> Notice {
        let url = "\(base)/directory/buildings/\(b.code)"
        return Notice(title: b.name, address: b.address, code: b.code.value, staff: Self.people(b.staff), range: b.range, gridName: b.gridName,
                      community: Self.office(b.community), duties: b.duties,
                      qr: try QRCode(url).svg(pixelsPerModule: 4, label: "扫码查看本楼栋公示和反映问题"), url: url)
    }

    @Sendable func notice(_ request: Request, context: AppRequestContext) async throws -> Response {
        let code = try Self.code(context, level: .building)
        switch try await app.store.directory.lookup(code) {
        case .moved(_, let to): return redirect(to: "/directory/buildings/\(to)/notice")
        case .building(let b):
            let page = NoticePage(title: "楼栋公示牌 · \(b.name)", notices: [try sheet(b, base: Self.base(request))])
            return app.pages.response(page: page, template: "notice", context: context, layout: "print-layout")
        }
    }

    @Sendable func communityNotices(_ request: Request, context: AppRequestContext) async throws -> Response {
        let code = try Self.code(context, level: .community)
        let base = Self.base(request)
        let buildings = try await app.store.directory.buildings(inCommunity: code)
        let page = NoticePage(title: "楼栋公示牌(全社区 \(buildings.count) 栋)", notices: try buildings.map { try sheet($0, base: base) })
        return app.pages.response(page: page, template: "notice", context: context, layout: "print-layout")
    }

    // MARK: keeping it current

    struct DutiesPage: PageView {
        let title = "网格职责任务清单"
        let text: String
        let notice: String?
        let error: String?
    }

    @Sendable func dutiesForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.requireAdmin { $0.role == .countyAdmin }
        let page = DutiesPage(text: try await app.store.directory.duties().joined(separator: "\n"), notice: nil, error: nil)
        return app.pages.response(page: page, template: "directory-duties", context: context)
    }

    @Sendable func saveDuties(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin { $0.role == .countyAdmin }
        let lines = (form["duties"] ?? "").split(whereSeparator: \.isNewline).map(String.init)
        do {
            try await app.store.directory.setDuties(lines, viewer: viewer, address: context.address)
            await app.directory.clear()
            let page = DutiesPage(text: lines.joined(separator: "\n"), notice: "已保存,公示页面已更新", error: nil)
            return app.pages.response(page: page, template: "directory-duties", context: context)
        } catch StoreError.invalid(let field, let reason) {
            let page = DutiesPage(text: form["duties"] ?? "", notice: nil, error: "\(field):\(reason)")
            return app.pages.response(status: .badRequest, page: page, template: "directory-duties", context: context)
        }
    }

    struct Post: Sendable { let role: String; let target: String; let label: String; let name: String; let phone: String; let female: Bool }
    struct StaffPage: PageView {
        let title: String
        let code: String
        let posts: [Post]
        let notice: String?
        let error: String?
    }

    @Sendable func staffForm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let code = try Self.code(context, level: .grid)
        _ = try context.requireAdmin { Self.editsStaff($0, code) }
        return try await staffPage(code, context: context)
    }

    private func staffPage(_ code: RegionCode, context: AppRequestContext, notice: String? = nil, error: String? = nil,
                           status: HTTPResponse.Status = .ok) async throws -> Response {
        let g = try await app.store.directory.grid(code)
        var posts: [Post] = []
        for role in [StaffRole.gridWorker, .gridLeader] {
            let p = g.staff.first { $0.role == role }
            posts.append(Post(role: role.rawValue, target: code.value, label: role.label, name: p?.name ?? "", phone: p?.workPhone ?? "",
                              female: (p?.sex ?? .female) == .female))
        }
        for b in g.buildings {
            posts.append(Post(role: StaffRole.buildingHead.rawValue, target: b.code.value, label: "\(b.name) 楼栋长", name: b.head?.name ?? "",
                              phone: b.head?.workPhone ?? "", female: (b.head?.sex ?? .female) == .female))
        }
        let page = StaffPage(title: "\(g.name) 人员公示", code: code.value, posts: posts, notice: notice, error: error)
        return app.pages.response(status: status, page: page, template: "directory-staff", context: context)
    }

    @Sendable func saveStaff(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let code = try Self.code(context, level: .grid)
        let viewer = try context.requireAdmin { Self.editsStaff($0, code) }
        guard let role = StaffRole(rawValue: form["role"] ?? ""), let target = try? RegionCode(form["target"] ?? ""),
              target == code || target.parent == code, let sex = Sex(rawValue: form["sex"] ?? "") else {
            return try await staffPage(code, context: context, error: "岗位 (post):请从列表中选择岗位并填写性别 (choose a post and sex)", status: .badRequest)
        }
        do {
            try await app.store.directory.setStaff(role, at: target, name: form["name"] ?? "", sex: sex, phone: form["phone"] ?? "",
                                                   viewer: viewer, address: context.address)
            await app.directory.clear()
            return try await staffPage(code, context: context, notice: "已更新\(role.label),公示页面已同步")
        } catch StoreError.invalid(let field, let reason) {
            return try await staffPage(code, context: context, error: "\(field):\(reason)", status: .badRequest)
        }
    }
}
