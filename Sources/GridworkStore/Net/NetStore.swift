import Foundation
import GridworkCore
import SQLKit

/// Reads and reshapes the net. Only public data leaves this store: counts,
/// names and work phones of staff — never residents.
public struct NetStore: Sendable {
    let database: Database

    public init(database: Database) { self.database = database }

    // MARK: reading

    public func county() async throws -> RegionCode? {
        let row = try await database.reader.select().column("code").from("regions")
            .where("level", .equal, "county").first()
        return try row.map { try RegionCode($0.decode(column: "code", as: String.self)) }
    }

    /// A region, its path, its children with counts and, for a grid, its buildings.
    public func region(_ code: RegionCode) async throws -> RegionDetail {
        guard code.level != .building else { throw StoreError.notFound(what: "区域 (region)", key: code.value) }
        let db = database.reader
        guard let row = try await db.select()
            .columns("id", "level", "kind", "code", "name", "address", "office_phone", "boundary")
            .from("regions").where("code", .equal, code.value).first()
        else { throw StoreError.notFound(what: "区域 (region)", key: code.value) }
        let id = try row.decode(column: "id", as: Int64.self)
        let gridCounts = try await Self.gridCounts(db, under: code)
        let staff = try await Self.gridStaff(db, under: code)

        func counts(under prefix: RegionCode) -> NetCounts {
            var c = NetCounts()
            for (grid, gc) in gridCounts where grid.isWithin(prefix) { c.add(gc) }
            return c
        }
        let communityCodes = try await Self.codes(db, level: .community, under: code)
        func summary(code: RegionCode, level: RegionLevel, kind: String, name: String) -> RegionSummary {
            var c = counts(under: code)
            c.communities = communityCodes.filter { $0.isWithin(code) }.count
            return RegionSummary(code: code, level: level, kindLabel: Self.kindLabel(kind), name: name,
                                 counts: c, staff: level == .grid ? staff[code] ?? [] : [])
        }

        let kind = try row.decode(column: "kind", as: String.self)
        let name = try row.decode(column: "name", as: String.self)
        let childRows = try await db.select().columns("code", "level", "kind", "name").from("regions")
            .where("parent_id", .equal, id).orderBy("code").all()
        let children = try childRows.map { r in
            summary(code: try RegionCode(r.decode(column: "code", as: String.self)),
                    level: RegionLevel(rawValue: try r.decode(column: "level", as: String.self))!,
                    kind: try r.decode(column: "kind", as: String.self),
                    name: try r.decode(column: "name", as: String.self))
        }
        let buildings = code.level == .grid ? try await Self.buildings(db, gridID: id, gridCode: code) : []
        let boundary = try row.decode(column: "boundary", as: String?.self)
            .flatMap { try? JSONDecoder().decode([[Double]].self, from: Data($0.utf8)) }
        return RegionDetail(
            region: summary(code: code, level: code.level, kind: kind, name: name),
            path: try await Self.path(db, to: code),
            address: try row.decode(column: "address", as: String?.self),
            officePhone: try row.decode(column: "office_phone", as: String?.self),
            children: children, buildings: buildings, boundary: boundary)
    }

    /// A building with its grid's staff and its households (number, room, how many live there).
    public func building(_ code: RegionCode) async throws -> BuildingDetail {
        let db = database.reader
        guard let (id, gridID) = try await Self.buildingID(db, code), let grid = code.parent
        else { throw StoreError.notFound(what: "楼栋 (building)", key: code.value) }
        guard let building = try await Self.buildings(db, gridID: gridID, gridCode: grid, only: id).first else {
            throw StoreError.notFound(what: "楼栋 (building)", key: code.value)
        }
        let households = try await db.raw("""
            SELECT h.id, h.number, h.unit, h.floor, h.room, h.occupancy,
                   (SELECT COUNT(*) FROM residents r WHERE r.household_id = h.id AND r.status = 'present') AS residents
            FROM households h WHERE h.building_id = \(bind: id) ORDER BY h.number
            """).all().map { r in
            HouseholdSummary(id: try r.decode(column: "id", as: Int64.self), number: try r.decode(column: "number", as: Int.self), unit: try r.decode(column: "unit", as: Int.self),
                             floor: try r.decode(column: "floor", as: Int.self), room: try r.decode(column: "room", as: String.self),
                             residents: try r.decode(column: "residents", as: Int.self),
                             occupancy: Occupancy(rawValue: try r.decode(column: "occupancy", as: String.self)) ?? .ownerOccupied)
        }
        let staff = try await Self.gridStaff(db, under: grid)[grid] ?? []
        return BuildingDetail(building: building, path: try await Self.path(db, to: grid), gridStaff: staff, households: households)
    }

