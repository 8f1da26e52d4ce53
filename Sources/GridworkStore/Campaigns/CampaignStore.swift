import Foundation
import GridworkCore
import SQLKit

/// A campaign as lists and its pages show it.
public struct CampaignSummary: Sendable, Equatable {
    public let id: Int64
    public let title: String
    public let issuer: String
    public let issuerLogin: String
    public let issuerDepartment: Department?
    public let region: RegionCode
    public let state: CampaignState
    public let deadline: CivilDate
    public let targetKind: String
    public let targetTags: [ResidentTag]
    public let template: String?
    public let createdAt: Int64
    public let launchedAt: Int64?
    public let closedAt: Int64?
    public let firstAnswerAt: Int64?
}

/// A campaign with its instructions and form.
public struct Campaign: Sendable, Equatable {
    public let summary: CampaignSummary
    public let instructions: String
    public let form: CampaignForm
}

/// The tally of one place (a region or a building) in a campaign.
public struct PlaceProgress: Sendable, Equatable {
    public let code: RegionCode
    public let name: String
    public let progress: CampaignProgress
    /// Who visits this building (buildings only): `user:LOGIN` or `role:ROLE@CODE`.
    public let assignee: String?
    public let lastAt: Int64?
}

/// Progress under one node of the net: the node's total, its children, and the buildings furthest behind.
public struct CampaignOverview: Sendable, Equatable {
    public let node: RegionCode
    public let total: CampaignProgress
    public let children: [PlaceProgress]
    public let laggards: [PlaceProgress]
    public let firstAnswerAt: Int64?
}

/// One door of a campaign, with what was found there.
public struct VisitRow: Sendable, Equatable {
    public let id: Int64
    public let campaignID: Int64
    public let householdID: Int64
    public let building: RegionCode
    public let address: String
    public let room: String
    /// The person to ask about (list targets), by name; nil for a whole household.
    public let person: String?
    public let state: VisitState
    public let attempts: Int
    public let answers: CampaignAnswers
    public let finding: Bool
    public let caseID: Int64?
    public let answeredBy: String?
    public let answeredAt: Int64?
    public let version: Int
}

/// A line of an uploaded list: matched (with its household) or waiting to be placed by hand.
public struct ListEntry: Sendable, Equatable {
    public let id: Int64
    public let line: Int
    public let shown: String
    public let reason: String?
    public let householdID: Int64?
}

/// What a door answered, as the building head's phone sent it.
public struct VisitSubmission: Sendable {
    public var outcome: VisitOutcome
    /// Each field's values by key (a multiple choice sends several).
    public var values: [String: [String]]
    /// Photos by field key.
    public var photos: [String: [UInt8]]
    /// Made by the page once per answer; a retry sends the same one.
    public var key: String

    public init(outcome: VisitOutcome, values: [String: [String]] = [:], photos: [String: [UInt8]] = [:], key: String) {
        self.outcome = outcome; self.values = values; self.photos = photos; self.key = key
    }
}

/// Campaigns pushed down the net. Launching splits a campaign into one visit per door, each building's
/// visits assigned to its head (the grid worker where it has none), with a tally per building that every
/// answer updates in the same transaction — so progress anywhere in the net is a sum over a few thousand
/// rows, never a count over every visit. Scope is checked here, for every call.
public struct CampaignStore: Sendable {
    let database: Database
    let sealer: Sealer

    static let sealedCampaign = "排查任务 (campaign)"

    // MARK: who may do what

    /// Issuers and those above them manage a campaign; a department only its own.
    public static func manages(_ c: CampaignSummary, viewer: Viewer) -> Bool {
        guard Policy.mayRunCampaigns(viewer), viewer.covers(c.region) else { return false }
        return viewer.role != .departmentOfficer || c.issuerDepartment == viewer.department
    }

    /// Everyone whose part of the net the campaign reaches sees it (departments only their own); drafts only managers.
    public static func sees(_ c: CampaignSummary, viewer: Viewer) -> Bool {
        if manages(c, viewer: viewer) { return true }
        guard c.state != .draft, viewer.role != .resident, viewer.role != .apiToken else { return false }
        if viewer.role == .departmentOfficer { return false }
        return viewer.covers(c.region) || c.region.isWithin(viewer.scope) || viewer.scope.isWithin(c.region)
    }

    /// The part of the campaign a viewer looks at: the narrower of the two.
    public static func focus(_ c: CampaignSummary, viewer: Viewer) -> RegionCode {
        viewer.scope.isWithin(c.region) ? viewer.scope : c.region
    }


    // MARK: building

