import Foundation
import GridworkServer
import GridworkStore
import GridworkTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Runs `body` against the app's router over a fresh seeded store; `routes` lists "METHOD /path" of every route.
func withApp(_ body: @escaping @Sendable (_ client: any TestClientProtocol, _ routes: [String]) async throws -> Void) async throws {
    try await withApp { client, routes, _ in try await body(client, routes) }
}

/// The same, with the store at hand for setup and checks.
func withApp(_ body: @escaping @Sendable (_ client: any TestClientProtocol, _ routes: [String], _ store: Store) async throws -> Void) async throws {
    try await TestDatabase.withStore { (store: Store) async throws in
        let router = try await buildRouter(store: store)
        let routes = router.routes.map { "\($0.method) \($0.path)" }
        let app = Application(router: router)
        try await app.test(.router) { client in try await body(client, routes, store) }
    }
}

struct Answer: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let text: String
    /// The body as sent, for files that are not text.
    var bytes: [UInt8] = []
    var contentType: String { headers[.contentType] ?? "" }
    var json: Any { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) ?? [:] }

    /// The value a `Set-Cookie` header gives `name`, if any.
    func cookie(_ name: String) -> String? {
        for line in headers[values: .setCookie] {
            let first = line.split(separator: ";").first ?? ""
            let parts = first.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name { return String(parts[1]) }
        }
        return nil
    }

    /// The first `name="_csrf" value="…"` of a page.
    var csrfField: String? {
        guard let r = text.range(of: #"name="_csrf" value=""#) else { return nil }
        return String(text[r.upperBound...].prefix { $0 != "\"" })
    }
}

/// A logged-in browser: its session cookie and CSRF token.
struct Browser: Sendable {
    let login: String
    let cookie: String
    let csrf: String
}

extension TestClientProtocol {
    func get(_ uri: String, as browser: Browser? = nil, headers extra: HTTPFields = [:]) async throws -> Answer {
        try await send(uri, method: .get, as: browser, headers: extra)
    }

    func send(_ uri: String, method: HTTPRequest.Method, as browser: Browser? = nil, headers extra: HTTPFields = [:],
              body: String? = nil, contentType: String = "application/x-www-form-urlencoded") async throws -> Answer {
        var headers = extra
        if let browser { headers[.cookie] = "gw_session=\(browser.cookie)" }
        if body != nil { headers[.contentType] = contentType }
        return try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { r in
            Answer(status: r.status, headers: r.headers, text: String(buffer: r.body), bytes: Array(buffer: r.body))
        }
    }

    /// Logs in through the login form, as a browser does.
    func login(_ login: String, password: String = TestDatabase.demoPassword) async throws -> Browser {
        let form = try await get("/login")
        let anonymous = try #require(form.cookie("gw_csrf"))
        let answer = try await send("/login", method: .post, headers: [.cookie: "gw_csrf=\(anonymous)"],
                                    body: "_csrf=\(anonymous)&login=\(login)&password=\(password)")
        #expect(answer.status == .seeOther, "login \(login): \(answer.status)")
        let cookie = try #require(answer.cookie("gw_session"))
        let me = try await get("/me", as: Browser(login: login, cookie: cookie, csrf: ""))
        return Browser(login: login, cookie: cookie, csrf: try #require(me.csrfField))
    }
}
