import Foundation
import GridworkCore
import SQLKit

/// A person on the registry as a staff page shows them: the masked view plus where they live and whether they still do.
public struct PersonDetail: Sendable, Equatable, Codable {
    public let person: ResidentView
    public let status: ResidentStatus
    public let householdID: Int64
    public let building: RegionCode
    public let buildingName: String
    public let address: String
    public let registeredAddress: String
}

/// One line of a person's history: what changed, when, by whom, from which source.
public struct HistoryEntry: Sendable, Equatable, Codable {
    public let residentID: Int64
    public let name: String
    public let at: String
    public let kind: String
    public let field: String?
    public let old: String?
    public let new: String?
    public let source: String
    public let actor: String
}

/// A dwelling with the people who live there now, those who left, and what happened to them.
public struct HouseholdDetail: Sendable, Equatable {
    public let id: Int64
    public let room: String
    public let occupancy: Occupancy
    public let building: RegionCode
    public let buildingName: String
    public let address: String
    public let members: [PersonDetail]
    public let former: [PersonDetail]
    public let history: [HistoryEntry]
}

/// Reading and changing the registry one person or dwelling at a time: pages of a
/// resident and a household with their history, births, moves and deaths, how a
/// dwelling is used, and search. Every call takes the acting viewer; scope and duty
/// are conditions of the SQL, so a caller cannot forget them.
public struct RegistryStore: Sendable {
    let database: Database
    let sealer: Sealer

    // MARK: reading

    /// One person, with their history (newest first). Outside scope or duty: not found.
    public func resident(_ id: Int64, viewer: Viewer) async throws -> (person: PersonDetail, history: [HistoryEntry]) {
        guard let tags = Policy.visibleTags(for: viewer),
              let person = try await people(viewer: viewer, tags: tags, where: "r.id = \(bind: id)", includeFormer: true, limit: 1).first
        else { throw StoreError.notFound(what: "居民 (resident)", key: String(id)) }
        return (person, try await history(of: [id], viewer: viewer))
    }

    /// One dwelling with its members, former members and their history. Outside scope: not found.
    public func household(_ id: Int64, viewer: Viewer) async throws -> HouseholdDetail {
        guard let tags = Policy.visibleTags(for: viewer),
              let row = try await database.reader.raw("""
                SELECT h.id, h.room, h.occupancy, b.number, b.name, b.address, g.code FROM households h
                JOIN buildings b ON b.id = h.building_id JOIN regions g ON g.id = b.grid_id
                WHERE h.id = \(bind: id) AND \(ResidentStore.inScope(viewer))
                """).first()
        else { throw StoreError.notFound(what: "住户 (household)", key: String(id)) }
        let everyone = try await people(viewer: viewer, tags: tags, where: "r.household_id = \(bind: id)", includeFormer: true, limit: 200)
        return HouseholdDetail(
            id: id, room: try row.decode(column: "room", as: String.self),
            occupancy: Occupancy(rawValue: try row.decode(column: "occupancy", as: String.self)) ?? .ownerOccupied,
            building: try RegionCode(row.decode(column: "code", as: String.self)).child(try row.decode(column: "number", as: Int.self)),
            buildingName: try row.decode(column: "name", as: String.self),
            address: try row.decode(column: "address", as: String.self) + (try row.decode(column: "room", as: String.self)),
            members: everyone.filter { $0.status == .present }, former: everyone.filter { $0.status != .present },
            history: try await history(of: everyone.map(\.person.id), viewer: viewer))
    }

