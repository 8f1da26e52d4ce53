import Foundation
import GridworkCore
import GridworkStore
import Hummingbird

/// The loop's figures per area or per person and department, for a period: on a page a county office can
/// show its leaders (and print), and as a CSV for Excel.
struct FiguresController: Sendable {
    let app: AppContext

    func register(on router: Router<AppRequestContext>) {
        router.get("/cases/figures", use: page)
        router.get("/cases/figures.csv", use: csv)
    }

    struct Row: Sendable {
        let name: String
        let href: String?
        let cells: [String]
    }

    struct FiguresPage: PageView {
        let title: String
        let scope: String
        let from: String
        let to: String
        let byArea: Bool
        let headers: [String]
        let rows: [Row]
        let total: Row
        let csvHref: String
    }

    static let headers = ["上报", "受理率", "按期处置率", "结案率", "按期结案率", "返工率", "平均处置(小时)", "满意率"]

    static func cells(_ f: CaseFigures) -> [String] {
        [grouped(f.reported), CaseFigures.percent(f.acceptanceRate), CaseFigures.percent(f.onTimeHandlingRate), CaseFigures.percent(f.closingRate),
         CaseFigures.percent(f.onTimeClosingRate), CaseFigures.percent(f.reworkRate),
         f.averageHandlingHours.map { String(format: "%.1f", $0) } ?? "—", CaseFigures.percent(f.satisfactionRate)]
    }

    /// The request's area, period and grouping, checked: the viewer's own scope and this month by default.
    private func query(_ request: Request, viewer: Viewer) throws -> (code: RegionCode, from: CivilDate, to: CivilDate, by: CaseStore.FigureGrouping) {
        let q = request.uri.queryParameters
        var code = viewer.scope
        if let text = q.get("in"), !text.isEmpty {
            do { code = try RegionCode(text) } catch { throw AppError.badRequest("区划代码无效:\(error.reason) (invalid code)", code: "invalid_code") }
        }
        if code.level == .building, let grid = code.parent { code = grid }
        let today = CivilDate.today()
        let from = try q.get("from").map { try Self.date($0, "开始日期 (from)") } ?? CivilDate(year: today.year, month: today.month, day: 1)!
        let to = try q.get("to").map { try Self.date($0, "结束日期 (to)") } ?? today
        guard from <= to, to.daysSinceEpoch - from.daysSinceEpoch <= 3 * 366 else {
            throw AppError.badRequest("日期范围无效:开始应不晚于结束,且不超过3年 (from must not be after to; at most 3 years)", code: "invalid_period")
        }
        let by: CaseStore.FigureGrouping = q.get("by") == "assignee" ? .assignee : .area
        return (code, from, to, by)
    }

    static func date(_ text: String, _ field: String) throws -> CivilDate {
        guard let d = CivilDate(iso: String(text)) else { throw AppError.badRequest("\(field):请按 2026-01-31 的格式 (a date like 2026-01-31)", code: "invalid_date") }
        return d
    }

    private func figures(_ request: Request, context: AppRequestContext) async throws
        -> (viewer: Viewer, q: (code: RegionCode, from: CivilDate, to: CivilDate, by: CaseStore.FigureGrouping), rows: [CaseFigures], total: CaseFigures) {
        let viewer = try context.requireAdmin(Policy.watchesCases)
        let q = try query(request, viewer: viewer)
        let result = try await app.denyingOutOfScope(context, target: "figures:\(q.code)") {
            try await app.store.cases.figures(under: q.code, by: q.by, from: q.from, to: q.to, viewer: viewer)
        }
        return (viewer, q, result.rows, result.total)
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, q, rows, total) = try await figures(request, context: context)
        let params = "in=\(q.code)&from=\(q.from.iso)&to=\(q.to.iso)&by=\(q.by.rawValue)"
        let page = FiguresPage(
            title: "\(total.name) · 事项办理统计", scope: q.code.value, from: q.from.iso, to: q.to.iso, byArea: q.by == .area, headers: Self.headers,
            rows: rows.map { f in
                Row(name: f.name, href: q.by == .area && q.code.level != .grid ? "/cases/figures?in=\(f.key)&from=\(q.from.iso)&to=\(q.to.iso)" : nil,
                    cells: Self.cells(f))
            },
            total: Row(name: "合计", href: nil, cells: Self.cells(total)), csvHref: "/cases/figures.csv?\(params)")
        return app.pages.response(page: page, template: "figures", context: context)
    }

    @Sendable func csv(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (viewer, q, rows, total) = try await figures(request, context: context)
        var text = "\u{FEFF}" + (["区域/承办", "代码"] + Self.headers).map(SpreadsheetSafety.csvField).joined(separator: ",") + "\r\n"
        for f in rows + [total] {
            text += ([f.key == total.key ? "合计 \(f.name)" : f.name, f.key] + Self.cells(f)).map(SpreadsheetSafety.csvField).joined(separator: ",") + "\r\n"
        }
        try await app.store.audit(actor: context.actor, action: "export.figures", target: "region:\(q.code)", detail: "\(q.from.iso)..\(q.to.iso) \(viewer.login)")
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                                               .contentDisposition: "attachment; filename=\"figures-\(q.code)-\(q.from.compact)-\(q.to.compact).csv\""],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
