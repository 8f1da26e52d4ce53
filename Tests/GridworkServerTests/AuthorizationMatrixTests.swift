import Foundation
import GridworkCore
import GridworkStore
import GridworkTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

/// Every route × every kind of actor × an object inside and outside their scope.
///
/// The table below has one entry per route of the router; the test fails if
/// a route has none, so a new route cannot skip the matrix. Each entry says,
/// as plainly as possible and without calling the Policy it checks, what
/// each actor should get.
@Suite struct AuthorizationMatrixTests {
    enum Actor: Sendable, CustomStringConvertible {
        case anonymous
        case session(login: String, role: Role, scope: String, department: Department?)
        case token(areas: Set<String>, scope: String)

        var description: String {
            switch self {
            case .anonymous: "anonymous"
            case .session(let login, _, _, _): login
            case .token(let areas, let scope): "token(\(areas.sorted().joined(separator: "+")) @\(scope))"
            }
        }
        var hasSession: Bool { if case .session = self { true } else { false } }
        var role: Role? { if case .session(_, let role, _, _) = self { role } else { nil } }
        func covers(_ code: String) -> Bool {
            switch self {
            case .anonymous: false
            case .session(_, _, let scope, _), .token(_, let scope): code.hasPrefix(scope)
            }
        }
    }

    struct Object: Sendable {
        let building: String; let resident: Int64; let household: Int64; let matter: Int64; let photo: Int64
        /// A running campaign over the building's grid, issued by the county, and the visit of one of its doors.
        let campaign: Int64; let visit: Int64
        /// An errand asked for at the building by a resident without an account; a volunteer of its grid; a county course.
        let errand: Int64; let volunteer: Int64; let course: Int64
    }

    struct Case: Sendable {
        let method: HTTPRequest.Method
        let uri: String
        let body: String?
        let json: Bool
        let csrf: Bool
        let expected: Int
        /// Text that must (true) or must not (false) be in the answer.
        let mustShow: (String, Bool)?

        init(_ method: HTTPRequest.Method, _ uri: String, body: String? = nil, json: Bool = false, csrf: Bool = true,
             expect: Int, show: (String, Bool)? = nil) {
            self.method = method; self.uri = uri; self.body = body; self.json = json; self.csrf = csrf
            self.expected = expect; self.mustShow = show
        }
    }

    static let actors: [Actor] = [
        .anonymous,
        .session(login: "admin", role: .countyAdmin, scope: "430524", department: nil),
        .session(login: "t430524001", role: .townshipAdmin, scope: "430524001", department: nil),
        .session(login: "c430524001001", role: .communityStaff, scope: "430524001001", department: nil),
        .session(login: "gl430524001001001", role: .gridLeader, scope: "430524001001001", department: nil),
        .session(login: "gw430524001001001", role: .gridWorker, scope: "430524001001001", department: nil),
        .session(login: "bh430524001001001001", role: .buildingHead, scope: "430524001001001001", department: nil),
        .session(login: "dept-civil_affairs", role: .departmentOfficer, scope: "430524", department: .civilAffairs),
        .session(login: "dept-fire", role: .departmentOfficer, scope: "430524", department: .fire),
        .session(login: "resident", role: .resident, scope: "430524001001001001", department: nil),
        .token(areas: ["net"], scope: "430524"),
        .token(areas: ["residents"], scope: "430524001"),
    ]

    // MARK: the oracle, written out

    static func readsResidents(_ a: Actor, _ o: Object) -> Int {
        switch a {
        case .anonymous: 401
        case .token(let areas, _): !areas.contains("residents") ? 403 : a.covers(o.building) ? 200 : 404
        case .session(_, let role, _, _): role == .resident ? 404 : a.covers(o.building) ? 200 : 404
        }
    }

    static func unmasks(_ a: Actor, _ o: Object, field: String) -> Int {
        switch a {
        case .anonymous: return 401
        case .token(let areas, _): return areas.contains("residents") ? 404 : 403
        case .session(_, let role, _, let department):
            guard a.covers(o.building) else { return 404 }
            switch role {
            case .resident, .apiToken: return 404
            case .buildingHead: return field == "phone" ? 200 : 404
            case .departmentOfficer: return department == .civilAffairs && field == "phone" ? 200 : 404
            default: return 200
            }
        }
    }

    static let digest = String(repeating: "ab", count: 32)

    /// Registry pages: anyone reading residents in a browser session (net staff and departments) — within scope.
    /// Fire's duty covers no people, so its officers find no one; `household` pages show a dwelling even so.
    static func registryPage(_ a: Actor, _ o: Object, household: Bool = false) -> Int {
        switch a {
        case .anonymous, .token: return 303
        case .session(_, let role, _, let department):
            if role == .resident { return 403 }
            if department == .fire && !household { return 404 }
            return a.covers(o.building) ? 200 : 404
        }
    }

