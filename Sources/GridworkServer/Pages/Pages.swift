import Foundation
import GridworkCore
import GridworkStore
import Hummingbird
import Mustache

/// A page's data; every page has a title for the layout.
protocol PageView: Sendable {
    var title: String { get }
}

extension ErrorPage: PageView {}

/// One choice of a select, radio group or list of facts, as every template shows it.
struct Option: Sendable {
    let value: String
    let label: String
    var selected = false
}

/// What the layout shows of the person using the page.
struct Chrome: Sendable {
    let loggedIn: Bool
    let login: String
    let role: String
    let csrf: String
    let admin: Bool
    let auditor: Bool
    /// Reads residents (net staff and departments): the header offers search.
    let searcher: Bool
    /// Staff of the net and departments: the header offers campaigns.
    let campaigns: Bool
    /// Staff of the net (building head up): volunteers, training, the directory's upkeep.
    let netStaff: Bool

    init(_ context: AppRequestContext) {
        let v = context.session == nil ? nil : context.viewer
        loggedIn = v != nil
        login = v?.login ?? ""
        role = v?.role.label ?? ""
        csrf = context.session?.csrf ?? ""
        admin = v.map(Policy.mayManageUsers) ?? false
        auditor = v.map(Policy.mayReadAudit) ?? false
        searcher = v.map { Policy.visibleTags(for: $0) != nil } ?? false
        campaigns = v.map { $0.role != .resident && $0.role != .apiToken } ?? false
        netStaff = v.map { $0.role.isNetStaff && $0.role != .apiToken } ?? false
    }
}

/// The templates, the one stylesheet and the API contract, loaded once at start.
public struct Pages: Sendable {
    let library: MustacheLibrary
    let stylesheet: String
    let openAPI: String
    /// Small scripts for progressive enhancement, by file name.
    let scripts: [String: String]

    static func load() async throws -> Pages {
        // Foundation on Linux and on macOS disagree on whether resourceURL already ends in "Resources".
        let candidates = [Bundle.module.bundleURL.appendingPathComponent("Resources"), Bundle.module.resourceURL].compactMap { $0 }
        guard let base = candidates.first(where: { FileManager.default.fileExists(atPath: $0.appendingPathComponent("templates").path) }) else {
            throw AppError(status: .internalServerError, code: "resources", message: "找不到页面模板 (templates missing)")
        }
        let library = try await MustacheLibrary(directory: base.appendingPathComponent("templates").path)
        let css = try String(contentsOf: base.appendingPathComponent("static/app.css"), encoding: .utf8)
        let api = try String(contentsOf: base.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        var scripts: [String: String] = [:]
        for name in ["import.js", "campaign.js"] {
            scripts[name] = try String(contentsOf: base.appendingPathComponent("static/\(name)"), encoding: .utf8)
        }
        return Pages(library: library, stylesheet: css, openAPI: api, scripts: scripts)
    }

    struct Layout { let title: String; let body: String; let chrome: Chrome }
    /// Templates open `{{#page}}`; inside it `{{chrome.csrf}}` still resolves, for the forms.
    struct Body { let page: any PageView; let chrome: Chrome }

    /// `layout` is "layout" (the site's header and footer) or "print-layout" (a bare sheet for the printer).
    func html(_ page: some PageView, template: String, chrome: Chrome, layout: String = "layout") -> String {
        let body = library.render(Body(page: page, chrome: chrome), withTemplate: template) ?? ""
        return library.render(Layout(title: page.title, body: body, chrome: chrome), withTemplate: layout) ?? body
    }

    func response(status: HTTPResponse.Status = .ok, page: some PageView, template: String, context: AppRequestContext,
                  layout: String = "layout") -> Response {
        htmlResponse(status: status, html(page, template: template, chrome: Chrome(context), layout: layout))
    }

    func htmlResponse(status: HTTPResponse.Status = .ok, _ html: String) -> Response {
        var response = Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                                body: .init(byteBuffer: ByteBuffer(string: html)))
        response.headers[.frameOptions] = "DENY"
        return response
    }
}

/// Numbers as a county office writes them: 1,010,000.
func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return n < 0 ? "-" + out : out
}

/// 303 to a page of ours.
func redirect(to path: String) -> Response {
    Response(status: .seeOther, headers: [.location: path])
}

/// A temporary file the server wrote (an export), as a download named `name` (Chinese allowed; `asciiName` for old
/// browsers). Streamed in pieces — a county's export can be hundreds of megabytes — then removed.
func download(path: String, name: String, asciiName: String, contentType: String) -> Response {
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
    let encoded = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? asciiName
    var headers: HTTPFields = [.contentType: contentType, .cacheControl: "no-store",
                               .contentDisposition: "attachment; filename=\"\(asciiName)\"; filename*=UTF-8''\(encoded)"]
    if let size { headers[.contentLength] = String(size) }
    return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: size) { writer in
        defer { try? FileManager.default.removeItem(atPath: path) }
        guard let handle = FileHandle(forReadingAtPath: path) else { try await writer.finish(nil); return }
        defer { try? handle.close() }
        while let data = try handle.read(upToCount: 1 << 18), !data.isEmpty {
            try await writer.write(ByteBuffer(bytes: data))
        }
        try await writer.finish(nil)
    })
}

/// A fresh path in the server's export folder for a file of `format`.
func exportPath(_ format: ExportFormat) throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gridwork-exports", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent(UUID().uuidString + "." + format.rawValue).path
}

/// The `q` of a search form sent with GET: browsers send a space as "+", and nobody searches for a plus.
/// Trimmed and at most 40 characters.
func searchText(_ request: Request, _ name: String = "q") -> String {
    let raw = request.uri.queryParameters.get(name).map { String($0) } ?? ""
    return String(raw.replacingOccurrences(of: "+", with: " ").trimmingCharacters(in: .whitespaces).prefix(40))
}
