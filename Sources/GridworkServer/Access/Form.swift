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
    /// Files of a `multipart/form-data` form, by field name.
    var files: [String: [[UInt8]]] = [:]
    /// Every value of each field, in order (check boxes of one name send several); `fields` keeps the last.
    var values: [String: [String]] = [:]

    subscript(_ name: String) -> String? { fields[name] }

    static let anonymousCookie = "gw_csrf"

    /// Reads a urlencoded or multipart form of at most `limit` bytes (default: the context's 64 KB).
    static func read(_ request: Request, context: AppRequestContext, store: Store, limit: Int? = nil) async throws -> Form {
        var request = request
        let body: ByteBuffer
        let max = limit ?? context.maxUploadSize
        do { body = try await request.collectBody(upTo: max) } catch {
            throw AppError(status: .contentTooLarge, code: "too_large",
                           message: "提交的内容过大(上限\(max / 1024)KB) (body larger than \(max / 1024) KB)")
        }
        let type = request.headers[.contentType] ?? ""
        let form: Form
        if type.lowercased().hasPrefix("multipart/form-data"), let boundary = Self.boundary(type) {
            guard let parsed = Self.multipart(Array(buffer: body), boundary: boundary) else {
                throw AppError.badRequest("表单格式错误 (malformed multipart form)", code: "malformed")
            }
            form = parsed
        } else {
            let pairs = pairs(String(buffer: body))
            form = Form(fields: Dictionary(pairs, uniquingKeysWith: { $1 }),
                        values: Dictionary(grouping: pairs, by: \.0).mapValues { $0.map(\.1) })
        }
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

    /// The token an anonymous form carries (from its cookie, or a new one): forms before login — signing in,
    /// a resident's report, tracking a matter — are protected like every other.
    static func anonymousToken(_ request: Request) -> String {
        request.cookies[anonymousCookie]?.value ?? "c" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
    }

    static func setAnonymousToken(_ token: String, on response: inout Response, request: Request) {
        response.setCookie(Cookie(name: anonymousCookie, value: token, path: "/", secure: AccessController.secure(request), httpOnly: true,
                                  sameSite: .strict))
    }

    static func boundary(_ contentType: String) -> String? {
        for part in contentType.split(separator: ";") {
            let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0].lowercased() == "boundary" {
                let b = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                return (1...70).contains(b.count) ? b : nil
            }
        }
        return nil
    }

    /// `multipart/form-data` (RFC 7578): text fields and files; nil when the body does not follow the format.
    static func multipart(_ body: [UInt8], boundary: String) -> Form? {
        let delimiter = Array("--\(boundary)".utf8)
        var fields: [String: String] = [:]
        var files: [String: [[UInt8]]] = [:]
        var values: [String: [String]] = [:]
        guard var cursor = find(delimiter, in: body, from: 0) else { return nil }
        while true {
            cursor += delimiter.count
            // "--" after a delimiter ends the body.
            if body.count >= cursor + 2, body[cursor] == 0x2D, body[cursor + 1] == 0x2D { break }
            guard let headersEnd = find([13, 10, 13, 10], in: body, from: cursor),
                  let next = find([13, 10] + delimiter, in: body, from: headersEnd + 4) else { return nil }
            let headers = String(decoding: body[cursor..<headersEnd], as: UTF8.self)
            let content = Array(body[(headersEnd + 4)..<next])
            var name: String?, filename: String?
            for line in headers.split(whereSeparator: \.isNewline) where line.lowercased().hasPrefix("content-disposition") {
                for item in line.split(separator: ";").dropFirst() {
                    let kv = item.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                    guard kv.count == 2 else { continue }
                    let value = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    if kv[0] == "name" { name = value } else if kv[0] == "filename" { filename = value }
                }
            }
            if let name {
                if let filename {
                    // An empty file input still sends a part, without a name or content.
                    if !filename.isEmpty || !content.isEmpty { files[name, default: []].append(content) }
                } else {
                    fields[name] = String(decoding: content, as: UTF8.self)
                    values[name, default: []].append(fields[name]!)
                }
            }
            cursor = next + 2
        }
        return Form(fields: fields, files: files, values: values)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var i = start
        while i <= haystack.count - needle.count {
            if haystack[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// `application/x-www-form-urlencoded`: `+` is a space, `%XX` a byte.
    static func parse(_ text: String) -> [String: String] { Dictionary(pairs(text), uniquingKeysWith: { $1 }) }

    static func pairs(_ text: String) -> [(String, String)] {
        var out: [(String, String)] = []
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            out.append((decoded(parts[0]), parts.count > 1 ? decoded(parts[1]) : ""))
        }
        return out
    }

    /// One name or value of a form: `+` is a space and `%XX` a byte; a broken `%` escape or bytes that are
    /// not UTF-8 read as empty, as if the field had not been sent.
    static func decoded(_ s: Substring) -> String {
        let utf8 = s.utf8
        guard utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else { return String(s) }
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var i = utf8.startIndex
        while i != utf8.endIndex {
            let c = utf8[i]
            if c == UInt8(ascii: "%") {
                let a = utf8.index(after: i)
                guard a != utf8.endIndex, let high = hex(utf8[a]) else { return "" }
                let b = utf8.index(after: a)
                guard b != utf8.endIndex, let low = hex(utf8[b]) else { return "" }
                bytes.append(high << 4 | low)
                i = utf8.index(after: b)
            } else {
                bytes.append(c == UInt8(ascii: "+") ? UInt8(ascii: " ") : c)
                i = utf8.index(after: i)
            }
        }
        return String(validating: bytes, as: UTF8.self) ?? ""
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in x.indices { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
