import GridworkCore

/// The shape of a demo county. Township names and the county code are
/// Longhui's as published (2022); township codes other than 桃花坪街道's
/// (430524001), village names, compounds, people and phones are invented.
public enum DemoProfile: String, CaseIterable, Sendable {
    /// The whole county: 25 townships, 173 grids, 2,222 buildings.
    case longhui
    /// A few grids of it, for tests and quick looks.
    case sample

    public var defaultResidents: Int { self == .longhui ? 200_000 : 3_000 }
    /// Below this every building cannot hold a household; above it is not a county.
    public var residentRange: ClosedRange<Int> { self == .longhui ? 10_000...2_000_000 : 200...100_000 }

    var grids: Int { self == .longhui ? 173 : 6 }
    var buildings: Int { self == .longhui ? 2_222 : 40 }

    var townships: [TownshipSpec] {
        let all = DemoCounty.townships
        return self == .longhui ? all : [all[0], all[2]]
    }
}

struct TownshipSpec {
    let number: Int
    let name: String
    let kind: TownshipKind
    /// Relative share of the county's grids (towns are denser than the hills).
    let gridWeight: Double
    /// Named communities, for the two sub-districts; villages are invented for the rest.
    let communities: [String]
    /// Share of residents of a minority (瑶族 in 虎形山, 回族 in 山界 and 北山).
    let minority: (name: String, share: Double)?

    var urban: Bool { kind == .subdistrict }
}

enum DemoCounty {
    static let code = RegionCode.county("430524")
    static let name = "隆回县"
    static let province = "湖南省邵阳市"

    static let townships: [TownshipSpec] = {
        var list = [
            TownshipSpec(number: 1, name: "桃花坪街道", kind: .subdistrict, gridWeight: 20,
                         communities: ["江湾社区", "思源社区", "桃花社区", "荷叶塘社区", "双井社区", "大井社区"], minority: nil),
            TownshipSpec(number: 2, name: "花门街道", kind: .subdistrict, gridWeight: 18,
                         communities: ["洪塘社区", "梨子园社区", "竹山塘社区", "永胜社区", "紫霞园社区"], minority: nil),
        ]
        let towns = ["小沙江镇", "金石桥镇", "司门前镇", "高平镇", "六都寨镇", "荷香桥镇", "横板桥镇", "周旺镇", "滩头镇",
                     "鸭田镇", "西洋江镇", "岩口镇", "北山镇", "三阁司镇", "南岳庙镇", "七江镇", "羊古坳镇", "罗洪镇"]
        for (i, name) in towns.enumerated() {
            list.append(TownshipSpec(number: 101 + i, name: name, kind: .town, gridWeight: 5, communities: [],
                                     minority: name == "北山镇" ? ("回族", 0.12) : nil))
        }
        let rural: [(String, (String, Double)?)] = [("麻塘山乡", nil), ("虎形山瑶族乡", ("瑶族", 0.7)), ("大水田乡", nil),
                                                   ("荷田乡", nil), ("山界回族乡", ("回族", 0.45))]
        for (i, (name, minority)) in rural.enumerated() {
            list.append(TownshipSpec(number: 201 + i, name: name, kind: .township, gridWeight: 3.4, communities: [],
                                     minority: minority.map { (name: $0.0, share: $0.1) }))
        }
        return list
    }()

    static let villageFirst = ["金", "石", "龙", "竹", "桃", "荷", "清", "白", "青", "高", "长", "新", "红", "大", "双", "杨", "枫", "松", "梅", "兰", "万", "太", "黄", "凤"]
    static let villageSecond = ["山", "塘", "湾", "坪", "溪", "冲", "岭", "桥", "田", "源", "峰", "江", "洲", "园", "坳", "口"]
    static let compounds = ["兴业小区", "和平小区", "幸福小区", "阳光花园", "锦绣家园", "金色家园", "桃源小区", "翠园", "滨江花园",
                            "新华小区", "丽都花园", "东方明珠", "人民小区", "教师村", "碧桂园", "梅园小区", "步步高小区", "魏源大道小区"]
}
