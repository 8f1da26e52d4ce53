import GridworkCore
import GridworkStore

public struct DemoOptions: Sendable {
    public var profile: DemoProfile
    public var residents: Int
    public var seed: UInt64
    /// Ages are computed as of 1 January of this year, so the county is the same whenever it is built.
    public var referenceYear: Int
    /// The password of every demo account; nil makes no accounts.
    public var demoPassword: String?
    /// False builds the net, its dwellings, staff and accounts but no residents (to import them).
    public var withResidents = true

    public init(profile: DemoProfile = .longhui, residents: Int? = nil, seed: UInt64 = 430524, referenceYear: Int = 2026,
                demoPassword: String? = nil) {
        self.profile = profile
        self.demoPassword = demoPassword
        self.residents = residents ?? profile.defaultResidents
        self.seed = seed
        self.referenceYear = referenceYear
    }

    /// A reason in Chinese and English when the options cannot make a county.
    public var problem: String? {
        let r = profile.residentRange
        if let password = demoPassword, let problem = PasswordRules.problems(password, login: "").first {
            return "--demo-password: \(problem)"
        }
        guard r.contains(residents) else {
            return "--residents 必须在 \(r.lowerBound) 到 \(r.upperBound) 之间 (profile \(profile.rawValue) takes \(r.lowerBound)…\(r.upperBound) residents), 实际 \(residents)"
        }
        return nil
    }
}

/// Builds a deterministic demo county into a store, in one transaction.
public enum DemoSeeder {
    /// Household sizes of a Hunan county (2020 census shape); mean ≈ 2.96.
    static let householdSizes = Weighted<Int>([(1, 0.16), (2, 0.27), (3, 0.24), (4, 0.17), (5, 0.10), (6, 0.06)])
    static let meanHouseholdSize = 2.96

    /// `progress(buildingsDone, buildingsTotal)` is called as buildings are written.
    public static func seed(into store: Store, options: DemoOptions,
                            progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }) async throws {
        if let problem = options.problem { throw StoreError.invalid(field: "residents", reason: problem) }
        try await NetLoader.load(into: store.database, sealer: store.sealer, demoPassword: options.demoPassword) { loader in
            var generator = Generator(options: options, loader: loader, progress: progress)
            try await generator.run()
        }
    }
}

struct Generator {
    let options: DemoOptions
    let loader: NetLoader
    let progress: @Sendable (Int, Int) -> Void
    var rng: SeededRandom
    var people: PersonFactory
    var buildingsDone = 0

    init(options: DemoOptions, loader: NetLoader, progress: @escaping @Sendable (Int, Int) -> Void) {
        self.options = options; self.loader = loader; self.progress = progress
        rng = SeededRandom(seed: options.seed)
        people = PersonFactory(referenceYear: options.referenceYear, seed: options.seed &+ 1)
    }

