/// The roles of the people who carry the net.
public enum StaffRole: String, Codable, Sendable, CaseIterable {
    case gridWorker = "grid_worker"
    case gridLeader = "grid_leader"
    case buildingHead = "building_head"

    public var label: String {
        switch self {
        case .gridWorker: "网格员"
        case .gridLeader: "网格长"
        case .buildingHead: "楼栋长"
        }
    }
}

/// The county departments that share the one database.
public enum Department: String, Codable, Sendable, CaseIterable {
    case governance, civilAffairs = "civil_affairs", health, housing, fire, education
    case humanResources = "human_resources", police

    public var label: String {
        switch self {
        case .governance: "综治"
        case .civilAffairs: "民政"
        case .health: "卫健"
        case .housing: "住建"
        case .fire: "消防"
        case .education: "教育"
        case .humanResources: "人社"
        case .police: "公安"
        }
    }

    public var fullName: String {
        switch self {
        case .governance: "县委政法委(综治中心)"
        case .civilAffairs: "县民政局"
        case .health: "县卫生健康局"
        case .housing: "县住房和城乡建设局"
        case .fire: "县消防救援大队"
        case .education: "县教育局"
        case .humanResources: "县人力资源和社会保障局"
        case .police: "县公安局"
        }
    }
}