    /// Residents in the viewer's scope matching every criterion of `query`, at most `limit`; `more` when there were others.
    public func search(_ query: ResidentQuery, viewer: Viewer, today: CivilDate, limit: Int = 100) async throws -> (hits: [PersonDetail], more: Bool) {
        guard !query.isEmpty, let tags = Policy.visibleTags(for: viewer) else { return ([], false) }
        var conditions: [SQLQueryString] = []
        if let name = query.name { conditions.append("r.name LIKE \(bind: "%" + Self.likeEscaped(name) + "%") ESCAPE '\\'") }
        switch query.id {
        case .exact(let id)?: conditions.append("r.id_index = \(bind: sealer.blindIndex(id.value))")
        case .masked(let prefix, let suffix)?: conditions.append("r.id_masked = \(bind: prefix + String(repeating: "*", count: 8) + suffix)")
        case nil: break
        }
        switch query.phone {
        case .exact(let phone)?: conditions.append("r.phone_index = \(bind: sealer.blindIndex(phone.value))")
        case .lastFour(let digits)?: conditions.append("r.phone_masked LIKE \(bind: "%" + digits)")
        case nil: break
        }
        if let address = query.address { conditions.append("r.address LIKE \(bind: "%" + Self.likeEscaped(address) + "%") ESCAPE '\\'") }
        if let tag = query.tag {
            // A department searching by a tag outside its duty finds no one rather than learning who carries it.
            guard tags.contains(tag) else { return ([], false) }
            conditions.append(ResidentStore.carrying([tag]))
        }
        let range = query.birthRange(today: today)
        if let after = range.bornAfter { conditions.append("r.birth_date > \(bind: after.iso)") }
        if let before = range.bornOnOrBefore { conditions.append("r.birth_date <= \(bind: before.iso)") }
        var condition: SQLQueryString = conditions[0]
        for c in conditions.dropFirst() { condition = "\(condition) AND \(c)" }
        let found = try await people(viewer: viewer, tags: tags, where: condition, includeFormer: query.includeFormer, limit: limit + 1)
        return (Array(found.prefix(limit)), found.count > limit)
    }

