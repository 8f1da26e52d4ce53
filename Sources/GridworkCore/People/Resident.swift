/// The population groups of GB/T 31000-2015 that Gridwork tags residents with.
public enum ResidentTag: String, Codable, Sendable, CaseIterable {
    case elderlyAlone = "elderly_alone"
    case disability
    case lowIncome = "low_income"
    case veteran
    case keyYouth = "key_youth"
    case communityCorrection = "community_correction"
    case releasedPrisoner = "released_prisoner"
    case leftBehindChild = "left_behind_child"
    case mentalHealth = "mental_health"

    public var label: String {
        switch self {
        case .elderlyAlone: "独居老人"
        case .disability: "残疾人"
        case .lowIncome: "低保户"
        case .veteran: "退役军人"
        case .keyYouth: "重点青少年"
        case .communityCorrection: "社区矫正对象"
        case .releasedPrisoner: "刑满释放人员"
        case .leftBehindChild: "留守儿童"
        case .mentalHealth: "严重精神障碍患者"
        }
    }
}

/// Relationship to the head of household (与户主关系).
public enum Relation: String, Codable, Sendable, CaseIterable {
    case head, spouse, son, daughter, father, mother, grandson, granddaughter, other

    public var label: String {
        switch self {
        case .head: "户主"
        case .spouse: "配偶"
        case .son: "儿子"
        case .daughter: "女儿"
        case .father: "父亲"
        case .mother: "母亲"
        case .grandson: "孙子"
        case .granddaughter: "孙女"
        case .other: "其他"
        }
    }
}

/// A resident as written to the registry. Personal fields are plain here;
/// the store seals them before they reach the disk.
public struct ResidentRecord: Sendable, Equatable {
    public var name: String
    public var sex: Sex
    public var birthDate: CivilDate
    public var ethnicity: String
    public var citizenID: CitizenID
    public var phone: MobilePhone?
    public var relation: Relation
    public var address: String
    public var registeredAddress: String
    public var tags: [ResidentTag]

    public init(name: String, sex: Sex, birthDate: CivilDate, ethnicity: String, citizenID: CitizenID,
                phone: MobilePhone?, relation: Relation, address: String, registeredAddress: String,
                tags: [ResidentTag] = []) {
        self.name = name; self.sex = sex; self.birthDate = birthDate; self.ethnicity = ethnicity
        self.citizenID = citizenID; self.phone = phone; self.relation = relation
        self.address = address; self.registeredAddress = registeredAddress; self.tags = tags
    }
}
