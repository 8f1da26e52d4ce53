import Foundation
import GridworkStore
import Hummingbird

/// A submitted form, already checked against cross-site request forgery.
///
/// Every state-changing browser request is read through `Form.read`, which
/// refuses a body without the session's CSRF token (or, before login, the
/// token of the `gw_csrf` cookie): a route cannot forget the check because
/// it cannot read its fields any other way.
struct Form: Sendable {
    let fields: [String: String]

    subscript(_ name: String) -> String? { fields[name] }

    static let anonymousCookie = "gw_csrf"

    static func read(_ request: Request, context: AppRequestContext, store: Store) async throws -> Form {
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: context.maxUploadSize) } catch {
            throw AppError(status: .contentTooLarge, code: "too_large", message: "提交的内容过大(上限64KB) (body larger than 64 KB)")
        }
        let form = Form(fields: parse(String(buffer: body)))
        let expected = context.session?.csrf ?? request.cookies[anonymousCookie]?.value
        guard let expected, let sent = form["_csrf"] ?? request.headers[.csrfToken], constantTimeEqual(sent, expected) else {
            try await store.audit(actor: context.actor, action: "csrf.rejected", target: request.uri.path)
            throw AppError(status: .forbidden, code: "csrf", message: "表单已过期或来源不明,请刷新页面后重试 (missing or wrong CSRF token)")
        }
        return form
    }

    /// For scripts that send JSON or a raw file: a browser session must carry its CSRF token in `X-CSRF-Token`.
    /// API tokens are not cookies, so they cannot be forged by another site and need none.
    static func checkHeader(_ request: Request, context: AppRequestContext, store: Store) async throws {
        guard let session = context.session else { return }
        guard let sent = request.headers[.csrfToken], constantTimeEqual(sent, session.csrf) else {
            try await store.audit(actor: context.actor, action: "csrf.rejected", target: request.uri.path)
            throw AppError(status: .forbidden, code: "csrf", message: "缺少或错误的 X-CSRF-Token (missing or wrong CSRF token)")
        }
    }

    /// `application/x-www-form-urlencoded`: `+` is a space, `%XX` a byte.
    static func parse(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            out[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return out
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