    /// `text` for a LIKE pattern with `\` as the escape: its own %, _ and \ match literally.
    static func likeEscaped(_ text: String) -> String {
        var out = ""
        for c in text {
            if c == "%" || c == "_" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// The people matching `condition` in the viewer's scope and duty, oldest record first.
    private func people(viewer: Viewer, tags: Set<ResidentTag>, where condition: SQLQueryString, includeFormer: Bool = false,
                        limit: Int) async throws -> [PersonDetail] {
        let present: SQLQueryString = includeFormer ? "" : "AND r.status = 'present'"
        let rows = try await database.reader.raw("""
            SELECT r.id, r.household_id, h.room, r.name, r.sex, r.birth_date, r.ethnicity, r.relation, r.id_masked, r.phone_masked,
                   r.status, r.address, r.registered_address, b.number, b.name AS building_name, g.code,
                   \(ResidentStore.tagsColumn(database.kind))
            FROM residents r JOIN households h ON h.id = r.household_id
            JOIN buildings b ON b.id = r.building_id JOIN regions g ON g.id = b.grid_id
            WHERE \(condition) AND \(ResidentStore.inScope(viewer)) \(ResidentStore.dutyFilter(viewer, tags: tags)) \(present)
            ORDER BY r.id LIMIT \(bind: limit)
            """).all()
        return try rows.map { r in
            PersonDetail(
                person: try ResidentStore.view(r, tags: tags),
                status: ResidentStatus(rawValue: try r.decode(column: "status", as: String.self)) ?? .present,
                householdID: try r.decode(column: "household_id", as: Int64.self),
                building: try RegionCode(r.decode(column: "code", as: String.self)).child(try r.decode(column: "number", as: Int.self)),
                buildingName: try r.decode(column: "building_name", as: String.self),
                address: try r.decode(column: "address", as: String.self),
                registeredAddress: try r.decode(column: "registered_address", as: String.self))
        }
    }

    /// The history of these people, newest first. A department does not see changes of tags outside its duty.
    private func history(of ids: [Int64], viewer: Viewer) async throws -> [HistoryEntry] {
        guard !ids.isEmpty else { return [] }
        let hideTags: SQLQueryString = Policy.seesOnlyTagged(viewer) ? "AND (e.field IS NULL OR e.field <> 'tags')" : ""
        var list: SQLQueryString = "\(bind: ids[0])"
        for id in ids.dropFirst() { list = "\(list), \(bind: id)" }
        return try await database.reader.raw("""
            SELECT e.resident_id, r.name, e.at, e.kind, e.field, e.old_value, e.new_value, e.source, e.actor
            FROM resident_events e JOIN residents r ON r.id = e.resident_id
            WHERE e.resident_id IN (\(list)) \(hideTags) ORDER BY e.id DESC LIMIT 200
            """).all().map { r in
            HistoryEntry(residentID: try r.decode(column: "resident_id", as: Int64.self), name: try r.decode(column: "name", as: String.self),
                         at: try r.decode(column: "at", as: String.self), kind: try r.decode(column: "kind", as: String.self),
                         field: try r.decode(column: "field", as: String?.self), old: try r.decode(column: "old_value", as: String?.self),
                         new: try r.decode(column: "new_value", as: String?.self), source: try r.decode(column: "source", as: String.self),
                         actor: try r.decode(column: "actor", as: String.self))
        }
    }

    // MARK: changing

    /// Records that a person moved out of the county or died: their record stays, with the event in its
    /// history, and a dwelling left with no one becomes vacant. Applied with a check that the status is
    /// still the one read, so two people recording at once cannot both succeed.
    public func recordDeparture(_ event: LifeEvent, resident id: Int64, viewer: Viewer, address: String,
                                today: CivilDate = .today()) async throws {
        guard Policy.mayEditRegistry(viewer) else { throw StoreError.notFound(what: "居民 (resident)", key: String(id)) }
        let kind = database.kind
        try await database.transaction { db in
            guard let row = try await db.raw("""
                SELECT r.status, r.household_id, r.name FROM residents r
                JOIN buildings b ON b.id = r.building_id JOIN regions g ON g.id = b.grid_id
                WHERE r.id = \(bind: id) AND \(ResidentStore.inScope(viewer))
                """).first()
            else { throw StoreError.notFound(what: "居民 (resident)", key: String(id)) }
            let old = ResidentStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .present
            let new: ResidentStatus
            do { new = try event.apply(to: old, today: today) } catch let refusal as LifeEvent.Refusal { throw StoreError.conflict(refusal.description) }
            guard try await db.raw("""
                UPDATE residents SET status = \(bind: new.rawValue) WHERE id = \(bind: id) AND status = \(bind: old.rawValue) RETURNING id
                """).first() != nil else { throw StoreError.conflict("该居民的状态刚被他人修改,请刷新后再试 (changed by someone else; reload)") }
            let detail: String = switch event {
            case .moveOut(let destination): destination
            case .death(let date): date.iso
            default: ""
            }
            try await Self.event(db, resident: id, kind: event.kind, old: old.rawValue, new: detail, source: "web", actor: viewer.login)
            let household = try row.decode(column: "household_id", as: Int64.self)
            try await db.raw("""
                UPDATE households SET occupancy = 'vacant' WHERE id = \(bind: household)
                AND NOT EXISTS (SELECT 1 FROM residents WHERE household_id = \(bind: household) AND status = 'present')
                """).run()
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "registry.\(event.kind)",
                                      target: "resident:\(id)", detail: detail)
        }
    }

    /// Adds a person to a dwelling — a birth, or a move-in. Someone the registry already knows (by ID
    /// number, through the blind index) moves here with their history rather than being added twice;
    /// a person recorded as dead cannot move in. Returns the person's id.
    @discardableResult
    public func recordArrival(_ person: NewResident, household id: Int64, viewer: Viewer, address: String,
                              today: CivilDate = .today()) async throws -> Int64 {
        do {
            return try await arrive(person, household: id, viewer: viewer, address: address, today: today)
        } catch let error as StoreError where error == ResidentImporter.SetAside.duringFirstLoad {
            // A first load that died left its indexes aside: they are built now, and the registration goes in (as
            // it does if the load has ended meanwhile).
            guard try await ResidentImporter.SetAside.restoreIfAbandoned(database) else { throw error }
            return try await arrive(person, household: id, viewer: viewer, address: address, today: today)
        }
    }

    private func arrive(_ person: NewResident, household id: Int64, viewer: Viewer, address: String, today: CivilDate) async throws -> Int64 {
        guard Policy.mayEditRegistry(viewer) else { throw StoreError.notFound(what: "住户 (household)", key: String(id)) }
        let kind = database.kind, sealer = sealer
        return try await database.transaction { db in
            guard let home = try await db.raw("""
                SELECT h.building_id, b.name AS building_name, b.address, h.room FROM households h
                JOIN buildings b ON b.id = h.building_id JOIN regions g ON g.id = b.grid_id
                WHERE h.id = \(bind: id) AND \(ResidentStore.inScope(viewer))
                """).first()
            else { throw StoreError.notFound(what: "住户 (household)", key: String(id)) }
            let building = try home.decode(column: "building_id", as: Int64.self)
            let room = try home.decode(column: "room", as: String.self)
            let homeAddress = try home.decode(column: "address", as: String.self) + room
            let newPlace = try home.decode(column: "building_name", as: String.self) + room
            let index = sealer.blindIndex(person.citizenID.value)
            let known = try await db.raw("""
                SELECT r.id, r.status, r.household_id, b.name || h.room AS place FROM residents r
                JOIN households h ON h.id = r.household_id JOIN buildings b ON b.id = r.building_id
                WHERE r.id_index = \(bind: index)
                """).first()
            let old = try known.map { ResidentStatus(rawValue: try $0.decode(column: "status", as: String.self)) ?? .present }
            do { _ = try person.event.apply(to: old, today: today) } catch let refusal as LifeEvent.Refusal {
                throw StoreError.conflict(known == nil ? refusal.description : "该身份证号已在册:\(refusal.description) (this ID number is on the registry already)")
            }
            let residentID: Int64
            let origin = person.origin.isEmpty ? nil : person.origin
            if let known {
                residentID = try known.decode(column: "id", as: Int64.self)
                if try known.decode(column: "household_id", as: Int64.self) == id, old == .present {
                    throw StoreError.conflict("此人已是本户成员 (already a member of this household)")
                }
                try await db.raw("""
                    UPDATE residents SET household_id = \(bind: id), building_id = \(bind: building), status = 'present',
                        relation = \(bind: person.relation.rawValue), address = \(bind: homeAddress)
                    WHERE id = \(bind: residentID)
                    """).run()
                let from = try known.decode(column: "place", as: String.self)
                try await Self.event(db, resident: residentID, kind: person.event.kind, old: old == .present ? from : "\(old!.label) · \(from)",
                                     new: newPlace, source: "web", actor: viewer.login)
            } else {
                residentID = try await db.raw("""
                    INSERT INTO residents (household_id, building_id, name, sex, birth_date, ethnicity, relation, id_sealed, id_index, id_masked,
                        phone_sealed, phone_index, phone_masked, address, registered_address)
                    VALUES (\(bind: id), \(bind: building), \(bind: person.name), \(bind: person.sex.rawValue), \(bind: person.birthDate.iso),
                        \(bind: person.ethnicity), \(bind: person.relation.rawValue), \(bind: sealer.seal(person.citizenID.value)), \(bind: index),
                        \(bind: person.citizenID.masked), \(bind: person.phone.map { sealer.seal($0.value) }),
                        \(bind: person.phone.map { sealer.blindIndex($0.value) }), \(bind: person.phone?.masked),
                        \(bind: homeAddress), \(bind: homeAddress))
                    RETURNING id
                    """).first()!.decode(column: "id", as: Int64.self)
                // Asked after the insert: a first load's first commit either is seen now or waits for this one.
                try await ResidentImporter.SetAside.refuseDuringFirstLoad(db)
                try await Self.event(db, resident: residentID, kind: person.event.kind, old: origin, new: newPlace, source: "web", actor: viewer.login)
            }
            try await db.raw("UPDATE households SET occupancy = 'owner_occupied' WHERE id = \(bind: id) AND occupancy = 'vacant'").run()
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "registry.\(person.event.kind)",
                                      target: "resident:\(residentID)", detail: "household:\(id)")
            return residentID
        }
    }

