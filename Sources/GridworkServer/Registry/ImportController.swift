import Foundation
import GridworkCore
import GridworkStore
import Hummingbird

/// The import wizard: upload a CSV or XLSX file, see what it would do, confirm, follow the
/// progress, download the rows to fix.
///
/// Uploads are kept on this server's disk under their SHA-256, so the same
/// file is the same import run; behind several app processes the confirm
/// must reach the process that took the upload (sticky sessions).
struct ImportController: Sendable {
    let app: AppContext

    /// The largest file the wizard takes (a county's 1 M residents is ~250 MB with addresses).
    static let maxUpload = 300 * 1024 * 1024

    func register(on router: Router<AppRequestContext>) {
        router.get("/registry/import", use: page)
        router.post("/registry/import/upload", use: upload)
        router.post("/registry/import/{digest}/confirm", use: confirm)
        router.get("/registry/import/{digest}", use: status)
        router.get("/registry/import/{digest}/report.csv", use: report)
    }

    struct WizardPage: PageView {
        let title = "导入居民"
        let scope: String
        let columns: String
    }

    /// The upload form.
    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try context.requireAdmin(Policy.mayImport)
        return app.pages.response(page: WizardPage(scope: viewer.scope.value, columns: ImportColumn.allCases.map(\.label).joined(separator: "、")),
                                  template: "import", context: context)
    }

    struct Preview: ResponseEncodable {
        let digest: String
        let rows: Int
        let created: Int
        let updated: Int
        let unchanged: Int
        let rejected: Int
        let conflicts: Int
        let encoding: String
        let unknownHeaders: [String]
        let report: String?
    }

    /// Takes the file as the raw request body (sent by the page's script with `X-CSRF-Token`), and dry-runs it.
    @Sendable func upload(_ request: Request, context: AppRequestContext) async throws -> Preview {
        // requireAdmin insists on a session, so the header check below always applies here.
        let viewer = try context.requireAdmin(Policy.mayImport)
        try await Form.checkHeader(request, context: context, store: app.store)
        let dir = try Self.uploads()
        let temporary = dir.appendingPathComponent(UUID().uuidString + ".part").path
        guard FileManager.default.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary) else {
            throw AppError(status: .internalServerError, code: "upload", message: "无法保存上传的文件 (cannot store the upload)")
        }
        var size = 0
        do {
            for try await buffer in request.body {
                size += buffer.readableBytes
                guard size <= Self.maxUpload else {
                    throw AppError(status: .contentTooLarge, code: "too_large", message: "文件超过300MB,请分批导入 (file larger than 300 MB)")
                }
                try handle.write(contentsOf: Data(buffer: buffer))
            }
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
        let digest = try ResidentImporter.digest(of: temporary)
        let path = dir.appendingPathComponent(digest + ".upload").path
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
        var options = Self.options(viewer, digest: digest)
        options.dryRun = true
        options.reportPath = dir.appendingPathComponent(digest + ".preview.csv").path
        let r = try await ResidentImporter(store: app.store).run(file: path, options: options, actor: context.actor)
        return Preview(digest: digest, rows: r.rows, created: r.created, updated: r.updated, unchanged: r.unchanged, rejected: r.rejected,
                       conflicts: r.conflicts, encoding: r.encoding, unknownHeaders: r.unknownHeaders,
                       report: r.reportFile == nil ? nil : "/registry/import/\(digest)/report.csv?preview=1")
    }

    /// Starts the real import in the background and shows its progress page.
    @Sendable func confirm(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin(Policy.mayImport)
        let digest = try Self.digest(context)
        let path = try Self.uploads().appendingPathComponent(digest + ".upload").path
        guard FileManager.default.fileExists(atPath: path) else { throw AppError.notFound("未找到上传的文件,请重新上传 (no such upload)") }
        let store = app.store, actor = context.actor
        let options = Self.options(viewer, digest: digest)
        Task.detached {
            do {
                _ = try await ResidentImporter(store: store).run(file: path, options: options, actor: actor)
            } catch {
                try? await store.audit(actor: actor, action: "import.failed", target: "import:\(digest.prefix(12))", detail: "\(error)")
            }
        }
        return redirect(to: "/registry/import/\(digest)")
    }

    struct StatusPage: PageView {
        let title = "导入进度"
        let digest: String
        let started: Bool
        let finished: Bool
        let rowsDone: Int
        let created: Int
        let updated: Int
        let rejected: Int
        let hasReport: Bool
    }

    /// Progress that refreshes itself while the import runs.
    @Sendable func status(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.requireAdmin(Policy.mayImport)
        let digest = try Self.digest(context)
        let s = try await ResidentImporter(store: app.store).status(digest: digest)
        let report = try Self.uploads().appendingPathComponent(digest + ".report.csv").path
        let page = StatusPage(digest: digest, started: s != nil, finished: s?.finished ?? false, rowsDone: max(0, (s?.rowsDone ?? 1) - 1),
                              created: s?.created ?? 0, updated: s?.updated ?? 0, rejected: s?.rejected ?? 0,
                              hasReport: FileManager.default.fileExists(atPath: report))
        var response = app.pages.response(page: page, template: "import-status", context: context)
        if !page.finished { response.headers[.refresh] = "2" }
        return response
    }

    /// The rows to fix, as CSV.
    @Sendable func report(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try context.requireAdmin(Policy.mayImport)
        let digest = try Self.digest(context)
        let preview = request.uri.queryParameters.get("preview") != nil
        let path = try Self.uploads().appendingPathComponent(digest + (preview ? ".preview.csv" : ".report.csv")).path
        guard let data = FileManager.default.contents(atPath: path) else { throw AppError.notFound("没有需要处理的行 (no report)") }
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8",
                                               .contentDisposition: "attachment; filename=\"import-report-\(digest.prefix(8)).csv\""],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func options(_ viewer: Viewer, digest: String) -> ImportOptions {
        var options = ImportOptions()
        options.today = CivilDate.today()
        options.scope = viewer.scope
        options.reportPath = (try? uploads().appendingPathComponent(digest + ".report.csv").path)
        return options
    }

    static func digest(_ context: AppRequestContext) throws -> String {
        let d = context.parameters.get("digest") ?? ""
        guard d.count == 64, d.allSatisfy({ $0.isHexDigit }) else { throw AppError.notFound("未找到该导入 (no such import)") }
        return d.lowercased()
    }

    static func uploads() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gridwork-uploads")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