    /// Stores a draft. Region and tag targets are counted at launch; a list is matched now, so the draft
    /// page can show who was found and who needs placing by hand.
    public func create(_ draft: CampaignDraft, target: CampaignTarget, viewer: Viewer, address: String, now: Int64 = Clock.now()) async throws -> Int64 {
        guard Policy.mayRunCampaigns(viewer) else { throw StoreError.notFound(what: Self.sealedCampaign, key: "new") }
        let region = target.region
        guard region.level != .building, viewer.covers(region) else {
            throw StoreError.invalid(field: "范围 (region)", reason: "只能在本人负责的范围内发布 (only within your own area)")
        }
        guard try await database.reader.raw("SELECT 1 AS one FROM regions WHERE code = \(bind: region.value)").first() != nil else {
            throw StoreError.invalid(field: "范围 (region)", reason: "区划\(region)不存在 (no such region)")
        }
        var tags: [ResidentTag] = []
        if case .tags(_, let set) = target {
            let allowed = Policy.visibleTags(for: viewer) ?? []
            guard !set.isEmpty else { throw StoreError.invalid(field: "人员类别 (tags)", reason: "请至少选择一类 (choose at least one)") }
            guard set.isSubset(of: allowed) else {
                throw StoreError.invalid(field: "人员类别 (tags)", reason: "所选人员类别不在本部门职责内 (a tag outside your duty)")
            }
            tags = ResidentTag.allCases.filter(set.contains)
        }
        let tagList = tags
        let kindName: String = switch target { case .region: "region"; case .tags: "tags"; case .list: "list" }
        let formJSON = String(decoding: try JSONEncoder().encode(draft.form), as: UTF8.self)
        let issuer: String
        if let d = viewer.department { issuer = d.fullName } else {
            let name = try await database.reader.raw("SELECT name FROM regions WHERE code = \(bind: viewer.scope.value)").first()?
                .decode(column: "name", as: String.self)
            issuer = name ?? viewer.scope.value
        }
        let matches = try await matchList(target, viewer: viewer)
        let kind = database.kind, sealer = sealer
        return try await database.transaction { db in
            let id = try await db.raw("""
                INSERT INTO campaigns (title, issuer, issuer_login, issuer_department, region_code, instructions, deadline, form, template,
                    target_kind, target_tags, created_at)
                VALUES (\(bind: draft.title), \(bind: issuer), \(bind: viewer.login), \(bind: viewer.department?.rawValue), \(bind: region.value),
                    \(bind: draft.instructions), \(bind: draft.deadline.iso), \(bind: formJSON), \(bind: draft.template), \(bind: kindName),
                    \(bind: tagList.map(\.rawValue).joined(separator: ",")), \(bind: now))
                RETURNING id
                """).first()!.decode(column: "id", as: Int64.self)
            for m in matches {
                try await db.raw("""
                    INSERT INTO campaign_list (campaign_id, line, shown, entry_sealed, reason, resident_id, household_id)
                    VALUES (\(bind: id), \(bind: m.line), \(bind: m.shown), \(bind: m.raw.map { sealer.seal($0) }), \(bind: m.reason),
                        \(bind: m.residentID), \(bind: m.householdID))
                    """).run()
            }
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "campaigns.create", target: "campaign:\(id)",
                                      detail: "\(draft.title) \(kindName) \(region)\(matches.isEmpty ? "" : " list \(matches.count)")")
            return id
        }
    }

    struct Match { let line: Int; let shown: String; let raw: String?; let reason: String?; let residentID: Int64?; let householdID: Int64? }

    /// Finds each listed person among the people living in `region` now: by ID number (blind index), by phone,
    /// or by name and address; a name matching several people, or nobody, waits for placement by hand.
    func matchList(_ target: CampaignTarget, viewer: Viewer) async throws -> [Match] {
        guard case .list(let region, let entries) = target else { return [] }
        var out: [Match] = []
        var seen: Set<Int64> = []
        let within: SQLQueryString = "g.code >= \(bind: region.value) AND g.code < \(bind: region.value + ":")"
        for item in entries {
            let line = item.line, entry = item.entry
            let condition: SQLQueryString
            let raw: String
            switch entry {
            case .citizenID(let id): condition = "r.id_index = \(bind: sealer.blindIndex(id.value))"; raw = id.value
            case .phone(let p): condition = "r.phone_index = \(bind: sealer.blindIndex(p.value))"; raw = p.value
            case .nameAndAddress(let name, let address):
                condition = "r.name = \(bind: name) AND (r.address LIKE \(bind: "%" + Self.likeEscaped(address) + "%") ESCAPE '\\' OR b.address LIKE \(bind: "%" + Self.likeEscaped(address) + "%") ESCAPE '\\')"
                raw = "\(name) \(address)"
            }
            let found = try await database.reader.raw("""
                SELECT r.id, r.household_id FROM residents r JOIN buildings b ON b.id = r.building_id JOIN regions g ON g.id = b.grid_id
                WHERE \(condition) AND r.status = 'present' AND \(within) LIMIT 3
                """).all()
            var reason: String?
            var resident: Int64?, household: Int64?
            if found.isEmpty {
                reason = "在本范围的在册居民中未找到 (nobody living in this area matches)"
            } else if found.count > 1 {
                reason = "匹配到多人,请人工确认 (several people match; place by hand)"
            } else {
                let id = try found[0].decode(column: "id", as: Int64.self)
                if seen.insert(id).inserted {
                    resident = id
                    household = try found[0].decode(column: "household_id", as: Int64.self)
                } else {
                    reason = "名单中重复 (listed twice)"
                }
            }
            out.append(Match(line: line, shown: entry.masked, raw: raw, reason: reason, residentID: resident, householdID: household))
        }
        return out
    }

    static func likeEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
    }

    /// Records list lines that could not be read (bad check character, not a number …) beside the matched ones.
    public func recordUnreadable(_ problems: [TargetLineProblem], campaign id: Int64) async throws {
        guard !problems.isEmpty else { return }
        try await database.transaction { db in
            for p in problems {
                try await db.raw("""
                    INSERT INTO campaign_list (campaign_id, line, shown, reason) VALUES (\(bind: id), \(bind: p.line), \(bind: p.shown), \(bind: p.reason))
                    """).run()
            }
        }
    }

    // MARK: launching

    public struct Launch: Sendable, Equatable {
        public let visits: Int
        public let buildings: Int
        public let notified: Int
    }

    /// Splits the campaign at once: one visit per target door, each building's visits assigned and its assignee
    /// told (inbox and the grid's webhooks) — all in one transaction.
    public func launch(_ id: Int64, viewer: Viewer, address: String, now: Int64 = Clock.now()) async throws -> Launch {
        let c = try await summary(id, viewer: viewer)
        guard Self.manages(c, viewer: viewer) else { throw StoreError.notFound(what: Self.sealedCampaign, key: String(id)) }
        guard c.state == .draft else { throw StoreError.conflict("任务已发布 (already launched)") }
        let kind = database.kind
        let within: SQLQueryString = "g.code >= \(bind: c.region.value) AND g.code < \(bind: c.region.value + ":")"
        let households: SQLQueryString
        switch c.targetKind {
        case "tags":
            let tags = c.targetTags.map(\.rawValue)
            var list: SQLQueryString = "\(bind: tags[0])"
            for t in tags.dropFirst() { list = "\(list), \(bind: t)" }
            households = """
                SELECT \(bind: id), h.building_id, h.id, 'h' FROM households h JOIN buildings b ON b.id = h.building_id JOIN regions g ON g.id = b.grid_id
                WHERE \(within) AND h.id IN (SELECT r.household_id FROM residents r JOIN resident_tags t ON t.resident_id = r.id
                    WHERE t.tag IN (\(list)) AND r.status = 'present')
                """
        case "list":
            households = """
                SELECT \(bind: id), h.building_id, h.id, CASE WHEN l.resident_id IS NULL THEN 'l' || CAST(l.id AS TEXT) ELSE 'r' || CAST(l.resident_id AS TEXT) END
                FROM campaign_list l JOIN households h ON h.id = l.household_id WHERE l.campaign_id = \(bind: id)
                """
        default:
            households = """
                SELECT \(bind: id), h.building_id, h.id, 'h' FROM households h JOIN buildings b ON b.id = h.building_id JOIN regions g ON g.id = b.grid_id
                WHERE \(within) AND h.occupancy <> 'vacant'
                """
        }
        let text = "新排查任务:\(c.title)(\(c.issuer)),截止\(c.deadline.iso)"
        return try await database.transaction { db in
            guard try await db.raw("UPDATE campaigns SET state = 'running', launched_at = \(bind: now) WHERE id = \(bind: id) AND state = 'draft' RETURNING id")
                .first() != nil else { throw StoreError.conflict("任务已发布 (already launched)") }
            try await db.raw("INSERT INTO campaign_visits (campaign_id, building_id, household_id, subject) \(households) ON CONFLICT DO NOTHING").run()
            let tally = try await Self.tally(db, kind: kind, campaign: id, text: text, now: now)
            try await db.raw("""
                INSERT INTO deliveries (webhook_id, case_id, event, text, next_at, created_at)
                SELECT w.id, NULL, 'campaign.launched', \(bind: "【网格通】\(text),请楼栋长尽快入户。"), \(bind: now), \(bind: now) FROM webhooks w
                WHERE w.active = 1 AND w.grid_id IN (SELECT grid_id FROM campaign_buildings WHERE campaign_id = \(bind: id))
                """).run()
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "campaigns.launch", target: "campaign:\(id)",
                                      detail: "\(tally.visits) visits, \(tally.buildings) buildings")
            if kind == .postgres { try await db.raw("SELECT pg_notify('campaigns', \(bind: String(id)))").run() }
            return Launch(visits: tally.visits, buildings: tally.buildings, notified: tally.notified)
        }
    }

    /// Brings the per-building tallies in line with the visits: buildings new to the campaign get a row, assigned to
    /// their head's account (the grid worker's where the building has none) whose inbox gets `text`; the others are recounted.
    static func tally(_ db: any SQLDatabase, kind: DatabaseKind, campaign id: Int64, only buildings: [Int64]? = nil, text: String,
                      now: Int64) async throws -> (visits: Int, buildings: Int, notified: Int) {
        var filter: SQLQueryString = ""
        if let buildings, !buildings.isEmpty {
            var list: SQLQueryString = "\(bind: buildings[0])"
            for b in buildings.dropFirst() { list = "\(list), \(bind: b)" }
            filter = " AND v.building_id IN (\(list))"
        }
        let counts = try await db.raw("""
            SELECT v.building_id, b.grid_id, b.number, g.code, COUNT(*) AS total,
                SUM(CASE WHEN v.state = 'done' THEN 1 ELSE 0 END) AS done, SUM(CASE WHEN v.state = 'not_home' THEN 1 ELSE 0 END) AS not_home,
                SUM(v.finding) AS findings, cb.building_id AS known
            FROM campaign_visits v JOIN buildings b ON b.id = v.building_id JOIN regions g ON g.id = b.grid_id
            LEFT JOIN campaign_buildings cb ON cb.campaign_id = v.campaign_id AND cb.building_id = v.building_id
            WHERE v.campaign_id = \(bind: id)\(filter)
            GROUP BY v.building_id, b.grid_id, b.number, g.code, cb.building_id
            """).all()
        let heads = Set(try await db.raw("SELECT scope_code FROM users WHERE role = 'building_head' AND disabled = 0").all()
            .map { try $0.decode(column: "scope_code", as: String.self) })
        var fresh: [[any Encodable & Sendable]] = []
        var notices: [String: Int] = [:]
        var visits = 0
        for r in counts {
            let building = try r.decode(column: "building_id", as: Int64.self)
            let total = try r.decode(column: "total", as: Int.self)
            visits += total
            let done = try r.decode(column: "done", as: Int.self), notHome = try r.decode(column: "not_home", as: Int.self)
            let findings = try r.decode(column: "findings", as: Int.self)
            if try r.decode(column: "known", as: Int64?.self) != nil {
                try await db.raw("""
                    UPDATE campaign_buildings SET total = \(bind: total), done = \(bind: done), not_home = \(bind: notHome), findings = \(bind: findings)
                    WHERE campaign_id = \(bind: id) AND building_id = \(bind: building)
                    """).run()
                if let a = try await db.raw("SELECT assignee FROM campaign_buildings WHERE campaign_id = \(bind: id) AND building_id = \(bind: building)")
                    .first()?.decode(column: "assignee", as: String.self) { notices[a, default: 0] += 0 }
                continue
            }
            let grid = try RegionCode(r.decode(column: "code", as: String.self))
            let code = grid.child(try r.decode(column: "number", as: Int.self))
            let assignee = heads.contains(code.value) ? "role:building_head@\(code)" : "role:grid_worker@\(grid)"
            notices[assignee, default: 0] += total
            fresh.append([id, building, try r.decode(column: "grid_id", as: Int64.self), assignee, total, done, notHome, findings])
        }
        try await BulkInsert.rows(db, kind: kind, table: "campaign_buildings",
                                  columns: ["campaign_id", "building_id", "grid_id", "assignee", "total", "done", "not_home", "findings"], fresh)
        let inbox: [[any Encodable & Sendable]] = notices.sorted { $0.key < $1.key }.map { [$0.key, now, "\(text)\($0.value > 0 ? ",新增\($0.value)户待走访" : ",名单已更新")"] }
        try await BulkInsert.rows(db, kind: kind, table: "inbox", columns: ["recipient", "at", "text"], inbox)
        return (visits, counts.count, inbox.count)
    }

    /// Adds households to a draft or running campaign (by household number, from the registry's pages);
    /// their buildings' assignees are told. Households outside the campaign's region or the viewer's scope are refused.
    public func addHouseholds(_ ids: [Int64], to id: Int64, viewer: Viewer, address: String, now: Int64 = Clock.now()) async throws -> Int {
        let c = try await summary(id, viewer: viewer)
        guard Self.manages(c, viewer: viewer) else { throw StoreError.notFound(what: Self.sealedCampaign, key: String(id)) }
        guard c.state != .closed else { throw StoreError.conflict("任务已结束 (the campaign is closed)") }
        guard !ids.isEmpty, ids.count <= 500 else { throw StoreError.invalid(field: "住户编号 (households)", reason: "每次1到500户 (1 to 500 at a time)") }
        var rows: [(household: Int64, building: Int64)] = []
        for hid in Set(ids).sorted() {
            guard let r = try await database.reader.raw("""
                SELECT h.building_id, g.code FROM households h JOIN buildings b ON b.id = h.building_id JOIN regions g ON g.id = b.grid_id
                WHERE h.id = \(bind: hid)
                """).first(), let grid = try? RegionCode(r.decode(column: "code", as: String.self)), grid.isWithin(c.region) else {
                throw StoreError.invalid(field: "住户编号 (households)", reason: "住户\(hid)不存在或不在本任务范围内 (no such household in this campaign's area)")
            }
            rows.append((hid, try r.decode(column: "building_id", as: Int64.self)))
        }
        return try await addVisits(rows.map { ($0.household, $0.building, "h") }, campaign: c, viewer: viewer, address: address, now: now)
    }

    func addVisits(_ rows: [(household: Int64, building: Int64, subject: String)], campaign c: CampaignSummary, viewer: Viewer, address: String,
                   now: Int64) async throws -> Int {
        let kind = database.kind
        let running = c.state == .running
        return try await database.transaction { db in
            var added = 0
            for r in rows {
                added += try await db.raw("""
                    INSERT INTO campaign_visits (campaign_id, building_id, household_id, subject)
                    VALUES (\(bind: c.id), \(bind: r.building), \(bind: r.household), \(bind: r.subject)) ON CONFLICT DO NOTHING RETURNING id
                    """).all().count
            }
            if running {
                _ = try await Self.tally(db, kind: kind, campaign: c.id, only: Array(Set(rows.map(\.building))), text: "排查任务\(c.title)", now: now)
            }
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "campaigns.add", target: "campaign:\(c.id)",
                                      detail: "\(added) visits")
            if kind == .postgres { try await db.raw("SELECT pg_notify('campaigns', \(bind: String(c.id)))").run() }
            return added
        }
    }

    /// Places an unmatched list line on a household by hand; on a running campaign the visit starts at once.
    public func place(entry entryID: Int64, household: Int64, campaign id: Int64, viewer: Viewer, address: String, now: Int64 = Clock.now()) async throws {
        let c = try await summary(id, viewer: viewer)
        guard Self.manages(c, viewer: viewer) else { throw StoreError.notFound(what: Self.sealedCampaign, key: String(id)) }
        guard c.state != .closed else { throw StoreError.conflict("任务已结束 (the campaign is closed)") }
        guard try await database.reader.raw("""
            SELECT id FROM campaign_list WHERE id = \(bind: entryID) AND campaign_id = \(bind: id) AND household_id IS NULL
            """).first() != nil else { throw StoreError.notFound(what: "名单条目 (list entry)", key: String(entryID)) }
        guard let r = try await database.reader.raw("""
            SELECT h.building_id, g.code FROM households h JOIN buildings b ON b.id = h.building_id JOIN regions g ON g.id = b.grid_id WHERE h.id = \(bind: household)
            """).first(), let grid = try? RegionCode(r.decode(column: "code", as: String.self)), grid.isWithin(c.region) else {
            throw StoreError.invalid(field: "住户编号 (household)", reason: "住户\(household)不存在或不在本任务范围内 (no such household in this campaign's area)")
        }
        let building = try r.decode(column: "building_id", as: Int64.self)
        try await database.transaction { db in
            try await db.raw("""
                UPDATE campaign_list SET household_id = \(bind: household), placed_by = \(bind: viewer.login) WHERE id = \(bind: entryID)
                """).run()
        }
        if c.state == .running {
            _ = try await addVisits([(household, building, "l\(entryID)")], campaign: c, viewer: viewer, address: address, now: now)
        }
    }

    /// Gives one building's visits to another person of the net (a neighbouring building head, the grid worker …), who is told.
    public func reassign(building: RegionCode, to login: String, campaign id: Int64, viewer: Viewer, address: String, now: Int64 = Clock.now()) async throws {
        let c = try await summary(id, viewer: viewer)
        guard Self.manages(c, viewer: viewer) || (Policy.netOfficers.contains(viewer.role) && Self.sees(c, viewer: viewer) && viewer.covers(building))
        else { throw StoreError.notFound(what: Self.sealedCampaign, key: String(id)) }
        guard c.state == .running else { throw StoreError.conflict("只能调整进行中的任务 (only a running campaign)") }
        guard building.level == .building, viewer.covers(building) || Self.manages(c, viewer: viewer), let grid = building.parent,
              let row = try await database.reader.raw("""
                SELECT cb.building_id FROM campaign_buildings cb JOIN buildings b ON b.id = cb.building_id JOIN regions g ON g.id = b.grid_id
                WHERE cb.campaign_id = \(bind: id) AND g.code = \(bind: grid.value) AND b.number = \(bind: building.localNumber ?? 0)
                """).first() else { throw StoreError.invalid(field: "楼栋 (building)", reason: "本任务没有楼栋\(building) (no such building in this campaign)") }
        guard let user = try await database.reader.raw("SELECT role, scope_code, disabled FROM users WHERE login = \(bind: login)").first(),
              try user.decode(column: "disabled", as: Int.self) == 0,
              let role = Role(rawValue: try user.decode(column: "role", as: String.self)),
              [.buildingHead, .gridWorker, .gridLeader, .communityStaff].contains(role),
              let scope = try? RegionCode(user.decode(column: "scope_code", as: String.self)),
              building.isWithin(scope) || (role == .buildingHead && scope.parent == grid) else {
            throw StoreError.invalid(field: "接手人 (assignee)", reason: "\(login)不是本网格的楼栋长或网格工作人员 (not a building head or worker of this grid)")
        }
        let buildingID = try row.decode(column: "building_id", as: Int64.self)
        let kind = database.kind
        try await database.transaction { db in
            try await db.raw("""
                UPDATE campaign_buildings SET assignee = \(bind: Assignee.person(login).description) WHERE campaign_id = \(bind: id) AND building_id = \(bind: buildingID)
                """).run()
            try await db.raw("""
                INSERT INTO inbox (recipient, at, text) VALUES (\(bind: Assignee.person(login).description), \(bind: now),
                    \(bind: "排查任务\(c.title):楼栋\(building)的走访已转给您"))
                """).run()
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "campaigns.reassign", target: "campaign:\(id)",
                                      detail: "\(building) → \(login)")
        }
    }

    /// Ends a running campaign: no more answers are taken; what came in stays.
    public func close(_ id: Int64, viewer: Viewer, address: String, now: Int64 = Clock.now()) async throws {
        let c = try await summary(id, viewer: viewer)
        guard Self.manages(c, viewer: viewer) else { throw StoreError.notFound(what: Self.sealedCampaign, key: String(id)) }
        let kind = database.kind
        try await database.transaction { db in
            guard try await db.raw("UPDATE campaigns SET state = 'closed', closed_at = \(bind: now) WHERE id = \(bind: id) AND state = 'running' RETURNING id")
                .first() != nil else { throw StoreError.conflict("只能结束进行中的任务 (only a running campaign can be closed)") }
            try await AuditLog.append(db, kind: kind, actor: Actor(viewer, address: address), action: "campaigns.close", target: "campaign:\(id)")
            if kind == .postgres { try await db.raw("SELECT pg_notify('campaigns', \(bind: String(id)))").run() }
        }
    }

    // MARK: reading

    static let summaryColumns: SQLQueryString = """
        c.id, c.title, c.issuer, c.issuer_login, c.issuer_department, c.region_code, c.state, c.deadline, c.target_kind, c.target_tags, c.template,
        c.created_at, c.launched_at, c.closed_at, c.first_answer_at
        """

    static func summary(_ r: any SQLRow) throws -> CampaignSummary {
        CampaignSummary(
            id: try r.decode(column: "id", as: Int64.self), title: try r.decode(column: "title", as: String.self),
            issuer: try r.decode(column: "issuer", as: String.self), issuerLogin: try r.decode(column: "issuer_login", as: String.self),
            issuerDepartment: try r.decode(column: "issuer_department", as: String?.self).flatMap(Department.init(rawValue:)),
            region: try RegionCode(r.decode(column: "region_code", as: String.self)),
            state: CampaignState(rawValue: try r.decode(column: "state", as: String.self)) ?? .draft,
            deadline: CivilDate(iso: try r.decode(column: "deadline", as: String.self)) ?? CivilDate(year: 2026, month: 1, day: 1)!,
            targetKind: try r.decode(column: "target_kind", as: String.self),
            targetTags: try r.decode(column: "target_tags", as: String.self).split(separator: ",").compactMap { ResidentTag(rawValue: String($0)) },
            template: try r.decode(column: "template", as: String?.self), createdAt: try r.decode(column: "created_at", as: Int64.self),
            launchedAt: try r.decode(column: "launched_at", as: Int64?.self), closedAt: try r.decode(column: "closed_at", as: Int64?.self),
            firstAnswerAt: try r.decode(column: "first_answer_at", as: Int64?.self))
    }

    /// The campaign if the viewer may see it; "not found" otherwise.
    public func summary(_ id: Int64, viewer: Viewer) async throws -> CampaignSummary {
        guard let r = try await database.reader.raw("SELECT \(Self.summaryColumns) FROM campaigns c WHERE c.id = \(bind: id)").first(),
              case let c = try Self.summary(r), Self.sees(c, viewer: viewer) else { throw StoreError.notFound(what: Self.sealedCampaign, key: String(id)) }
        return c
    }

    public func campaign(_ id: Int64, viewer: Viewer) async throws -> Campaign {
        let c = try await summary(id, viewer: viewer)
        let r = try await database.reader.raw("SELECT instructions, form FROM campaigns WHERE id = \(bind: id)").first()!
        return Campaign(summary: c, instructions: try r.decode(column: "instructions", as: String.self),
                        form: try JSONDecoder().decode(CampaignForm.self, from: Data(try r.decode(column: "form", as: String.self).utf8)))
    }

    /// The campaigns that reach the viewer's part of the net, running first, newest first.
    public func list(_ viewer: Viewer, limit: Int = 100) async throws -> [CampaignSummary] {
        guard viewer.role != .resident, viewer.role != .apiToken else { return [] }
        let s = viewer.scope.value
        var condition: SQLQueryString = """
            ((c.region_code >= \(bind: s) AND c.region_code < \(bind: s + ":")) OR c.region_code = substr(\(bind: s), 1, length(c.region_code)))
            """
        if viewer.role == .departmentOfficer { condition = "\(condition) AND c.issuer_department = \(bind: viewer.department?.rawValue ?? "")" }
        return try await database.reader.raw("""
            SELECT \(Self.summaryColumns) FROM campaigns c WHERE \(condition)
            ORDER BY CASE c.state WHEN 'running' THEN 0 WHEN 'draft' THEN 1 ELSE 2 END, c.id DESC LIMIT \(bind: limit)
            """).all().map(Self.summary).filter { Self.sees($0, viewer: viewer) }
    }

    /// Progress under `node` (default: the viewer's part): its total, one row per child region — or per building
    /// under a grid — and the ten buildings furthest behind.
    public func overview(_ id: Int64, under node: RegionCode? = nil, viewer: Viewer) async throws -> CampaignOverview {
        let c = try await summary(id, viewer: viewer)
        let focus = Self.focus(c, viewer: viewer)
        let node = node ?? focus
        guard node.isWithin(focus) else { throw StoreError.notFound(what: "区划 (region)", key: node.value) }
        let db = database.reader
        let within: SQLQueryString = "g.code >= \(bind: node.value) AND g.code < \(bind: node.value + ":")"
        var children: [PlaceProgress] = []
        var total = CampaignProgress()
        let sums: SQLQueryString = "SUM(cb.total) AS total, SUM(cb.done) AS done, SUM(cb.not_home) AS not_home, SUM(cb.findings) AS findings"
        func progress(_ r: any SQLRow) throws -> CampaignProgress {
            CampaignProgress(total: try r.decode(column: "total", as: Int?.self) ?? 0, done: try r.decode(column: "done", as: Int?.self) ?? 0,
                             notHome: try r.decode(column: "not_home", as: Int?.self) ?? 0, findings: try r.decode(column: "findings", as: Int?.self) ?? 0)
        }
        if node.level == .grid || node.level == .building {
            let grid = node.level == .grid ? node : node.parent!
            var only: SQLQueryString = ""
            if node.level == .building { only = " AND b.number = \(bind: node.localNumber ?? 0)" }
            children = try await Self.buildings(db, campaign: id, where: "g.code = \(bind: grid.value)\(only)", order: "b.number", limit: 1000)
            total = children.reduce(CampaignProgress()) { $0 + $1.progress }
        } else {
            let childLevel = RegionLevel.allCases[RegionLevel.allCases.firstIndex(of: node.level)! + 1]
            let names = Dictionary(uniqueKeysWithValues: try await db.raw("""
                SELECT code, name FROM regions WHERE parent_id = (SELECT id FROM regions WHERE code = \(bind: node.value)) ORDER BY code
                """).all().map { (try $0.decode(column: "code", as: String.self), try $0.decode(column: "name", as: String.self)) })
            for r in try await db.raw("""
                SELECT substr(g.code, 1, \(unsafeRaw: String(childLevel.codeLength))) AS code, \(sums)
                FROM campaign_buildings cb JOIN regions g ON g.id = cb.grid_id
                WHERE cb.campaign_id = \(bind: id) AND \(within) GROUP BY substr(g.code, 1, \(unsafeRaw: String(childLevel.codeLength))) ORDER BY 1
                """).all() {
                let code = try r.decode(column: "code", as: String.self)
                let p = try progress(r)
                total = total + p
                children.append(PlaceProgress(code: try RegionCode(code), name: names[code] ?? code, progress: p, assignee: nil, lastAt: nil))
            }
        }
        let laggards = try await Self.buildings(db, campaign: id, where: "\(within) AND cb.done < cb.total",
                                                order: "CAST(cb.done AS DOUBLE PRECISION) / cb.total, cb.total - cb.done DESC, g.code, b.number", limit: 10)
        return CampaignOverview(node: node, total: total, children: children, laggards: laggards, firstAnswerAt: c.firstAnswerAt)
    }

    static func buildings(_ db: any SQLDatabase, campaign id: Int64, where condition: SQLQueryString, order: SQLQueryString, limit: Int) async throws -> [PlaceProgress] {
        try await db.raw("""
            SELECT g.code, b.number, b.name, cb.total, cb.done, cb.not_home, cb.findings, cb.assignee, cb.last_at
            FROM campaign_buildings cb JOIN buildings b ON b.id = cb.building_id JOIN regions g ON g.id = cb.grid_id
            WHERE cb.campaign_id = \(bind: id) AND \(condition) ORDER BY \(order) LIMIT \(bind: limit)
            """).all().map { r in
            PlaceProgress(code: try RegionCode(r.decode(column: "code", as: String.self)).child(try r.decode(column: "number", as: Int.self)),
                          name: try r.decode(column: "name", as: String.self),
                          progress: CampaignProgress(total: try r.decode(column: "total", as: Int.self), done: try r.decode(column: "done", as: Int.self),
                                                     notHome: try r.decode(column: "not_home", as: Int.self),
                                                     findings: try r.decode(column: "findings", as: Int.self)),
                          assignee: try r.decode(column: "assignee", as: String.self), lastAt: try r.decode(column: "last_at", as: Int64?.self))
        }
    }

    /// The doors this viewer is to knock on in a campaign (assigned to them, or — for the grid worker and up — in their
    /// scope), by building and room; `building` narrows to one.
    public func checklist(_ id: Int64, viewer: Viewer, building: RegionCode? = nil, limit: Int = 2000) async throws -> [VisitRow] {
        let c = try await summary(id, viewer: viewer)
        guard c.state != .draft else { return [] }
        // Through the buildings first (a few of 2,222 rows), so a building head's 30 doors never mean reading 67,000.
        var mine: SQLQueryString = "cb2.assignee = \(bind: viewer.inboxAddresses[0]) OR cb2.assignee = \(bind: viewer.inboxAddresses[1])"
        if Policy.netOfficers.contains(viewer.role) {
            mine = "\(mine) OR (g2.code >= \(bind: viewer.scope.value) AND g2.code < \(bind: viewer.scope.value + ":"))"
        }
        var condition: SQLQueryString = """
            v.campaign_id = \(bind: id) AND v.building_id IN (SELECT cb2.building_id FROM campaign_buildings cb2 JOIN regions g2 ON g2.id = cb2.grid_id
                WHERE cb2.campaign_id = \(bind: id) AND (\(mine)))
            """
        if let building, let grid = building.parent {
            condition = "\(condition) AND g.code = \(bind: grid.value) AND b.number = \(bind: building.localNumber ?? 0)"
        }
        return try await visits(condition, order: "g.code, b.number, h.unit, h.floor, h.number, v.id", limit: limit)
    }

    func visits(_ condition: SQLQueryString, order: SQLQueryString, limit: Int) async throws -> [VisitRow] {
        try await database.reader.raw("""
            SELECT v.id, v.campaign_id, v.household_id, v.state, v.attempts, v.answers, v.finding, v.case_id, v.answered_by, v.answered_at, v.version,
                h.room, b.number, b.address, g.code, r.name AS person
            FROM campaign_visits v JOIN campaign_buildings cb ON cb.campaign_id = v.campaign_id AND cb.building_id = v.building_id
            JOIN households h ON h.id = v.household_id JOIN buildings b ON b.id = v.building_id JOIN regions g ON g.id = b.grid_id
            LEFT JOIN residents r ON r.id = v.resident_id
            WHERE \(condition) ORDER BY \(order) LIMIT \(bind: limit)
            """).all().map { r in
            let answers = try r.decode(column: "answers", as: String?.self)
                .flatMap { try? JSONDecoder().decode(CampaignAnswers.self, from: Data($0.utf8)) } ?? [:]
            return VisitRow(id: try r.decode(column: "id", as: Int64.self), campaignID: try r.decode(column: "campaign_id", as: Int64.self),
                            householdID: try r.decode(column: "household_id", as: Int64.self),
                            building: try RegionCode(r.decode(column: "code", as: String.self)).child(try r.decode(column: "number", as: Int.self)),
                            address: try r.decode(column: "address", as: String.self), room: try r.decode(column: "room", as: String.self),
                            person: try r.decode(column: "person", as: String?.self),
                            state: VisitState(rawValue: try r.decode(column: "state", as: String.self)) ?? .pending,
                            attempts: try r.decode(column: "attempts", as: Int.self), answers: answers,
                            finding: try r.decode(column: "finding", as: Int.self) != 0, caseID: try r.decode(column: "case_id", as: Int64?.self),
                            answeredBy: try r.decode(column: "answered_by", as: String?.self), answeredAt: try r.decode(column: "answered_at", as: Int64?.self),
                            version: try r.decode(column: "version", as: Int.self))
        }
    }

    /// Answered doors in the viewer's part of the campaign, findings first (or only), newest first.
    public func results(_ id: Int64, viewer: Viewer, findingsOnly: Bool = false, limit: Int = 500) async throws -> [VisitRow] {
        let c = try await summary(id, viewer: viewer)
        guard Self.manages(c, viewer: viewer) || Policy.netOfficers.contains(viewer.role) else {
            throw StoreError.notFound(what: Self.sealedCampaign, key: String(id))
        }
        let focus = Self.focus(c, viewer: viewer)
        var condition: SQLQueryString = "v.campaign_id = \(bind: id) AND v.state <> 'pending' AND g.code >= \(bind: focus.value) AND g.code < \(bind: focus.value + ":")"
        if findingsOnly { condition = "\(condition) AND v.finding = 1" }
        return try await visits(condition, order: "v.finding DESC, v.answered_at DESC, v.id", limit: limit)
    }

    /// The unmatched and unreadable lines of the campaign's list, for placing by hand.
    public func listEntries(_ id: Int64, viewer: Viewer, unplacedOnly: Bool = true) async throws -> [ListEntry] {
        let c = try await summary(id, viewer: viewer)
        guard Self.manages(c, viewer: viewer) else { return [] }
        let filter: SQLQueryString = unplacedOnly ? " AND household_id IS NULL" : ""
        return try await database.reader.raw("""
            SELECT id, line, shown, reason, household_id FROM campaign_list WHERE campaign_id = \(bind: id)\(filter) ORDER BY line, id LIMIT 1000
            """).all().map { r in
            ListEntry(id: try r.decode(column: "id", as: Int64.self), line: try r.decode(column: "line", as: Int.self),
                      shown: try r.decode(column: "shown", as: String.self), reason: try r.decode(column: "reason", as: String?.self),
                      householdID: try r.decode(column: "household_id", as: Int64?.self))
        }
    }

    /// How many buildings the campaign reaches.
    public func buildingCount(_ id: Int64) async throws -> Int {
        try await database.reader.raw("SELECT COUNT(*) AS n FROM campaign_buildings WHERE campaign_id = \(bind: id)").first()!.decode(column: "n", as: Int.self)
    }

    /// How many list lines were matched to a household (the rest wait in `listEntries`).
    public func listMatched(_ id: Int64) async throws -> Int {
        try await database.reader.raw("SELECT COUNT(*) AS n FROM campaign_list WHERE campaign_id = \(bind: id) AND household_id IS NOT NULL")
            .first()!.decode(column: "n", as: Int.self)
    }

    /// How many doors a draft would reach if launched now.
    public func targetCount(_ c: CampaignSummary) async throws -> Int {
        let within: SQLQueryString = "g.code >= \(bind: c.region.value) AND g.code < \(bind: c.region.value + ":")"
        switch c.targetKind {
        case "list": return try await listMatched(c.id)
        case "tags":
            let tags = c.targetTags.map(\.rawValue)
            guard !tags.isEmpty else { return 0 }
            var list: SQLQueryString = "\(bind: tags[0])"
            for t in tags.dropFirst() { list = "\(list), \(bind: t)" }
            return try await database.reader.raw("""
                SELECT COUNT(DISTINCT r.household_id) AS n FROM residents r JOIN resident_tags t ON t.resident_id = r.id
                JOIN buildings b ON b.id = r.building_id JOIN regions g ON g.id = b.grid_id
                WHERE t.tag IN (\(list)) AND r.status = 'present' AND \(within)
                """).first()!.decode(column: "n", as: Int.self)
        default:
            return try await database.reader.raw("""
                SELECT COUNT(*) AS n FROM households h JOIN buildings b ON b.id = h.building_id JOIN regions g ON g.id = b.grid_id
                WHERE \(within) AND h.occupancy <> 'vacant'
                """).first()!.decode(column: "n", as: Int.self)
        }
    }

    // MARK: answering

    public struct Submitted: Sendable, Equatable {
        public let visit: Int64
        public let campaign: Int64
        public let state: VisitState
        /// True when this key was seen before: nothing was written again.
        public let repeated: Bool
    }

    /// Records what a door answered. The same key again (a retry after a dropped connection) changes nothing and
    /// answers as the first time did; two answers racing for one door never lose a step (the later one is refused).
    public func submit(_ s: VisitSubmission, visit id: Int64, viewer: Viewer, now: Int64 = Clock.now()) async throws -> Submitted {
        guard (8...80).contains(s.key.count), s.key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ":") }) else {
            throw StoreError.invalid(field: "提交编号 (key)", reason: "缺少或无效,请刷新页面后重试 (missing or invalid; reload the page)")
        }
        guard let r = try await database.reader.raw("""
            SELECT v.campaign_id, v.building_id, v.state, v.version, v.finding, c.state AS campaign_state, c.form, cb.assignee, b.number, g.code
            FROM campaign_visits v JOIN campaigns c ON c.id = v.campaign_id
            JOIN campaign_buildings cb ON cb.campaign_id = v.campaign_id AND cb.building_id = v.building_id
            JOIN buildings b ON b.id = v.building_id JOIN regions g ON g.id = b.grid_id WHERE v.id = \(bind: id)
            """).first() else { throw StoreError.notFound(what: "走访 (visit)", key: String(id)) }
        let building = try RegionCode(r.decode(column: "code", as: String.self)).child(try r.decode(column: "number", as: Int.self))
        let assignee = try r.decode(column: "assignee", as: String.self)
        guard viewer.role != .departmentOfficer, viewer.role != .resident, viewer.role != .apiToken,
              viewer.covers(building) || viewer.inboxAddresses.contains(assignee) else {
            throw StoreError.notFound(what: "走访 (visit)", key: String(id))
        }
        let campaignID = try r.decode(column: "campaign_id", as: Int64.self)
        if let seen = try await repeatedKey(s.key, visit: id, campaign: campaignID) { return seen }
        let old = VisitState(rawValue: try r.decode(column: "state", as: String.self)) ?? .pending
        let version = try r.decode(column: "version", as: Int.self)
        let oldFinding = try r.decode(column: "finding", as: Int.self) != 0
        let campaignState = CampaignState(rawValue: try r.decode(column: "campaign_state", as: String.self)) ?? .draft
        let form = try JSONDecoder().decode(CampaignForm.self, from: Data(try r.decode(column: "form", as: String.self).utf8))
        let new: VisitState
        var answers: CampaignAnswers = [:]
        var photoTypes: [String: String] = [:]
        do {
            new = try VisitRule.apply(s.outcome, to: old, campaign: campaignState)
            if s.outcome == .answered {
                var values = s.values
                for (key, bytes) in s.photos where form.fields.contains(where: { $0.key == key && $0.kind == .photo }) {
                    photoTypes[key] = try PhotoCheck.contentType(of: bytes)
                    values[key] = ["photo"]
                }
                for f in form.fields where f.kind == .photo && photoTypes[f.key] == nil { values[f.key] = [] }
                answers = try form.answers(from: values)
                for key in photoTypes.keys where answers[key] == nil { photoTypes[key] = nil }
            }
        } catch {
            throw StoreError.invalid(field: error.field, reason: error.reason)
        }
        let finding = s.outcome == .answered ? !form.findings(in: answers).isEmpty : oldFinding
        let buildingID = try r.decode(column: "building_id", as: Int64.self)
        let kind = database.kind
        let photos = s.photos
        let checked = answers, types = photoTypes
        do {
            return try await database.transaction { db in
                if let seen = try await Self.repeatedKey(db, s.key, visit: id, campaign: campaignID) { return seen }
                var stored = checked
                for (key, type) in types.sorted(by: { $0.key < $1.key }) {
                    let bytes = photos[key]!
                    let photo = try await db.raw("""
                        INSERT INTO campaign_photos (visit_id, content_type, size, data) VALUES (\(bind: id), \(bind: type), \(bind: bytes.count), \(bind: Data(bytes)))
                        RETURNING id
                        """).first()!.decode(column: "id", as: Int64.self)
                    stored[key] = "photo:\(photo)"
                }
                let json = s.outcome == .answered ? String(decoding: try JSONEncoder().encode(stored), as: UTF8.self) : nil
                guard try await db.raw("""
                    UPDATE campaign_visits SET state = \(bind: new.rawValue), attempts = attempts + 1,
                        answers = COALESCE(\(bind: json), answers), finding = \(bind: finding ? 1 : 0),
                        answered_by = \(bind: viewer.login), answered_at = \(bind: now), version = version + 1
                    WHERE id = \(bind: id) AND version = \(bind: version) RETURNING id
                    """).first() != nil else {
                    throw StoreError.conflict("该户刚被他人更新,请刷新后再填 (someone else just updated this door; reload)")
                }
                let done = (new == .done ? 1 : 0) - (old == .done ? 1 : 0)
                let notHome = (new == .notHome ? 1 : 0) - (old == .notHome ? 1 : 0)
                let findings = (finding ? 1 : 0) - (oldFinding ? 1 : 0)
                try await db.raw("""
                    UPDATE campaign_buildings SET done = done + \(bind: done), not_home = not_home + \(bind: notHome), findings = findings + \(bind: findings),
                        last_at = \(bind: now) WHERE campaign_id = \(bind: campaignID) AND building_id = \(bind: buildingID)
                    """).run()
                if new == .done {
                    try await db.raw("UPDATE campaigns SET first_answer_at = \(bind: now) WHERE id = \(bind: campaignID) AND first_answer_at IS NULL").run()
                }
                try await db.raw("""
                    INSERT INTO campaign_answers (visit_id, idempotency_key, outcome, answers, actor, at)
                    VALUES (\(bind: id), \(bind: s.key), \(bind: s.outcome.rawValue), \(bind: json), \(bind: viewer.login), \(bind: now))
                    """).run()
                if kind == .postgres { try await db.raw("SELECT pg_notify('campaigns', \(bind: String(campaignID)))").run() }
                return Submitted(visit: id, campaign: campaignID, state: new, repeated: false)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            // Two tries with one key at the same moment: the loser's insert hits the unique key; answer as the winner did.
            if let seen = try await repeatedKey(s.key, visit: id, campaign: campaignID) { return seen }
            throw error
        }
    }

    func repeatedKey(_ key: String, visit id: Int64, campaign: Int64) async throws -> Submitted? {
        try await Self.repeatedKey(database.reader, key, visit: id, campaign: campaign)
    }

    static func repeatedKey(_ db: any SQLDatabase, _ key: String, visit id: Int64, campaign: Int64) async throws -> Submitted? {
        guard let r = try await db.raw("""
            SELECT a.visit_id, v.state FROM campaign_answers a JOIN campaign_visits v ON v.id = a.visit_id WHERE a.idempotency_key = \(bind: key)
            """).first() else { return nil }
        guard try r.decode(column: "visit_id", as: Int64.self) == id else {
            throw StoreError.conflict("提交编号已用于另一户,请刷新页面 (this key was used for another door; reload)")
        }
        return Submitted(visit: id, campaign: campaign, state: VisitState(rawValue: try r.decode(column: "state", as: String.self)) ?? .pending, repeated: true)
    }

    /// A photo taken at a door the viewer may see.
    public func photo(_ photoID: Int64, visit id: Int64, viewer: Viewer) async throws -> (contentType: String, bytes: [UInt8]) {
        guard try await visibleVisit(id, viewer: viewer) != nil,
              let r = try await database.reader.raw("SELECT content_type, data FROM campaign_photos WHERE id = \(bind: photoID) AND visit_id = \(bind: id)").first()
        else { throw StoreError.notFound(what: "照片 (photo)", key: String(photoID)) }
        return (try r.decode(column: "content_type", as: String.self), [UInt8](try r.decode(column: "data", as: Data.self)))
    }

    /// The visit if the viewer may see it: assigned to them, in their scope, or in a campaign they manage.
    func visibleVisit(_ id: Int64, viewer: Viewer) async throws -> VisitRow? {
        guard let v = try await visits("v.id = \(bind: id)", order: "v.id", limit: 1).first,
              let c = try? await summary(v.campaignID, viewer: viewer) else { return nil }
        if Self.manages(c, viewer: viewer) || (viewer.role != .departmentOfficer && viewer.covers(v.building)) { return v }
        let assignee = try await database.reader.raw("""
            SELECT cb.assignee FROM campaign_buildings cb JOIN campaign_visits v ON v.campaign_id = cb.campaign_id AND v.building_id = cb.building_id
            WHERE v.id = \(bind: id)
            """).first()?.decode(column: "assignee", as: String.self)
        return assignee.map(viewer.inboxAddresses.contains) == true ? v : nil
    }

    /// Turns a finding into a matter of the closed loop, in one step; doing it twice gives the same matter.
    public func makeCase(visit id: Int64, viewer: Viewer, cases: CaseStore) async throws -> Int64 {
        guard viewer.role.isNetStaff, viewer.role != .apiToken, let v = try await visibleVisit(id, viewer: viewer) else { throw StoreError.notFound(what: "走访 (visit)", key: String(id)) }
        if let existing = v.caseID { return existing }
        let campaign = try await self.campaign(v.campaignID, viewer: viewer)
        guard let first = campaign.form.findings(in: v.answers).first else {
            throw StoreError.invalid(field: "走访 (visit)", reason: "该户没有需处置的情况 (nothing at this door needs action)")
        }
        let name = try await database.reader.raw("SELECT name FROM users WHERE login = \(bind: viewer.login)").first()?.decode(column: "name", as: String.self)
        let channel: Channel = viewer.role == .buildingHead ? .buildingHead : viewer.role == .gridWorker ? .gridWorker : .patrol
        let report = CaseReport(category: first.category, title: String("排查发现:\(first.field.label)".prefix(60)),
                                description: String("〔\(campaign.summary.title)〕\(v.address)\(v.room)\(v.person.map { " \($0)" } ?? ""):\(campaign.form.summary(v.answers))".prefix(2000)),
                                reporterName: name ?? viewer.login, reporterPhone: nil, channel: channel)
        let made = try await cases.report(report, at: .household(v.householdID), by: viewer, idempotencyKey: "campaign-visit:\(id)")
        try await database.transaction { db in
            try await db.raw("UPDATE campaign_visits SET case_id = \(bind: made.id) WHERE id = \(bind: id)").run()
        }
        return made.id
    }
}