    /// A matter in the building, just reported: the grid worker and every level above in scope see it; building heads
    /// (not yet assigned), departments (not assigned) and residents (not the reporter) do not.
    static func seesMatter(_ a: Actor, _ o: Object) -> Int {
        guard case .session(_, let role, _, _) = a else { return 303 }
        return [.countyAdmin, .townshipAdmin, .communityStaff, .gridLeader, .gridWorker].contains(role) && a.covers(o.building) ? 200 : 404
    }

    /// Changing the registry: staff from the grid worker up (403 for others; no session means no CSRF token: 403).
    static func editsRegistry(_ a: Actor) -> Bool {
        guard let role = a.role else { return false }
        return [.countyAdmin, .townshipAdmin, .communityStaff, .gridLeader, .gridWorker].contains(role)
    }

    /// Import pages: staff from the grid worker up.
    static func importer(_ a: Actor, allowed: Int) -> Int {
        guard let role = a.role else { return 303 }
        return [.countyAdmin, .townshipAdmin, .communityStaff, .gridLeader, .gridWorker].contains(role) ? allowed : 403
    }

    static func adminPage(_ a: Actor, countyOnly: Bool) -> Int {
        guard let role = a.role else { return 303 }
        if role == .countyAdmin { return 200 }
        return role == .townshipAdmin && !countyOnly ? 200 : 403
    }

