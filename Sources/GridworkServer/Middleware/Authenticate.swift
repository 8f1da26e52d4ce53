import GridworkCore
import GridworkStore
import Hummingbird

/// Finds the acting viewer: a session cookie for pages and the API, or an
/// `Authorization: Bearer` token for the API only. Unknown, expired or
/// revoked credentials leave the request anonymous.
struct Authenticate: RouterMiddleware {
    typealias Context = AppRequestContext
    let store: Store

    static let sessionCookie = "gw_session"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let token = request.cookies[Self.sessionCookie]?.value, let found = try await store.accounts.session(token) {
            context.viewer = found.viewer
            context.session = SessionCredentials(token: token, csrf: found.csrf)
        } else if request.uri.path.hasPrefix("/api/"), let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
            let token = String(header.dropFirst("Bearer ".count))
            guard let grant = try await store.accounts.grant(forToken: token) else {
                try await store.audit(actor: context.actor, action: "token.rejected", target: request.uri.path)
                throw AppError(status: .unauthorized, code: "bad_token", message: "接口令牌无效或已吊销 (the API token is unknown or revoked)")
            }
            context.grant = grant
            context.viewer = grant.viewer
        }
        return try await next(request, context)
    }
}

extension AppRequestContext {
    /// The viewer, or 401: the caller must log in (pages) or send a token (API).
    func requireViewer() throws -> Viewer {
        guard let viewer else {
            throw AppError(status: .unauthorized, code: "unauthenticated", message: "请先登录 (please log in)")
        }
        return viewer
    }

    /// API tokens reach only the areas they were granted; sessions reach every area.
    func requireArea(_ area: String) throws -> Viewer {
        let viewer = try requireViewer()
        if let grant, !grant.areas.contains(area) {
            throw AppError(status: .forbidden, code: "area_not_granted", message: "该令牌无权访问“\(area)”接口 (this token is not granted the \(area) area)")
        }
        return viewer
    }

    /// Pages for admins: 403 for others (the pages themselves are no secret).
    func requireAdmin(_ allowed: (Viewer) -> Bool) throws -> Viewer {
        let viewer = try requireViewer()
        guard session != nil, allowed(viewer) else {
            throw AppError(status: .forbidden, code: "forbidden", message: "您的账号无权使用此页面 (your account may not use this page)")
        }
        return viewer
    }
}
