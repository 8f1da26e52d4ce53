/// Who an account is, in the net's terms.
public enum Role: String, Codable, Sendable, CaseIterable {
    case countyAdmin = "county_admin"
    case townshipAdmin = "township_admin"
    case communityStaff = "community_staff"
    case gridLeader = "grid_leader"
    case gridWorker = "grid_worker"
    case buildingHead = "building_head"
    case departmentOfficer = "department_officer"
    case resident
    /// An integration's API token; never an account's role.
    case apiToken = "api_token"

    public var label: String {
        switch self {
        case .countyAdmin: "县级管理员"
        case .townshipAdmin: "乡镇/街道管理员"
        case .communityStaff: "社区工作人员"
        case .gridLeader: "网格长"
        case .gridWorker: "网格员"
        case .buildingHead: "楼栋长"
        case .departmentOfficer: "部门工作人员"
        case .resident: "居民"
        case .apiToken: "接口令牌"
        }
    }

    /// The roles an account can hold.
    public static let accountRoles = allCases.filter { $0 != .apiToken }

    /// The level of the net an account of this role is bound to.
    public var scopeLevel: RegionLevel? {
        switch self {
        case .countyAdmin: .county
        case .townshipAdmin: .township
        case .communityStaff: .community
        case .gridLeader, .gridWorker: .grid
        case .buildingHead, .resident: .building
        // A department works over a region of any size: the county or a township.
        case .departmentOfficer, .apiToken: nil
        }
    }

    /// Admins who may enrol a second factor (TOTP).
    public var mayUseSecondFactor: Bool { self == .countyAdmin || self == .townshipAdmin }

    /// Roles that look after people in their scope (everyone but residents and departments).
    public var isNetStaff: Bool { self != .resident && self != .departmentOfficer }
}

/// The acting person of every store call that touches people or matters.
public struct Viewer: Sendable, Equatable, Hashable {
    public let userID: Int64
    public let login: String
    public let role: Role
    /// The node of the net this account answers for; everything below it is in scope.
    public let scope: RegionCode
    public let department: Department?

    public init(userID: Int64, login: String, role: Role, scope: RegionCode, department: Department? = nil) {
        self.userID = userID; self.login = login; self.role = role; self.scope = scope; self.department = department
    }

    /// True when `code` (a region or building) lies in this viewer's scope.
    public func covers(_ code: RegionCode) -> Bool { code.isWithin(scope) }
}