    /// One entry per route of the router.
    static func cases(_ route: String, _ a: Actor, _ o: Object) -> [Case]? {
        let grid = String(o.building.prefix(15))
        let seesResidents = a.hasSession && readsResidents(a, o) == 200
        let page = a.hasSession ? 200 : 303
        switch route {
        case "GET /healthz", "GET /metrics", "GET /openapi.yaml", "GET /static/app.css", "GET /static/import.js", "GET /static/campaign.js", "GET /", "GET /login",
             "GET /api/v1/net", "GET /api/v1/stats":
            return [Case(.get, String(route.dropFirst(4)), expect: 200)]
        case "GET /api/v1/regions/{code}": return [Case(.get, "/api/v1/regions/\(grid)", expect: 200)]
        case "GET /api/v1/buildings/{code}": return [Case(.get, "/api/v1/buildings/\(o.building)", expect: 200, show: ("****", false))]
        case "GET /net/{code}":
            return [Case(.get, "/net/\(o.building)", expect: 200, show: ("住户与居民", seesResidents))]
        case "GET /me": return [Case(.get, "/me", expect: page)]
        case "GET /admin/users": return [Case(.get, "/admin/users", expect: adminPage(a, countyOnly: false))]
        case "GET /admin/tokens": return [Case(.get, "/admin/tokens", expect: adminPage(a, countyOnly: false))]
        case "GET /admin/audit": return [Case(.get, "/admin/audit", expect: adminPage(a, countyOnly: true))]
        case "GET /api/v1/buildings/{code}/residents":
            let status = readsResidents(a, o)
            // Fire works on buildings, not people: an empty list.
            var fire = false
            if case .session(_, _, _, .fire) = a { fire = true }
            return [Case(.get, "/api/v1/buildings/\(o.building)/residents", expect: status, show: ("****", status == 200 && !fire))]
        case "POST /api/v1/residents/{id}/unmask":
            let uri = "/api/v1/residents/\(o.resident)/unmask"
            var list = ["phone", "id_number"].map { f in
                Case(.post, uri, body: #"{"field":"\#(f)"}"#, json: true, expect: unmasks(a, o, field: f))
            }
            if a.hasSession { list.append(Case(.post, uri, body: #"{"field":"phone"}"#, json: true, csrf: false, expect: 403)) }
            return list
        case "POST /net/{code}/unmask":
            let uri = "/net/\(o.building)/unmask"
            // Without a session there is no CSRF token to send: refused before anything else.
            guard a.hasSession else { return [Case(.post, uri, body: "resident=\(o.resident)&field=phone", expect: 403)] }
            return ["phone", "id_number"].map { f in
                let api = unmasks(a, o, field: f)
                return Case(.post, uri, body: "resident=\(o.resident)&field=\(f)", expect: api == 200 ? 200 : 404,
                            show: ("class=\"revealed\"", api == 200))
            } + [Case(.post, uri, body: "resident=\(o.resident)&field=phone", csrf: false, expect: 403)]
        // Every other browser POST: without the CSRF token it is refused and changes nothing.
        case "POST /login": return [Case(.post, "/login", body: "login=admin&password=\(TestDatabase.demoPassword)", csrf: false, expect: 403)]
        case "POST /logout", "POST /me/password", "POST /me/totp/start", "POST /me/totp/confirm", "POST /admin/users", "POST /admin/tokens":
            return [Case(.post, String(route.dropFirst(5)), body: "old=x&new=Xx-123456789&login=evil&role=county_admin&scope=430524&password=Evil-pass-123&name=x&area_net=on&code=123456",
                         csrf: false, expect: 403)]
        case "POST /admin/users/{login}/disable", "POST /admin/users/{login}/enable", "POST /admin/users/{login}/reset-password":
            let path = route.dropFirst(5).replacingOccurrences(of: "{login}", with: "gw430524001001001")
            return [Case(.post, path, body: "password=Evil-pass-123", csrf: false, expect: 403)]
        case "POST /admin/tokens/{id}/revoke": return [Case(.post, "/admin/tokens/1/revoke", body: "", csrf: false, expect: 403)]
        case "GET /registry/departments/{department}":
            // Civil affairs' list: its own officer and the admins; other departments and net staff are refused.
            var status = 303
            if case .session(_, let role, _, let department) = a {
                status = role == .departmentOfficer ? (department == .civilAffairs ? 200 : 404)
                    : (role == .countyAdmin || role == .townshipAdmin) ? 200 : 403
            }
            return [Case(.get, "/registry/departments/civil_affairs", expect: status)]
        case "GET /registry/import": return [Case(.get, "/registry/import", expect: importer(a, allowed: 200))]
        case "GET /registry/import/{digest}": return [Case(.get, "/registry/import/\(digest)", expect: importer(a, allowed: 200))]
        // No import ran, so there is no report: found nothing, rather than someone else's.
        case "GET /registry/import/{digest}/report.csv": return [Case(.get, "/registry/import/\(digest)/report.csv", expect: importer(a, allowed: 404))]
        case "POST /registry/import/upload":
            // A raw body with no CSRF header: refused (401 without a session, 403 with one), nothing stored.
            return [Case(.post, "/registry/import/upload", body: "姓名,公民身份号码,楼栋,房号\n", csrf: false, expect: a.hasSession ? 403 : 401)]
        case "GET /registry/search":
            let status = a.hasSession ? (a.role == .resident ? 403 : 200) : 303
            return [Case(.get, "/registry/search", expect: status)]
        case "POST /registry/search":
            let reader = registryPage(a, o, household: true)
            return [Case(.post, "/registry/search", body: "name=%E5%88%98", csrf: false, expect: 403),
                    Case(.post, "/registry/search", body: "name=%E5%88%98", expect: a.hasSession ? (reader == 403 ? 403 : 200) : 403)]
        case "GET /registry/residents/{id}":
            let status = registryPage(a, o)
            return [Case(.get, "/registry/residents/\(o.resident)", expect: status, show: ("****", status == 200))]
        case "GET /api/v1/residents/{id}":
            var status = readsResidents(a, o)
            if case .session(_, _, _, .fire) = a, status == 200 { status = 404 }
            return [Case(.get, "/api/v1/residents/\(o.resident)", expect: status, show: ("id_number\":\"", false))]
        case "POST /registry/residents/{id}/unmask":
            let uri = "/registry/residents/\(o.resident)/unmask"
            guard a.hasSession else { return [Case(.post, uri, body: "field=phone", expect: 403)] }
            return ["phone", "id_number"].map { f in
                let allowed = a.role == .resident ? 403 : unmasks(a, o, field: f)
                return Case(.post, uri, body: "field=\(f)", expect: allowed, show: ("class=\"revealed\"", allowed == 200))
            } + [Case(.post, uri, body: "field=phone", csrf: false, expect: 403)]
        case "POST /registry/residents/{id}/departure":
            let uri = "/registry/residents/\(o.resident)/departure"
            // A form that cannot be valid: editors hear why (400), nobody else gets that far.
            return [Case(.post, uri, body: "event=vanished", csrf: false, expect: 403),
                    Case(.post, uri, body: "event=vanished", expect: editsRegistry(a) ? (a.covers(o.building) ? 400 : 404) : 403)]
        case "GET /registry/households/{id}":
            let status = registryPage(a, o, household: true)
            return [Case(.get, "/registry/households/\(o.household)", expect: status, show: ("登记出生或迁入", status == 200 && editsRegistry(a)))]
        case "POST /registry/households/{id}/arrival":
            let uri = "/registry/households/\(o.household)/arrival"
            return [Case(.post, uri, body: "event=birth&name=", csrf: false, expect: 403),
                    Case(.post, uri, body: "event=birth&name=", expect: editsRegistry(a) ? (a.covers(o.building) ? 400 : 404) : 403)]
        case "POST /registry/households/{id}/occupancy":
            let uri = "/registry/households/\(o.household)/occupancy"
            return [Case(.post, uri, body: "occupancy=palace", csrf: false, expect: 403),
                    Case(.post, uri, body: "occupancy=palace", expect: editsRegistry(a) ? (a.covers(o.building) ? 400 : 404) : 403)]
        case "POST /registry/export":
            let status = a.hasSession ? registryPage(a, o) : 403
            return [Case(.post, "/registry/export", body: "scope=\(o.building)&format=csv", csrf: false, expect: 403),
                    Case(.post, "/registry/export", body: "scope=\(o.building)&format=csv", expect: status, show: ("公民身份号码", status == 200))]
        case "GET /registry/organisations":
            var status = 303
            if case .session(_, let role, _, _) = a {
                status = role == .resident || role == .departmentOfficer ? 403 : (a.covers(grid) || o.building.hasPrefix(grid) && a.covers(o.building)) ? 200 : 404
            }
            return [Case(.get, "/registry/organisations?in=\(grid)", expect: status)]
        case "POST /registry/organisations":
            let body = "in=\(grid)&grid=\(grid)&name=%E8%B6%85%E5%B8%82&credit_code=91350100M000100Y44&kind=company"
            return [Case(.post, "/registry/organisations", body: body, csrf: false, expect: 403),
                    Case(.post, "/registry/organisations", body: body, expect: editsRegistry(a) ? (a.covers(grid) ? 400 : 404) : 403)]
        case "GET /report", "GET /track":
            return [Case(.get, String(route.dropFirst(4)) + "?building=\(o.building)", expect: 200)]
        case "POST /report", "POST /track", "POST /track/act":
            // Without the form's token nothing is taken in or shown.
            return [Case(.post, String(route.dropFirst(5)), body: "category=0301&description=xxxxxx&phone=13807391234&building=\(o.building)&code=ABCDEFGH",
                         csrf: false, expect: 403)]
        case "GET /cases":
            return [Case(.get, "/cases", expect: a.hasSession ? 200 : 303)]
        case "GET /cases/new":
            return [Case(.get, "/cases/new", expect: a.hasSession ? (a.role == .resident ? 403 : 200) : 303)]
        case "GET /cases/board":
            let watches: Set<Role> = [.countyAdmin, .townshipAdmin, .communityStaff, .gridLeader, .gridWorker]
            return [Case(.get, "/cases/board", expect: a.hasSession ? (watches.contains(a.role!) ? 200 : 403) : 303)]
        case "GET /cases/{id}":
            let status = seesMatter(a, o)
            return [Case(.get, "/cases/\(o.matter)", expect: status, show: ("垃圾堆放", status == 200))]
        case "GET /cases/{id}/photos/{photo}":
            return [Case(.get, "/cases/\(o.matter)/photos/\(o.photo)", expect: seesMatter(a, o))]
        case "POST /cases/{id}/act":
            // A stale version: whoever may see the matter is told it changed (409); nobody else learns it exists.
            let sees = seesMatter(a, o)
            return [Case(.post, "/cases/\(o.matter)/act", body: "action=accept&version=999", csrf: false, expect: 403),
                    Case(.post, "/cases/\(o.matter)/act", body: "action=accept&version=999", expect: a.hasSession ? (sees == 200 ? 409 : 404) : 403)]
        case "GET /cases/settings":
            return [Case(.get, "/cases/settings", expect: a.hasSession ? (a.role == .resident ? 403 : 200) : 303, show: ("电动车违规充电", a.hasSession && a.role != .resident))]
        case "POST /cases/settings/categories/{code}":
            // Only county admins edit the clocks; a bad value is explained to them and changes nothing.
            return [Case(.post, "/cases/settings/categories/0202", body: "responsible=mayor", csrf: false, expect: 403),
                    Case(.post, "/cases/settings/categories/0202", body: "responsible=mayor", expect: a.role == .countyAdmin ? 400 : 403)]
        case "POST /cases/settings/calendar":
            return [Case(.post, "/cases/settings/calendar", body: "day=2027-02-30&kind=holiday", csrf: false, expect: 403),
                    Case(.post, "/cases/settings/calendar", body: "day=2027-02-30&kind=holiday", expect: a.role == .countyAdmin ? 400 : 403)]
        case "GET /cases/webhooks", "POST /cases/webhooks", "POST /cases/webhooks/{id}/disable", "POST /cases/webhooks/deliveries/{id}/retry":
            // Grid leaders and the levels above manage their grids' hooks; a bad one is explained, an unknown one not found.
            let manages = [.gridLeader, .communityStaff, .townshipAdmin, .countyAdmin].contains(a.role)
            if route.hasPrefix("GET") { return [Case(.get, "/cases/webhooks", expect: a.hasSession ? (manages ? 200 : 403) : 303)] }
            let uri = route.dropFirst(5).replacingOccurrences(of: "{id}", with: "999999")
            let body = "grid=\(grid)&kind=wecom&url=javascript:alert(1)"
            let allowed = route == "POST /cases/webhooks" ? (a.covers(grid) ? 400 : 404) : 404
            return [Case(.post, uri, body: body, csrf: false, expect: 403), Case(.post, uri, body: body, expect: manages ? allowed : 403)]
        case "GET /cases/figures", "GET /cases/figures.csv":
            let watches = [.countyAdmin, .townshipAdmin, .communityStaff, .gridLeader, .gridWorker].contains(a.role)
            let uri = String(route.dropFirst(4)) + "?in=\(grid)"
            return [Case(.get, uri, expect: a.hasSession ? (watches ? (a.covers(grid) ? 200 : 404) : 403) : 303)]
        case "POST /registry/import/{digest}/confirm":
            return [Case(.post, "/registry/import/\(digest)/confirm", body: "", csrf: false, expect: 403)]
        // Open311 GeoReport v2: reads are public for everyone (sessions and bearer tokens change nothing), and never show
        // the reporter's phone; a POST needs an `api_key` in the form — without a valid one it is 403, whoever sends it.
        case "GET /open311/discovery.{format}":
            return [Case(.get, "/open311/discovery.json", expect: 200), Case(.get, "/open311/discovery.xml", expect: 200)]
        case "GET /open311/v2/services.{format}":
            return [Case(.get, "/open311/v2/services.json", expect: 200, show: ("垃圾堆放", true)), Case(.get, "/open311/v2/services.xml", expect: 200)]
        case "GET /open311/v2/services/{file}":
            return [Case(.get, "/open311/v2/services/0301.xml", expect: 200), Case(.get, "/open311/v2/services/9999.json", expect: 404)]
        case "GET /open311/v2/requests.{format}":
            return [Case(.get, "/open311/v2/requests.json", expect: 200, show: ("楼下垃圾三天没人清运", true)),
                    Case(.get, "/open311/v2/requests.xml", expect: 200, show: ("13807391234", false))]
        case "GET /open311/v2/requests/{file}":
            return [Case(.get, "/open311/v2/requests/\(o.matter).json", expect: 200, show: ("138****1234", false)),
                    Case(.get, "/open311/v2/requests/999999.xml", expect: 404)]
        case "GET /open311/v2/tokens/{file}":
            return [Case(.get, "/open311/v2/tokens/\(o.matter).json", expect: 200)]
        case "POST /open311/v2/requests.{format}":
            let body = "service_code=0301&address_id=\(o.building)&description=%E5%9E%83%E5%9C%BE%E5%A0%86%E6%94%BE"
            return [Case(.post, "/open311/v2/requests.json", body: body, csrf: false, expect: 403, show: ("api_key", true)),
                    Case(.post, "/open311/v2/requests.xml", body: "api_key=gw_forged&" + body, csrf: false, expect: 403, show: ("<code>403</code>", true))]
        // Campaigns: net staff whose scope reaches the campaign's grid see it; departments see only their own (none here);
        // the county and the offices above the grid manage it; residents and tokens have no campaign pages.
        case let r where r.hasPrefix("GET /campaigns") || r.hasPrefix("POST /campaigns"):
            return campaignCases(route, a, o)
        case let r where ["/directory", "/errands", "/helpers", "/training", "/cases/{id}/helpers"].contains { r.dropFirst(r.hasPrefix("GET") ? 4 : 5).hasPrefix($0) }:
            return serviceCases(route, a, o)
        default: return nil
        }
    }

    /// Issue #7: the public directory is public (and its upkeep for the offices above the grid); errands are public to
    /// ask and track, and visible to whoever they are assigned to or the officers over them; helpers and training are
    /// for the staff of the net.
    static func serviceCases(_ route: String, _ a: Actor, _ o: Object) -> [Case]? {
        let role = a.role
        let session = a.hasSession
        let grid = String(o.building.prefix(15)), community = String(o.building.prefix(12))
        let netStaff = session && role != .resident && role != .departmentOfficer
        let officer = session && [.countyAdmin, .townshipAdmin, .communityStaff, .gridLeader, .gridWorker].contains(role)
        let office = session && [.countyAdmin, .townshipAdmin, .communityStaff].contains(role)
        let handler = session && (officer ? a.covers(o.building) : role == .buildingHead && a.covers(o.building))
        func page(_ uri: String, allowed: Bool, otherwise: Int = 403, show: (String, Bool)? = nil) -> Case {
            Case(.get, uri, expect: !session ? 303 : allowed ? 200 : otherwise, show: show)
        }
        func post(_ uri: String, _ body: String, expect status: Int) -> [Case] {
            [Case(.post, uri, body: body, csrf: false, expect: 403), Case(.post, uri, body: body, expect: session ? status : 403)]
        }
        let staffOnly = { (ok: Int, allowed: Bool) -> Int in !netStaff ? 403 : allowed ? ok : 404 }
        switch route {
        case "GET /directory": return [Case(.get, "/directory?q=%27%20OR%201%3D1%20--", expect: 200, show: ("没有找到", true))]
        case "GET /directory/buildings/{code}":
            return [Case(.get, "/directory/buildings/\(o.building)", expect: 200, show: ("网格职责", true)),
                    Case(.get, "/directory/buildings/\(o.building)", expect: 200, show: ("13807391234", false)),
                    Case(.get, "/directory/buildings/%3Cscript%3E", expect: 404, show: ("<script>", false))]
        case "GET /directory/buildings/{code}/notice": return [Case(.get, "/directory/buildings/\(o.building)/notice", expect: 200, show: ("<svg", true))]
        case "GET /directory/grids/{code}": return [Case(.get, "/directory/grids/\(grid)", expect: 200)]
        case "GET /directory/communities/{code}/notices": return [Case(.get, "/directory/communities/\(community)/notices", expect: 200)]
        case "GET /directory/duties": return [page("/directory/duties", allowed: role == .countyAdmin)]
        case "POST /directory/duties": return post("/directory/duties", "duties=", expect: role == .countyAdmin ? 400 : 403)
        case "GET /directory/grids/{code}/staff": return [page("/directory/grids/\(grid)/staff", allowed: office && a.covers(grid))]
        case "POST /directory/grids/{code}/staff":
            return post("/directory/grids/\(grid)/staff", "role=grid_worker&target=\(grid)&name=x&sex=female&phone=1",
                        expect: office && a.covers(grid) ? 400 : 403)
        case "GET /errands", "GET /errands/new", "GET /errands/track": return [Case(.get, String(route.dropFirst(4)), expect: 200)]
        case "POST /errands/new": return post("/errands/new", "kind=pension&building=\(o.building)&name=x", expect: 400)
        case "POST /errands/track": return post("/errands/track", "code=XXXXXXXX&phone=1", expect: 404)
        case "POST /errands/track/act": return post("/errands/track/act", "code=XXXXXXXX&phone=1&action=cancel", expect: 404)
        case "GET /errands/catalogue": return [page("/errands/catalogue", allowed: role == .countyAdmin)]
        case "POST /errands/catalogue": return post("/errands/catalogue", "days=x", expect: role == .countyAdmin ? 400 : 403)
        case "GET /errands/figures": return [page("/errands/figures", allowed: officer)]
        case "GET /errands/{id}": return [page("/errands/\(o.errand)", allowed: handler, otherwise: 404, show: ("王奶奶", handler))]
        case "POST /errands/{id}/act": return post("/errands/\(o.errand)/act", "action=accept&version=999", expect: handler ? 409 : 404)
        case "POST /errands/{id}/phone":
            // The person doing the errand sees the whole phone (audited); nobody else does.
            return [Case(.post, "/errands/\(o.errand)/phone", body: "", csrf: false, expect: 403),
                    Case(.post, "/errands/\(o.errand)/phone", body: "", expect: session ? (handler ? 200 : 404) : 403, show: ("13807391234", handler))]
        case "GET /errands/{id}/photos/{photo}": return [page("/errands/\(o.errand)/photos/999999", allowed: false, otherwise: 404)]
        case "POST /errands/{id}/helpers":
            return post("/errands/\(o.errand)/helpers", "helper=v:\(o.volunteer)&hours=abc", expect: staffOnly(400, handler))
        case "POST /cases/{id}/helpers":
            return post("/cases/\(o.matter)/helpers", "helper=v:\(o.volunteer)&hours=abc", expect: staffOnly(400, seesMatter(a, o) == 200))
        case "GET /helpers": return [page("/helpers", allowed: netStaff)]
        case "POST /helpers/volunteers":
            return post("/helpers/volunteers", "grid=\(grid)&name=x&phone=13907391111", expect: staffOnly(400, officer && a.covers(grid)))
        case "POST /helpers/units":
            return post("/helpers/units", "community=\(community)&name=x&code=bad", expect: staffOnly(400, office && a.covers(community)))
        case "GET /helpers/{helper}":
            let sees = officer ? a.covers(grid) : role == .buildingHead && a.covers(o.building)
            return [page("/helpers/v:\(o.volunteer)", allowed: netStaff && sees, otherwise: netStaff ? 404 : 403)]
        case "POST /helpers/{helper}/hours":
            let sees = officer ? a.covers(grid) : role == .buildingHead && a.covers(o.building)
            return post("/helpers/v:\(o.volunteer)/hours", "hours=abc", expect: staffOnly(400, sees))
        case "GET /training": return [page("/training", allowed: netStaff)]
        case "POST /training": return post("/training", "day=bad", expect: office ? 400 : 403)
        case "GET /training/overdue": return [page("/training/overdue", allowed: officer)]
        case "GET /training/people/{login}":
            let sees = a.description == "gw\(grid)" || (officer && a.covers(grid))
            return [page("/training/people/gw\(grid)", allowed: netStaff && sees, otherwise: netStaff ? 404 : 403)]
        case "GET /training/{id}": return [page("/training/\(o.course)", allowed: netStaff)]
        case "POST /training/{id}/attendance": return post("/training/\(o.course)/attendance", "attended=nobody", expect: office ? 400 : 403)
        default: return nil
        }
    }

    static func campaignCases(_ route: String, _ a: Actor, _ o: Object) -> [Case]? {
        let role = a.role
        let staff = a.hasSession && role != .resident
        let sees = staff && role != .departmentOfficer && a.covers(o.building)
        let manages = sees && [.countyAdmin, .townshipAdmin, .communityStaff].contains(role)
        let officer = sees && [.countyAdmin, .townshipAdmin, .communityStaff, .gridLeader, .gridWorker].contains(role)
        let runs = a.hasSession && [.countyAdmin, .townshipAdmin, .communityStaff, .departmentOfficer].contains(role)
        let get = { (uri: String, ok: Bool) in Case(.get, uri, expect: !a.hasSession ? 303 : role == .resident ? 403 : ok ? 200 : 404) }
        func post(_ uri: String, _ body: String, _ ok: Int, when allowed: Bool) -> [Case] {
            [Case(.post, uri, body: body, csrf: false, expect: 403),
             Case(.post, uri, body: body, expect: !a.hasSession ? 403 : role == .resident ? 403 : allowed ? ok : 404)]
        }
        let c = "/campaigns/\(o.campaign)", v = "\(c)/visits/\(o.visit)"
        switch route {
        case "GET /campaigns": return [Case(.get, "/campaigns", expect: !a.hasSession ? 303 : role == .resident ? 403 : 200)]
        case "GET /campaigns/new": return [Case(.get, "/campaigns/new", expect: !a.hasSession ? 303 : runs ? 200 : 403)]
        case "POST /campaigns/new":
            return [Case(.post, "/campaigns/new", body: "title=x", csrf: false, expect: 403),
                    Case(.post, "/campaigns/new", body: "title=x", expect: !a.hasSession ? 403 : runs ? 400 : 403)]
        case "GET /campaigns/{id}": return [get(c, sees)]
        case "GET /campaigns/{id}/live": return [get(c + "/live?once=1", sees)]
        case "GET /campaigns/{id}/visits": return [get(c + "/visits", sees)]
        case "GET /campaigns/{id}/results": return [get(c + "/results", officer)]
        case "GET /campaigns/{id}/visits/{visit}/photos/{photo}": return [get(v + "/photos/1", false)]
        // Already running: launching again is a conflict for those who manage it.
        case "POST /campaigns/{id}/launch": return post(c + "/launch", "", 409, when: manages)
        // Closing is checked on a campaign that does not exist (closing the real one would change the rest of the run).
        case "POST /campaigns/{id}/close": return post("/campaigns/999999/close", "", 404, when: false)
        case "POST /campaigns/{id}/targets": return post(c + "/targets", "households=999999999", 400, when: manages)
        case "POST /campaigns/{id}/place": return post(c + "/place", "entry=1&household=999999999", 404, when: false)
        case "POST /campaigns/{id}/reassign":
            return post(c + "/reassign", "building=\(o.building)&login=nobody", 400, when: officer)
        // No answers: a required one is missing (400) for whoever may answer at this door.
        case "POST /campaigns/{id}/visits/{visit}": return post(v, "outcome=answered&key=matrix-key-0001", 400, when: sees)
        // Nothing was found at the door: nothing to turn into a matter.
        case "POST /campaigns/{id}/visits/{visit}/case": return post(v + "/case", "", 400, when: officer)
        case "POST /campaigns/{id}/export": return post(c + "/export", "format=csv", 200, when: officer)
        default: return nil
        }
    }

    @Test func everyRouteRoleAndScopeIsAnsweredAsThePolicySays() async throws {
        try await withApp { client, routes, store in
            // setup: two residents with a phone and a civil-affairs tag, one in each township
            let objects = try await [Self.object(store, building: "430524001001001001"), Self.object(store, building: "430524101001001001")]
            var credentials: [String: (cookie: String, csrf: String)] = [:]
            var tokens: [String: String] = [:]
            for actor in Self.actors {
                switch actor {
                case .session(let login, _, _, _):
                    let b = try await client.login(login)
                    credentials[login] = (b.cookie, b.csrf)
                case .token(let areas, let scope):
                    tokens[actor.description] = try await store.accounts.addToken(name: actor.description, scope: try RegionCode(scope),
                                                                                  areas: areas, actor: .commandLine)
                case .anonymous: break
                }
            }
            let usersBefore = try await store.accounts.users(within: .county("430524"))
            let tokensBefore = try await store.accounts.tokens(within: .county("430524"))

            // act and check
            var count = 0
            var failures: [String] = []
            for route in routes {
                for actor in Self.actors {
                    for object in objects {
                        guard let cases = Self.cases(route, actor, object) else { failures.append("no matrix entry for \(route)"); continue }
                        for c in cases {
                            var headers: HTTPFields = [:]
                            var cookie = ""
                            var body = c.body
                            switch actor {
                            case .session(let login, _, _, _):
                                let cred = credentials[login]!
                                cookie = "gw_session=\(cred.cookie)"
                                if c.csrf {
                                    if c.json { headers[.init("X-CSRF-Token")!] = cred.csrf } else { body = "_csrf=\(cred.csrf)&" + (body ?? "") }
                                }
                            case .token:
                                headers[.authorization] = "Bearer \(tokens[actor.description]!)"
                            case .anonymous: break
                            }
                            if !cookie.isEmpty { headers[.cookie] = cookie }
                            let answer = try await client.send(c.uri, method: c.method, headers: headers, body: body,
                                                               contentType: c.json ? "application/json" : "application/x-www-form-urlencoded")
                            count += 1
                            if Int(answer.status.code) != c.expected {
                                failures.append("\(c.method) \(c.uri) as \(actor): \(answer.status.code), expected \(c.expected)")
                            }
                            if let (text, present) = c.mustShow, answer.text.contains(text) != present {
                                failures.append("\(c.method) \(c.uri) as \(actor): \(present ? "missing" : "leaked") \(text)")
                            }
                        }
                    }
                }
            }
            #expect(failures.isEmpty, "\(failures.count) of \(count): \(failures.prefix(12))")
            #expect(count > 500)
            // Refused writes changed nothing.
            #expect(try await store.accounts.users(within: .county("430524")) == usersBefore)
            #expect(try await store.accounts.tokens(within: .county("430524")) == tokensBefore)
            #expect(try await AuditLog.verify(store.database).brokenAt == nil)
        }
    }

    static func object(_ store: Store, building: String) async throws -> Object {
        let grid = String(building.prefix(15)), number = Int(building.suffix(3))!
        let row = try await store.database.reader.raw("""
            SELECT r.id, r.household_id FROM residents r JOIN buildings b ON b.id = r.building_id JOIN regions g ON g.id = b.grid_id
            WHERE g.code = \(bind: grid) AND b.number = \(bind: number) AND r.phone_sealed IS NOT NULL ORDER BY r.id LIMIT 1
            """).first()
        let id = try row!.decode(column: "id", as: Int64.self)
        let household = try row!.decode(column: "household_id", as: Int64.self)
        try await store.database.transaction { db in
            try await db.raw("DELETE FROM resident_tags WHERE resident_id = \(bind: id) AND tag = 'low_income'").run()
            try await db.raw("INSERT INTO resident_tags (resident_id, tag) VALUES (\(bind: id), 'low_income')").run()
        }
        // A matter reported at the building by a resident without an account, with one photo.
        let report = CaseReport(category: "0301", title: "垃圾堆放", description: "楼下垃圾三天没人清运", reporterName: "居民",
                                reporterPhone: MobilePhone("13807391234"), channel: .resident)
        let matter = try await store.cases.report(report, at: .building(try RegionCode(building)),
                                                  photos: [CasePhoto(bytes: [0xFF, 0xD8, 0xFF, 0xE0, 0, 0])], by: nil)
        let photo = try await store.database.reader.raw("SELECT id FROM case_photos WHERE case_id = \(bind: matter.id)").first()!
            .decode(column: "id", as: Int64.self)
        let county = Viewer(userID: 0, login: "admin", role: .countyAdmin, scope: .county("430524"))
        let draft = CampaignDraft(title: "消防隐患排查", instructions: "", deadline: CivilDate(year: 2027, month: 1, day: 1)!, form: CampaignTemplate.fire.form)
        let campaign = try await store.campaigns.create(draft, target: .region(try RegionCode(grid)), viewer: county, address: "test")
        _ = try await store.campaigns.launch(campaign, viewer: county, address: "test")
        let visit = try await store.campaigns.checklist(campaign, viewer: county, building: try RegionCode(building))[0].id
        let errand = try await store.errands.request(ErrandRequest(kind: "pension", room: "101", personName: "王奶奶", phone: MobilePhone("13807391234"), note: ""),
                                                     building: try RegionCode(building), by: nil)
        let worker = Viewer(userID: 0, login: "gw\(grid)", role: .gridWorker, scope: try RegionCode(grid))
        let volunteer = try await store.helpers.addVolunteer(grid: try RegionCode(grid), name: "李师傅", phone: MobilePhone("13907391111")!, skills: "水电",
                                                             availability: "周末", viewer: worker, address: "test")
        let course = try await store.training.addCourse(topic: "消防安全知识", day: CivilDate(year: 2026, month: 11, day: 20)!, hours: 4, trainer: "消防大队",
                                                        mandatory: true, audience: "all", viewer: county, address: "test")
        return Object(building: building, resident: id, household: household, matter: matter.id, photo: photo, campaign: campaign, visit: visit,
                      errand: errand.id, volunteer: volunteer, course: course)
    }
}