    /// Buildings whose name or address contains `text` (public data: for a resident finding their building).
    public func findBuildings(_ text: String, limit: Int = 20) async throws -> [(code: RegionCode, name: String, address: String)] {
        // Chinese addresses have no spaces: "和平小区 4栋" means "和平小区4栋".
        let needle = text.filter { !$0.isWhitespace }
        guard !needle.isEmpty, needle.count <= 40 else { return [] }
        let pattern = "%" + RegistryStore.likeEscaped(needle) + "%"
        return try await database.reader.raw("""
            SELECT b.number, b.name, b.address, g.code FROM buildings b JOIN regions g ON g.id = b.grid_id
            WHERE b.address LIKE \(bind: pattern) ESCAPE '\\' OR b.name LIKE \(bind: pattern) ESCAPE '\\'
            ORDER BY g.code, b.number LIMIT \(bind: limit)
            """).all().map { r in
            (try RegionCode(r.decode(column: "code", as: String.self)).child(try r.decode(column: "number", as: Int.self)),
             try r.decode(column: "name", as: String.self), try r.decode(column: "address", as: String.self))
        }
    }

    public func stats() async throws -> NetStats {
        let db = database.reader
        // Table names and predicates here are our own literals.
        func count(_ table: String, where predicate: String = "1=1") async throws -> Int {
            try await db.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table) WHERE \(unsafeRaw: predicate)").first()!
                .decode(column: "n", as: Int.self)
        }
        return NetStats(
            townships: try await count("regions", where: "level = 'township'"),
            communities: try await count("regions", where: "level = 'community'"),
            grids: try await count("regions", where: "level = 'grid'"),
            buildings: try await count("buildings"),
            households: try await count("households"),
            residents: try await count("residents", where: "status = 'present'"),
            buildingHeads: try await count("staff", where: "role = 'building_head'"),
            gridWorkers: try await count("staff", where: "role = 'grid_worker'"))
    }

    /// The regions from the county down to `code`, inclusive.
    public func path(to code: RegionCode) async throws -> [RegionRef] {
        try await Self.path(database.reader, to: code.level == .building ? code.parent! : code)
    }

    /// `code` and the regions under it, in code order (a county office picks where a campaign goes from these).
    public func regions(under code: RegionCode, limit: Int = 500) async throws -> [RegionRef] {
        try await database.reader.raw("""
            SELECT code, level, name FROM regions WHERE \(Self.subtree("code", code)) ORDER BY code LIMIT \(bind: limit)
            """).all().map { r in
            RegionRef(code: try RegionCode(r.decode(column: "code", as: String.self)),
                      level: RegionLevel(rawValue: try r.decode(column: "level", as: String.self)) ?? .grid,
                      name: try r.decode(column: "name", as: String.self))
        }
    }

    /// True when no county has been loaded yet.
    public func isEmpty() async throws -> Bool { try await county() == nil }

    // MARK: changing

    /// Moves a building to another grid (grids are redrawn in real life). The
    /// building takes the next free number there; its households, residents
    /// and building head hang on the building's id, so they move with it.
    /// Returns the building's new code.
    public func moveBuilding(_ code: RegionCode, to gridCode: RegionCode, actor: Actor) async throws -> RegionCode {
        guard code.level == .building else { throw StoreError.notFound(what: "楼栋 (building)", key: code.value) }
        guard gridCode.level == .grid else {
            throw StoreError.invalid(field: "grid", reason: "目标必须是网格代码(15位) (target must be a 15-digit grid code)")
        }
        return try await database.transaction { db in
            guard let target = try await db.select().column("id").from("regions")
                .where("code", .equal, gridCode.value).where("level", .equal, "grid").first()
            else { throw StoreError.notFound(what: "网格 (grid)", key: gridCode.value) }
            let targetID = try target.decode(column: "id", as: Int64.self)
            guard let (id, _) = try await Self.buildingID(db, code)
            else { throw StoreError.notFound(what: "楼栋 (building)", key: code.value) }
            if code.parent == gridCode { return code }
            let next = try await db.raw("SELECT COALESCE(MAX(number), 0) + 1 AS n FROM buildings WHERE grid_id = \(bind: targetID)")
                .first()!.decode(column: "n", as: Int.self)
            guard next <= 999 else { throw StoreError.conflict("网格\(gridCode)已满999栋 (grid is full)") }
            try await db.update("buildings").set("grid_id", to: targetID).set("number", to: next)
                .where("id", .equal, id).run()
            let moved = gridCode.child(next)
            // Accounts bound to the building (its head, its residents) and work addressed to it follow it.
            try await db.raw("UPDATE users SET scope_code = \(bind: moved.value) WHERE scope_code = \(bind: code.value)").run()
            for (table, column) in [("campaign_buildings", "assignee"), ("errands", "assignee"), ("inbox", "recipient")] {
                try await db.raw("""
                    UPDATE \(unsafeRaw: table) SET \(unsafeRaw: column) = \(bind: "role:building_head@\(moved)") WHERE \(unsafeRaw: column) = \(bind: "role:building_head@\(code)")
                    """).run()
            }
            try await DirectoryStore.touch(db)
            // Stairwell notices carry the old code in their QR code: remember where it went (and where earlier codes went).
            try await db.raw("UPDATE building_moves SET new_code = \(bind: moved.value) WHERE new_code = \(bind: code.value)").run()
            try await db.raw("DELETE FROM building_moves WHERE old_code = \(bind: code.value) OR old_code = \(bind: moved.value)").run()
            try await db.raw("""
                INSERT INTO building_moves (old_code, new_code, moved_at) VALUES (\(bind: code.value), \(bind: moved.value), \(bind: Clock.now()))
                """).run()
            try await AuditLog.append(db, kind: database.kind, actor: actor, action: "building.move",
                                      target: "building:\(code)", detail: "→ \(moved)")
            return moved
        }
    }

    // MARK: queries

    /// The ids of a building and its grid, found by the building's full code.
    static func buildingID(_ db: any SQLDatabase, _ code: RegionCode) async throws -> (building: Int64, grid: Int64)? {
        guard code.level == .building, let grid = code.parent, let number = code.localNumber else { return nil }
        guard let row = try await db.raw("""
            SELECT b.id, b.grid_id FROM buildings b JOIN regions g ON g.id = b.grid_id
            WHERE g.code = \(bind: grid.value) AND b.number = \(bind: number)
            """).first() else { return nil }
        return (try row.decode(column: "id", as: Int64.self), try row.decode(column: "grid_id", as: Int64.self))
    }

    static func kindLabel(_ kind: String) -> String {
        switch kind {
        case "county": "县"
        case "subdistrict": "街道"
        case "town": "镇"
        case "township": "乡"
        case "community": "社区"
        case "village": "村"
        case "grid": "网格"
        default: kind
        }
    }

    /// `code >= prefix AND code < prefix + ":"` selects a subtree by index; `column` is always a literal of ours (':' sorts after '9').
    static func subtree(_ column: String, _ code: RegionCode) -> SQLQueryString {
        "\(unsafeRaw: column) >= \(bind: code.value) AND \(unsafeRaw: column) < \(bind: code.value + ":")"
    }

    static func codes(_ db: any SQLDatabase, level: RegionLevel, under code: RegionCode) async throws -> [RegionCode] {
        try await db.raw("SELECT code FROM regions WHERE level = \(bind: level.rawValue) AND \(subtree("code", code))")
            .all().map { try RegionCode($0.decode(column: "code", as: String.self)) }
    }

    /// Buildings, households and residents per grid under `code`.
    static func gridCounts(_ db: any SQLDatabase, under code: RegionCode) async throws -> [RegionCode: NetCounts] {
        let rows = try await db.raw("""
            SELECT g.code,
                   (SELECT COUNT(*) FROM buildings b WHERE b.grid_id = g.id) AS buildings,
                   (SELECT COUNT(*) FROM households h JOIN buildings b ON h.building_id = b.id WHERE b.grid_id = g.id) AS households,
                   (SELECT COUNT(*) FROM residents r JOIN buildings b ON r.building_id = b.id WHERE b.grid_id = g.id AND r.status = 'present') AS residents
            FROM regions g WHERE g.level = 'grid' AND \(subtree("g.code", code))
            """).all()
        var result: [RegionCode: NetCounts] = [:]
        for r in rows {
            var c = NetCounts()
            c.grids = 1
            c.buildings = try r.decode(column: "buildings", as: Int.self)
            c.households = try r.decode(column: "households", as: Int.self)
            c.residents = try r.decode(column: "residents", as: Int.self)
            result[try RegionCode(r.decode(column: "code", as: String.self))] = c
        }
        return result
    }

    /// Grid workers and grid leaders of every grid under `code`, worker first.
    static func gridStaff(_ db: any SQLDatabase, under code: RegionCode) async throws -> [RegionCode: [StaffMember]] {
        let rows = try await db.raw("""
            SELECT g.code, s.role, s.name, s.work_phone FROM staff s JOIN regions g ON g.id = s.grid_id
            WHERE \(subtree("g.code", code)) ORDER BY g.code, s.role DESC
            """).all()
        var result: [RegionCode: [StaffMember]] = [:]
        for r in rows {
            result[try RegionCode(r.decode(column: "code", as: String.self)), default: []].append(try staffMember(r))
        }
        return result
    }

    static func staffMember(_ r: any SQLRow) throws -> StaffMember {
        let role = StaffRole(rawValue: try r.decode(column: "role", as: String.self))!
        return StaffMember(role: role, roleLabel: role.label, name: try r.decode(column: "name", as: String.self),
                           workPhone: try r.decode(column: "work_phone", as: String.self))
    }

    static func buildings(_ db: any SQLDatabase, gridID: Int64, gridCode: RegionCode, only: Int64? = nil) async throws -> [BuildingSummary] {
        let filter: SQLQueryString = only.map { "AND b.id = \(bind: $0)" } ?? ""
        return try await db.raw("""
            SELECT b.number, b.name, b.address, b.floors, b.units,
                   (SELECT COUNT(*) FROM households h WHERE h.building_id = b.id) AS households,
                   (SELECT COUNT(*) FROM residents r WHERE r.building_id = b.id AND r.status = 'present') AS residents,
                   s.role, s.name AS head_name, s.work_phone
            FROM buildings b LEFT JOIN staff s ON s.building_id = b.id
            WHERE b.grid_id = \(bind: gridID) \(filter) ORDER BY b.number
            """).all().map { r in
            let number = try r.decode(column: "number", as: Int.self)
            let head = try r.decode(column: "head_name", as: String?.self).map { name in
                StaffMember(role: .buildingHead, roleLabel: StaffRole.buildingHead.label, name: name,
                            workPhone: try r.decode(column: "work_phone", as: String.self))
            }
            return BuildingSummary(code: gridCode.child(number), number: number,
                                   name: try r.decode(column: "name", as: String.self),
                                   address: try r.decode(column: "address", as: String.self),
                                   floors: try r.decode(column: "floors", as: Int.self),
                                   units: try r.decode(column: "units", as: Int.self),
                                   households: try r.decode(column: "households", as: Int.self),
                                   residents: try r.decode(column: "residents", as: Int.self), head: head)
        }
    }

    /// The regions from the county down to `code`, inclusive.
    static func path(_ db: any SQLDatabase, to code: RegionCode) async throws -> [RegionRef] {
        var codes: [String] = []
        var c: RegionCode? = code
        while let x = c { codes.append(x.value); c = x.parent }
        let rows = try await db.select().columns("code", "level", "name").from("regions")
            .where("code", .in, codes).orderBy("code").all()
        return try rows.map { r in
            RegionRef(code: try RegionCode(r.decode(column: "code", as: String.self)),
                      level: RegionLevel(rawValue: try r.decode(column: "level", as: String.self))!,
                      name: try r.decode(column: "name", as: String.self))
        }
    }
}