    /// Sets how a dwelling is used (自住/出租/空置). Audited.
    public func setOccupancy(_ occupancy: Occupancy, household id: Int64, viewer: Viewer, address: String) async throws {
        guard Policy.mayEditRegistry(viewer) else { throw StoreError.notFound(what: "住户 (household)", key: String(id)) }
        let kind = database.kind
        try await database.transaction { db in
            guard let row = try await db.raw("""
                SELECT h.occupancy FROM households h JOIN buildings b ON b.id = h.building_id JOIN regions g ON g.id = b.grid_id
                WHERE h.id = \(bind: id) AND \(ResidentStore.inScope(viewer))
                """).first()
            else { throw StoreError.notFound(what: "住户 (household)", key: String(id)) }
            let old = try row.decode(column: "occupancy", as: String.self)
            guard old != occupancy.rawValue else { return }
            try await db.raw("UPDATE households SET occupancy = \(bind: occupancy.rawValue) WHERE id = \(bind: id)").run()
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "registry.occupancy",
                                      target: "household:\(id)", detail: "\(old) -> \(occupancy.rawValue)")
        }
    }

    static func event(_ db: any SQLDatabase, resident: Int64, kind: String, field: String? = nil, old: String?, new: String?,
                      source: String, actor: String) async throws {
        try await db.raw("""
            INSERT INTO resident_events (resident_id, at, kind, field, old_value, new_value, source, actor)
            VALUES (\(bind: resident), \(bind: Timestamp.now()), \(bind: kind), \(bind: field), \(bind: old), \(bind: new), \(bind: source), \(bind: actor))
            """).run()
    }
}
