import Foundation
import GridworkCore
import GridworkStore
import Hummingbird

/// An error a person can act on: what, where, why — Chinese first, then English.
struct AppError: Error, Sendable {
    let status: HTTPResponse.Status
    let code: String
    let message: String

    static func badRequest(_ message: String, code: String = "bad_request") -> AppError { .init(status: .badRequest, code: code, message: message) }
    static func notFound(_ message: String) -> AppError { .init(status: .notFound, code: "not_found", message: message) }

    init(status: HTTPResponse.Status, code: String, message: String) {
        self.status = status; self.code = code; self.message = message
    }

    /// Maps anything thrown below the routes to an answer; unknown errors never leak their details.
    init(_ error: any Error) {
        switch error {
        case let e as AppError: self = e
        case let e as StoreError:
            switch e {
            case .notFound: self.init(status: .notFound, code: "not_found", message: e.message)
            case .conflict: self.init(status: .conflict, code: "conflict", message: e.message)
            case .invalid: self.init(status: .badRequest, code: "invalid", message: e.message)
            default: self.init(status: .serviceUnavailable, code: "unavailable", message: "数据库暂不可用 (database unavailable)")
            }
        case is DecodingError:
            self.init(status: .badRequest, code: "malformed", message: "请求内容格式错误,应为JSON (malformed JSON body)")
        case let e as HTTPError where e.status == .contentTooLarge:
            self.init(status: .contentTooLarge, code: "too_large", message: "提交的内容过大(上限64KB) (body larger than 64 KB)")
        case let e as HTTPError where e.status == .notFound:
            self.init(status: .notFound, code: "not_found", message: "页面不存在 (no such page)")
        case let e as HTTPError where e.status == .methodNotAllowed:
            self.init(status: .methodNotAllowed, code: "method_not_allowed", message: "不支持该请求方法 (method not allowed)")
        case let e as HTTPError:
            self.init(status: e.status, code: "http_\(e.status.code)", message: e.body ?? e.status.reasonPhrase)
        default:
            self.init(status: .internalServerError, code: "internal", message: "服务器内部错误 (internal error)")
        }
    }
}

struct ErrorBody: Codable, Sendable {
    struct Detail: Codable, Sendable { let status: Int; let code: String; let message: String }
    let error: Detail
}

/// Answers errors as JSON under `/api/` and as a page everywhere else.
struct ErrorResponses: RouterMiddleware {
    typealias Context = AppRequestContext
    let pages: Pages

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let e = AppError(error)
            if e.status == .internalServerError || e.status == .serviceUnavailable {
                context.logger.error("request failed", metadata: ["path": .string(request.uri.path), "error": .string(String(reflecting: error))])
            }
            if request.uri.path.hasPrefix("/api/") {
                let body = ErrorBody(error: .init(status: Int(e.status.code), code: e.code, message: e.message))
                let data = try JSONEncoder().encode(body)
                return Response(status: e.status, headers: [.contentType: "application/json; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(bytes: data)))
            }
            if e.status == .unauthorized, request.method == .get {
                // A page that needs an account: log in, then come back.
                let back = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
                return redirect(to: "/login?next=" + (back.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"))
            }
            return pages.response(status: e.status, page: ErrorPage(title: e.status == .notFound ? "找不到" : "出错了",
                                                                    status: Int(e.status.code), message: e.message),
                                  template: "error", context: context)
        }
    }
}

struct ErrorPage: Sendable {
    let title: String
    let status: Int
    let message: String
}