    mutating func run() async throws {
        let profile = options.profile
        let specs = profile.townships
        let countyID = try await loader.addRegion(parent: nil, code: DemoCounty.code, kind: "county", name: DemoCounty.name,
                                                  address: "\(DemoCounty.province)隆回县桃洪中路", officePhone: "0739-8222110")

        // Grids per township, then buildings per grid, then households per building.
        let gridsPer = apportion(profile.grids, weights: specs.map(\.gridWeight))
        var gridUrban: [Bool] = []
        for (t, n) in zip(specs, gridsPer) { gridUrban += Array(repeating: t.urban, count: n) }
        let buildingWeights = gridUrban.map { urban in urban ? Double.random(in: 1.3...2.2, using: &rng) : Double.random(in: 0.6...1.2, using: &rng) }
        var buildingsPerGrid = apportion(profile.buildings, weights: buildingWeights, minimum: 3)
        let households = Int((Double(options.residents) / DemoSeeder.meanHouseholdSize).rounded())
        let householdWeights = (0..<profile.buildings).map { _ in Double.random(in: 0.7...1.3, using: &rng) }
        var householdsPerBuilding = apportion(max(households, profile.buildings), weights: householdWeights)[...]

        let layout = Layout(townships: specs.count)
        var gridIndex = 0
        for (ti, spec) in specs.enumerated() {
            let townshipCode = DemoCounty.code.child(spec.number)
            let townshipID = try await loader.addRegion(
                parent: countyID, code: townshipCode, kind: spec.kind.rawValue, name: spec.name,
                address: "\(DemoCounty.province)隆回县\(spec.name)人民政府", officePhone: officePhone())
            let communityNames = communities(for: spec, grids: gridsPer[ti])
            let gridsPerCommunity = apportion(gridsPer[ti], weights: communityNames.map { _ in Double.random(in: 0.8...1.2, using: &rng) })
            var gridInTownship = 0
            for (ci, communityName) in communityNames.enumerated() {
                let communityCode = townshipCode.child(ci + 1)
                let village = communityName.hasSuffix("村")
                let communityID = try await loader.addRegion(
                    parent: townshipID, code: communityCode, kind: village ? "village" : "community", name: communityName,
                    address: "\(spec.name)\(communityName)\(village ? "村民委员会" : "居民委员会")", officePhone: officePhone())
                for g in 0..<gridsPerCommunity[ci] {
                    let gridCode = communityCode.child(g + 1)
                    let gridName = "\(communityName)第\(g + 1)网格"
                    let gridID = try await loader.addRegion(
                        parent: communityID, code: gridCode, kind: "grid", name: gridName,
                        boundary: layout.gridBoundary(township: ti, grid: gridInTownship, of: gridsPer[ti]))
                    for role in [StaffRole.gridWorker, .gridLeader] {
                        let p = people.staffPerson()
                        try await loader.addStaff(role: role, name: p.name, sex: p.sex, workPhone: people.workPhone(), gridID: gridID, buildingID: nil)
                    }
                    let place = Place(township: spec, community: communityName, village: village)
                    try await buildGrid(gridID: gridID, buildings: buildingsPerGrid[gridIndex], place: place,
                                        households: &householdsPerBuilding)
                    gridIndex += 1
                    gridInTownship += 1
                }
            }
        }
        buildingsPerGrid.removeAll()
    }

    struct Place {
        let township: TownshipSpec
        let community: String
        let village: Bool
        var prefix: String { "\(DemoCounty.province)隆回县\(township.name)\(community)" }
    }

    mutating func buildGrid(gridID: Int64, buildings: Int, place: Place, households: inout ArraySlice<Int>) async throws {
        let compound = rng.pick(DemoCounty.compounds)
        for b in 1...buildings {
            let count = households.popFirst()!
            let (name, units, floors): (String, Int, Int)
            if place.village {
                name = "第\(b)村民组"; units = 1; floors = 1
            } else {
                units = min(4, max(1, count / 24 + rng.int(0...1)))
                floors = max(1, Int((Double(count) / Double(units * 2)).rounded(.up)))
                name = "\(compound)\(b)栋"
            }
            let address = place.prefix + name
            let buildingID = try await loader.addBuilding(gridID: gridID, number: b, name: name, address: address, floors: floors, units: units)
            let head = people.staffPerson()
            try await loader.addStaff(role: .buildingHead, name: head.name, sex: head.sex, workPhone: people.workPhone(), gridID: nil, buildingID: buildingID)
            for h in 1...count {
                let (unit, floor, room): (Int, Int, String)
                if place.village {
                    (unit, floor, room) = (1, 1, "\(h)号")
                } else {
                    let perUnit = max(1, Int((Double(count) / Double(units)).rounded(.up)))
                    unit = (h - 1) / perUnit + 1
                    let inUnit = (h - 1) % perUnit
                    floor = inUnit / 2 + 1
                    room = "\(unit)单元\(floor)0\(inUnit % 2 + 1)室"
                }
                // About one dwelling in nine is let (出租), spread evenly without drawing from the generator.
                let householdID = try await loader.addHousehold(buildingID: buildingID, number: h, unit: unit, floor: floor, room: room,
                                                                occupancy: (h * 7 + b) % 9 == 0 ? .rented : .ownerOccupied)
                let home = address + room
                // Draw the household's shape even without residents, so the net is the same either way.
                let size = DemoSeeder.householdSizes.pick(&rng)
                let elsewhere = registeredElsewhere()
                guard options.withResidents else { continue }
                for person in people.household(size: size, address: home, minority: place.township.minority, elsewhere: elsewhere) {
                    try await loader.addResident(person, householdID: householdID, buildingID: buildingID)
                }
            }
            buildingsDone += 1
            progress(buildingsDone, options.profile.buildings)
        }
        try await addOrganisations(gridID: gridID, place: place, compound: compound)
    }

