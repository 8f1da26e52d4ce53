import Foundation
import GridworkCore
import GridworkStore
import Hummingbird

/// The category tree with its handlers and clocks, and the working calendar: data the county edits
/// (county admins), and everyone on the staff can read.
struct CaseSettingsController: Sendable {
    let app: AppContext

    func register(on router: Router<AppRequestContext>) {
        router.get("/cases/settings", use: page)
        router.post("/cases/settings/categories/{code}", use: updateCategory)
        router.post("/cases/settings/calendar", use: updateCalendar)
    }


    struct CategoryRow: Sendable {
        let code: String
        let group: String
        let name: String
        let responsible: String
        let clocks: String
        let closing: String
        let responsibles: [Option]
        let acceptAmount: Int, handleAmount: Int, verifyAmount: Int
        let acceptUnits: [Option], handleUnits: [Option], verifyUnits: [Option]
        let yellow: Int, red: Int
    }

    struct SettingsPage: PageView {
        let title = "事项类别与时限"
        let rows: [CategoryRow]
        let mayEdit: Bool
        let holidays: String
        let workdays: String
        let notice: String?
        let error: String?
    }

    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try context.requireAdmin { $0.role.isNetStaff || $0.role == .departmentOfficer }
        return try await settingsPage(viewer: viewer, context: context)
    }

    private func settingsPage(viewer: Viewer, context: AppRequestContext, notice: String? = nil, error: String? = nil,
                              status: HTTPResponse.Status = .ok) async throws -> Response {
        let responsibles: [Responsible] = [.buildingHead, .gridWorker, .community, .township] + Department.allCases.map { .department($0) }
        func units(_ selected: Deadline.Unit) -> [Option] {
            Deadline.Unit.allCases.map { Option(value: $0.rawValue, label: $0.label, selected: $0 == selected) }
        }
        let rows = try await app.store.cases.categories().map { c in
            CategoryRow(code: c.code, group: c.groupName, name: c.name, responsible: c.responsible.label,
                        clocks: "受理 \(c.accept) · 处置 \(c.handle) · 核查 \(c.verify) · 黄灯 \(c.yellowPercent)% · 红灯 \(c.redPercent)%",
                        closing: c.closing,
                        responsibles: responsibles.map { Option(value: $0.description, label: $0.label, selected: $0 == c.responsible) },
                        acceptAmount: c.accept.amount, handleAmount: c.handle.amount, verifyAmount: c.verify.amount,
                        acceptUnits: units(c.accept.unit), handleUnits: units(c.handle.unit), verifyUnits: units(c.verify.unit),
                        yellow: c.yellowPercent, red: c.redPercent)
        }
        let calendar = try await app.store.cases.calendar()
        let page = SettingsPage(rows: rows, mayEdit: viewer.role == .countyAdmin,
                                holidays: calendar.holidays.sorted(by: <).map(\.iso).joined(separator: "、"),
                                workdays: calendar.workdays.sorted(by: <).map(\.iso).joined(separator: "、"), notice: notice, error: error)
        return app.pages.response(status: status, page: page, template: "case-settings", context: context)
    }

    @Sendable func updateCategory(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin { $0.role == .countyAdmin }
        let code = context.parameters.get("code") ?? ""
        guard var category = try await app.store.cases.categories().first(where: { $0.code == code }) else {
            throw AppError.notFound("未找到事项类别 (no such category): \(code.prefix(8))")
        }
        do {
            func deadline(_ prefix: String) throws -> Deadline {
                guard let amount = Int(form["\(prefix)_amount"] ?? ""), let unit = Deadline.Unit(rawValue: form["\(prefix)_unit"] ?? "") else {
                    throw StoreError.invalid(field: "时限 (\(prefix))", reason: "请填写数字并选择单位 (a number and a unit)")
                }
                return Deadline(amount, unit)
            }
            guard let responsible = Responsible(form["responsible"] ?? "") else {
                throw StoreError.invalid(field: "承办 (responsible)", reason: "请选择承办层级或部门 (choose who handles it)")
            }
            guard let yellow = Int(form["yellow"] ?? ""), let red = Int(form["red"] ?? "") else {
                throw StoreError.invalid(field: "黄灯/红灯 (yellow/red)", reason: "请填写百分比数字 (percentages)")
            }
            let closing = (form["closing"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            guard (2...200).contains(closing.count) else { throw StoreError.invalid(field: "结案条件 (closing)", reason: "2到200字 (2 to 200 characters)") }
            category.responsible = responsible
            category.accept = try deadline("accept")
            category.handle = try deadline("handle")
            category.verify = try deadline("verify")
            category.yellowPercent = yellow
            category.redPercent = red
            category.closing = closing
            try await app.store.cases.updateCategory(category, viewer: viewer, address: context.address)
            return try await settingsPage(viewer: viewer, context: context, notice: "已保存 \(category.name) (saved)")
        } catch let error as StoreError {
            return try await settingsPage(viewer: viewer, context: context, error: error.message, status: .badRequest)
        }
    }

    @Sendable func updateCalendar(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await Form.read(request, context: context, store: app.store)
        let viewer = try context.requireAdmin { $0.role == .countyAdmin }
        guard let day = CivilDate(iso: (form["day"] ?? "").trimmingCharacters(in: .whitespaces)) else {
            return try await settingsPage(viewer: viewer, context: context, error: "日期:请按 2027-01-01 的格式填写 (a date like 2027-01-01)",
                                          status: .badRequest)
        }
        let holiday: Bool? = switch form["kind"] {
        case "holiday": true
        case "workday": false
        default: nil
        }
        try await app.store.cases.setCalendarDay(day, holiday: holiday, viewer: viewer, address: context.address)
        return try await settingsPage(viewer: viewer, context: context, notice: "已更新 \(day.iso) (saved)")
    }
}
