import Foundation
import GridworkCore
import GridworkStore
import Hummingbird
import HummingbirdOTP

/// Login, logout and the account holder's own page.
struct AccessController: Sendable {
    let app: AppContext

    func register(on router: Router<AppRequestContext>) {
        router.get("/login", use: loginPage)
        router.post("/login", use: login)
        router.post("/logout", use: logout)
        router.get("/me", use: me)
        router.post("/me/password", use: changePassword)
        router.post("/me/totp/start", use: startSecondFactor)
        router.post("/me/totp/confirm", use: confirmSecondFactor)
    }

    struct LoginPage: PageView {
        let title = "登录"
        let csrf: String
        let next: String
        let login: String
        let error: String?
    }

    /// The login form; an anonymous CSRF cookie protects it.
    @Sendable func loginPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let next = Self.safeNext(request.uri.queryParameters.get("next"))
        return loginForm(request: request, context: context, next: next, login: "", error: nil, status: .ok)
    }

    private func loginForm(request: Request, context: AppRequestContext, next: String, login: String, error: String?,
                           status: HTTPResponse.Status) -> Response {
        let csrf = Form.anonymousToken(request)
        var response = app.pages.response(status: status, page: LoginPage(csrf: csrf, next: next, login: login, error: error),
                                          template: "login", context: context)
        Form.setAnonymousToken(csrf, on: &response, request: request)
        return response
    }

    /// Checks password (and TOTP for admins who enrolled), then starts a session.
    @Sendable func login(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let login = String((form["login"] ?? "").trimmingCharacters(in: .whitespaces).prefix(64))
        let next = Self.safeNext(form["next"])
        let password = form["password"] ?? ""
        guard !login.isEmpty, !password.isEmpty else {
            return loginForm(request: request, context: context, next: next, login: login,
                             error: "请填写登录名和密码 (login and password are required)", status: .badRequest)
        }
        let accounts = app.store.accounts
        switch try await accounts.login(login, password: password, address: context.address) {
        case .accepted(let viewer, let secret):
            if let secret, !Self.codeMatches(form["code"] ?? "", secret: secret) {
                try await accounts.recordFailure(login: login, address: context.address, reason: "wrong second factor", countAgainstAccount: true)
                return loginForm(request: request, context: context, next: next, login: login,
                                 error: "验证码不正确 (the 6-digit code is wrong)", status: .unauthorized)
            }
            let session = try await accounts.startSession(for: viewer, address: context.address)
            var response = redirect(to: next)
            response.setCookie(Cookie(name: Authenticate.sessionCookie, value: session.token, maxAge: Int(AccountStore.sessionLifetime),
                                      path: "/", secure: Self.secure(request), httpOnly: true, sameSite: .lax))
            return response
        case .rejected:
            return loginForm(request: request, context: context, next: next, login: login,
                             error: "登录名或密码错误 (wrong login or password)", status: .unauthorized)
        case .locked(let until):
            return loginForm(request: request, context: context, next: next, login: login,
                             error: "连续输错次数过多,账号已锁定至 \(Self.local(until)) (account locked until then)", status: .init(code: 423, reasonPhrase: "Locked"))
        case .throttled:
            return loginForm(request: request, context: context, next: next, login: login,
                             error: "此地址登录失败次数过多,请15分钟后再试 (too many failures from this address; try again in 15 minutes)",
                             status: .tooManyRequests)
        }
    }

    /// Ends the session in the database, not only in the browser.
    @Sendable func logout(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await Form.read(request, context: context, store: app.store)
        if let session = context.session { try await app.store.accounts.endSession(session.token, actor: context.actor) }
        var response = redirect(to: "/")
        response.setCookie(Cookie(name: Authenticate.sessionCookie, value: "", maxAge: 0, path: "/", secure: Self.secure(request), httpOnly: true, sameSite: .lax))
        return response
    }

    struct MePage: PageView {
        let title = "我的账号"
        let login: String
        let role: String
        let department: String?
        let scopeHref: String
        let scopeName: String
        let mayUseSecondFactor: Bool
        let mayImport: Bool
        let searcher: Bool
        let organisations: Bool
        let departmentHref: String?
        let departments: [Option]
        let secondFactor: Bool
        let enrolment: Enrolment?
        let notice: String?
        let error: String?
        struct Enrolment: Sendable { let secret: String; let url: String }
    }

    @Sendable func me(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await mePage(context: context)
    }

    private func mePage(context: AppRequestContext, enrolment: MePage.Enrolment? = nil, notice: String? = nil, error: String? = nil,
                        status: HTTPResponse.Status = .ok) async throws -> Response {
        let viewer = try requireSession(context)
        let summary = try await app.store.accounts.user(viewer.login)
        let scopeName = try await app.store.net.path(to: viewer.scope).last?.name ?? viewer.scope.value
        let page = MePage(login: viewer.login, role: viewer.role.label, department: viewer.department?.label,
                          scopeHref: viewer.scope.level == .county ? "/" : "/net/\(viewer.scope)", scopeName: scopeName,
                          mayUseSecondFactor: viewer.role.mayUseSecondFactor, mayImport: Policy.mayImport(viewer),
                          searcher: Policy.visibleTags(for: viewer) != nil, organisations: viewer.role.isNetStaff,
                          departmentHref: viewer.department.map { "/registry/departments/\($0.rawValue)" },
                          departments: Department.allCases.map { Option(value: $0.rawValue, label: $0.label) },
                          secondFactor: summary?.secondFactor ?? false,
                          enrolment: enrolment, notice: notice, error: error)
        return app.pages.response(status: status, page: page, template: "me", context: context)
    }

    @Sendable func changePassword(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try requireSession(context)
        do {
            try await app.store.accounts.changePassword(viewer, old: form["old"] ?? "", new: form["new"] ?? "",
                                                        keepSession: context.session?.token, actor: context.actor)
        } catch let error as StoreError {
            return try await mePage(context: context, error: error.message, status: .badRequest)
        }
        return try await mePage(context: context, notice: "密码已修改,其他设备上的登录已退出 (password changed; other sessions ended)")
    }

    @Sendable func startSecondFactor(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await Form.read(request, context: context, store: app.store)
        let viewer = try requireSession(context)
        let secret = try await app.store.accounts.beginSecondFactor(viewer)
        let url = TOTP(secret: secret).createAuthenticatorURL(label: "网格通:\(viewer.login)", issuer: "Gridwork")
        let base32 = url.components(separatedBy: "secret=").last?.components(separatedBy: "&").first ?? ""
        return try await mePage(context: context, enrolment: .init(secret: base32, url: url))
    }

    @Sendable func confirmSecondFactor(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try requireSession(context)
        guard let secret = try await app.store.accounts.pendingSecondFactor(viewer), Self.codeMatches(form["code"] ?? "", secret: secret) else {
            return try await mePage(context: context, error: "验证码不正确,请重新开始 (wrong code; start again)", status: .badRequest)
        }
        try await app.store.accounts.confirmSecondFactor(viewer, actor: context.actor)
        return try await mePage(context: context, notice: "两步验证已启用 (second factor enabled)")
    }

    private func requireSession(_ context: AppRequestContext) throws -> Viewer {
        guard context.session != nil, let viewer = context.viewer else {
            throw AppError(status: .unauthorized, code: "unauthenticated", message: "请先登录 (please log in)")
        }
        return viewer
    }

    /// A TOTP code of this or the neighbouring 30-second step (clocks drift).
    static func codeMatches(_ code: String, secret: String) -> Bool {
        guard code.count == 6, let n = Int(code) else { return false }
        let totp = TOTP(secret: secret)
        return [-30.0, 0, 30].contains { totp.compute(date: Date().addingTimeInterval($0)) == n }
    }

    /// Only our own paths: never `//host` or a full URL (no open redirect).
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"), next.count < 200 else { return "/" }
        return next
    }

    /// Cookies are Secure when a TLS proxy says the browser used https.
    static func secure(_ request: Request) -> Bool {
        request.headers[.forwardedProto]?.lowercased() == "https"
    }

    /// UTC ISO text as Asia/Shanghai wall time.
    static func local(_ utc: String) -> String {
        guard let date = try? Date(utc, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)) else { return utc }
        return WorkCalendar.localText(Int64(date.timeIntervalSince1970))
    }
}