    static let contacts = ["李明", "王芳", "刘建华", "陈丽", "张伟", "罗红梅", "曾志强", "周敏"]

    /// Two organisations per grid — a shop and a school in town, a farm-supply store and a clinic in a village —
    /// with valid credit codes. Nothing is drawn from the generators, so the people stay the same.
    func addOrganisations(gridID: Int64, place: Place, compound: String) async throws {
        let n = Int(gridID)
        let kinds: [(name: String, kind: OrganisationKind, prefix: String)] = place.village
            ? [("农资店", .soleTrader, "92"), ("卫生室", .publicInstitution, "12")]
            : [("便民超市", .company, "91"), ("幼儿园", .school, "52")]
        for (i, k) in kinds.enumerated() {
            let digits = String(n * 10 + i)
            guard let code = CreditCode.completing(k.prefix + DemoCounty.code.value + String(repeating: "0", count: max(0, 9 - digits.count)) + digits)
            else { continue }
            let name = (place.village ? place.community : compound) + k.name
            try await loader.addOrganisation(gridID: gridID, buildingID: nil, name: name, creditCode: code, kind: k.kind,
                                             address: place.prefix + name, contact: Self.contacts[(n + i) % Self.contacts.count],
                                             contactPhone: "0739-8\(100_000 + (n * 7919 + i) % 900_000)")
        }
    }

    /// About one in seven residents is registered (户籍) somewhere other than where they live.
    mutating func registeredElsewhere() -> String? {
        guard rng.chance(0.15) else { return nil }
        let t = rng.pick(DemoCounty.townships)
        return "\(DemoCounty.province)隆回县\(t.name)\(rng.pick(DemoCounty.villageFirst))\(rng.pick(DemoCounty.villageSecond))村"
    }

    mutating func communities(for spec: TownshipSpec, grids: Int) -> [String] {
        let wanted = max(1, min(grids, (grids + 1) / 2))
        if !spec.communities.isEmpty { return Array(spec.communities.prefix(wanted)) }
        // A town's seat is a 社区; the rest are villages.
        var names = [String(spec.name.dropLast()) + "社区"]
        var used = Set(names)
        while names.count < wanted {
            let n = rng.pick(DemoCounty.villageFirst) + rng.pick(DemoCounty.villageSecond) + "村"
            if used.insert(n).inserted { names.append(n) }
        }
        return names
    }

    mutating func officePhone() -> String { "0739-8\(rng.int(100_000...999_999))" }
}

/// Lays townships on a 5×5 lattice over Longhui's extent and each township's
/// grids on a lattice inside it: simple rectangles, enough for the first maps.
struct Layout {
    static let west = 110.62, east = 111.38, south = 27.02, north = 27.68
    let columns: Int

    init(townships: Int) { columns = max(1, Int(Double(townships).squareRoot().rounded(.up))) }

    func gridBoundary(township: Int, grid: Int, of grids: Int) -> [[Double]] {
        let cellW = (Self.east - Self.west) / Double(columns), cellH = (Self.north - Self.south) / Double(columns)
        let tx = Self.west + Double(township % columns) * cellW, ty = Self.north - Double(township / columns + 1) * cellH
        let gc = max(1, Int(Double(grids).squareRoot().rounded(.up)))
        let gr = (grids + gc - 1) / gc
        let w = cellW / Double(gc), h = cellH / Double(gr)
        let x = tx + Double(grid % gc) * w, y = ty + Double(grid / gc) * h
        func r(_ v: Double) -> Double { (v * 1_000_000).rounded() / 1_000_000 }
        return [[r(x), r(y)], [r(x + w), r(y)], [r(x + w), r(y + h)], [r(x), r(y + h)], [r(x), r(y)]]
    }
}
