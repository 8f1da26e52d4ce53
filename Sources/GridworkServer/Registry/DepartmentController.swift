import Foundation
import GridworkCore
import GridworkStore
import Hummingbird

/// A page per department: its share of the registry through the policy table,
/// with the building head to call for each person.
struct DepartmentController: Sendable {
    let app: AppContext

    func register(on router: Router<AppRequestContext>) {
        router.get("/registry/departments/{department}", use: page)
    }

    struct Row: Sendable {
        let name: String
        let facts: String
        let phone: String
        let tags: [String]
        let buildingHref: String
        let building: String
        let head: String
        let headPhone: String
    }

    struct DepartmentPage: PageView {
        let title: String
        let duty: String
        let scope: String
        let rows: [Row]
        let total: String
        let truncated: Bool
        let shown: Int
    }

    /// 民政 lists low-income and elderly living alone; 卫健 health-tagged residents; and so on.
    @Sendable func page(_ request: Request, context: AppRequestContext) async throws -> Response {
        let viewer = try context.requireAdmin { $0.role == .departmentOfficer || $0.role == .countyAdmin || $0.role == .townshipAdmin }
        guard let department = Department(rawValue: context.parameters.get("department") ?? "") else {
            throw AppError.notFound("未找到该部门 (no such department)")
        }
        let list = try await app.store.residents.dutyList(department, viewer: viewer)
        let today = CivilDate.today()
        let rows = list.rows.map { r in
            Row(name: r.name, facts: "\(r.sex.label) · \(r.birthDate.years(until: today))岁", phone: r.phoneMasked ?? "",
                tags: r.tags.map(\.label), buildingHref: "/net/\(r.building)", building: r.buildingName,
                head: r.buildingHead ?? "", headPhone: r.buildingHeadPhone ?? "")
        }
        let duty = (Policy.departmentTags[department] ?? []).map(\.label).sorted().joined(separator: "、")
        let page = DepartmentPage(title: "\(department.label) · 职责名单", duty: duty.isEmpty ? "本部门的职责针对楼栋而非居民" : duty,
                                  scope: viewer.scope.value, rows: rows, total: grouped(list.total),
                                  truncated: list.total > rows.count, shown: rows.count)
        return app.pages.response(page: page, template: "department", context: context)
    }
}
