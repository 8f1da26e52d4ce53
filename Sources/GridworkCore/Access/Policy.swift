/// Who may see and do what with residents' data — the one table to review.
///
/// Net staff (county down to building head) see every field of the
/// residents in their scope, masked until they unmask one field, which is
/// audited. A department officer sees residents in its region only through
/// its duty: the tags its duty needs, and nothing of people without them.
public enum Policy {
    /// The personal fields that are sealed and shown masked.
    public enum SealedField: String, Sendable, CaseIterable {
        case citizenID = "id_number"
        case phone

        public var label: String { self == .citizenID ? "身份证号" : "联系电话" }
    }

    /// Tags each department's duty needs (GB/T 31000 groups).
    public static let departmentTags: [Department: Set<ResidentTag>] = [
        .governance: [.keyYouth, .communityCorrection, .releasedPrisoner, .mentalHealth],
        .police: [.keyYouth, .communityCorrection, .releasedPrisoner, .mentalHealth],
        .civilAffairs: [.elderlyAlone, .disability, .lowIncome, .leftBehindChild],
        .health: [.elderlyAlone, .disability, .mentalHealth],
        .education: [.leftBehindChild, .keyYouth],
        .humanResources: [.lowIncome, .veteran, .disability],
        // Fire and housing work on buildings (hazards), not on people.
        .fire: [],
        .housing: [],
    ]

    /// Which sealed fields a role may unmask (one at a time, audited).
    public static func mayUnmask(_ field: SealedField, viewer: Viewer) -> Bool {
        switch viewer.role {
        case .countyAdmin, .townshipAdmin, .communityStaff, .gridLeader, .gridWorker: true
        // A building head calls residents; the ID number is for the grid worker and up.
        case .buildingHead: field == .phone
        case .departmentOfficer:
            switch viewer.department {
            case .police, .governance: true
            case .civilAffairs, .health, .humanResources: field == .phone
            default: false
            }
        case .resident, .apiToken: false
        }
    }

    /// The tags of a resident that `viewer` may see; nil when the viewer may not see residents at all.
    public static func visibleTags(for viewer: Viewer) -> Set<ResidentTag>? {
        switch viewer.role {
        case .resident: nil
        case .departmentOfficer: viewer.department.flatMap { departmentTags[$0] }
        default: Set(ResidentTag.allCases)
        }
    }

    /// True when a department officer sees only residents carrying one of its tags.
    public static func seesOnlyTagged(_ viewer: Viewer) -> Bool { viewer.role == .departmentOfficer }

    /// Staff from the grid worker up: they take matters in, dispatch and check them, and keep the registry.
    public static let netOfficers: Set<Role> = [.gridWorker, .gridLeader, .communityStaff, .townshipAdmin, .countyAdmin]
    /// The level above a grid worker: approves extensions, suspends, is told of escalations, manages the grids' webhooks.
    public static let netSupervisors: Set<Role> = [.gridLeader, .communityStaff, .townshipAdmin, .countyAdmin]

    /// Who may change the registry — import, record births, moves and deaths, set how a dwelling
    /// is used, register organisations: staff from the grid worker up, within their scope.
    /// Building heads report changes to their grid worker; departments read.
    public static func mayEditRegistry(_ viewer: Viewer) -> Bool { netOfficers.contains(viewer.role) }

    /// Who watches the loop's supervision board and figures: every officer for their scope.
    public static func watchesCases(_ viewer: Viewer) -> Bool { netOfficers.contains(viewer.role) }

    /// Who builds and launches campaigns (排查任务): departments and the county, township and community offices, within their scope.
    public static func mayRunCampaigns(_ viewer: Viewer) -> Bool {
        [.countyAdmin, .townshipAdmin, .communityStaff, .departmentOfficer].contains(viewer.role)
    }

    public static func mayImport(_ viewer: Viewer) -> Bool { mayEditRegistry(viewer) }

    /// Who may manage accounts and read the audit trail.
    public static func mayManageUsers(_ viewer: Viewer) -> Bool { viewer.role == .countyAdmin || viewer.role == .townshipAdmin }
    public static func mayReadAudit(_ viewer: Viewer) -> Bool { viewer.role == .countyAdmin }
}

/// Password rules: long enough, not guessable from the login, not a known weak one.
public enum PasswordRules {
    public static let minimumLength = 10
    static let weak: Set<String> = ["1234567890", "12345678910", "password123", "qwertyuiop", "a123456789", "abc1234567",
                                    "1qaz2wsx3edc", "woaini1314", "aaaaaaaaaa", "0000000000", "1111111111", "gridwork123"]

    /// The problems with `password`, Chinese first; empty when it is acceptable.
    public static func problems(_ password: String, login: String) -> [String] {
        var out: [String] = []
        if password.count < minimumLength { out.append("密码至少\(minimumLength)位 (at least \(minimumLength) characters)") }
        let classes = [password.contains(where: \.isLetter), password.contains(where: \.isNumber),
                       password.contains(where: { !$0.isLetter && !$0.isNumber })].filter { $0 }.count
        if classes < 2 { out.append("密码需包含字母、数字、符号中的至少两类 (use at least two of letters, digits, symbols)") }
        if !login.isEmpty, password.lowercased().contains(login.lowercased()) { out.append("密码不能包含登录名 (must not contain the login)") }
        if weak.contains(password.lowercased()) { out.append("密码过于常见 (too common)") }
        if password.count > 128 { out.append("密码不能超过128位 (at most 128 characters)") }
        return out
    }
}
