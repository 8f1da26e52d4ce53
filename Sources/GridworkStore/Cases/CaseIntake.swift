import Foundation
import GridworkCore
import SQLKit

/// What the matters of one store share across requests: the categories and working calendar (read on every
/// report, changed a few times a year) and the intake queue that writes concurrent reports in one transaction.
final class CaseShared: Sendable {
    /// How long the categories and calendar are kept before they are read again. Changes made through this
    /// process take effect at once; changes made by another process within this many seconds.
    static let rulesLifetime: Int64 = 5

    private struct Kept: Sendable { let rules: CaseRules; let read: ContinuousClock.Instant }
    private let rules = Locked<(kept: Kept?, generation: UInt64)>((nil, 0))
    let intake: GroupCommit<CaseIntake.Item, CaseIntake.Made>

    init(database: Database) {
        intake = GroupCommit(database: database, limit: 200, write: CaseIntake.write)
    }

    func rules(load: () async throws -> CaseRules) async throws -> CaseRules {
        let now = ContinuousClock.now
        let (kept, generation) = rules.withLock { ($0.kept, $0.generation) }
        if let kept, now - kept.read < .seconds(Self.rulesLifetime) { return kept.rules }
        let fresh = try await load()
        // A change made here while this read was under way has already said to forget: keep nothing from before it.
        rules.withLock { if $0.generation == generation { $0.kept = Kept(rules: fresh, read: now) } }
        return fresh
    }

    func forgetRules() { rules.withLock { $0.kept = nil; $0.generation &+= 1 } }
}

/// The categories by code and the working calendar: what a report needs to start its clock.
struct CaseRules: Sendable {
    let categories: [CaseCategory]
    let byCode: [String: CaseCategory]
    let calendar: WorkCalendar

    init(categories: [CaseCategory], calendar: WorkCalendar) {
        self.categories = categories; self.calendar = calendar
        byCode = Dictionary(uniqueKeysWithValues: categories.map { ($0.code, $0) })
    }
}

/// Writing reports in groups (see `GroupCommit`): each report's row, its first step, the notice to the grid
/// worker, the grid's webhooks and the figures' sums, for a whole batch in six statements.
enum CaseIntake {
    struct Item: Sendable {
        let code: String
        let report: CaseReport
        let category: CaseCategory
        let place: CaseStore.Place
        let clock: (due: Int64?, yellow: Int64?, red: Int64?)
        let now: Int64
        let reporterLogin: String?
        let reporterRole: String
        let phone: (sealed: String, index: String, masked: String)?
        let idempotencyKey: String?
        let photos: [(contentType: String, bytes: [UInt8])]
    }

    struct Made: Sendable { let id: Int64; let code: String }

    static let caseColumns = "code, category, severity, title, description, state, grid_id, building_id, household_id, address, latitude, longitude, "
        + "channel, reporter_login, reporter_name, reporter_phone_sealed, reporter_phone_index, reporter_phone_masked, "
        + "reported_at, stage_started_at, yellow_at, red_at, due_at, idempotency_key"

    @Sendable static func write(_ items: [Item], _ db: any SQLDatabase) async throws -> [Made] {
        let rows = items.map { i -> SQLQueryString in
            """
            (\(bind: i.code), \(bind: i.category.code), \(bind: i.report.severity.rawValue), \(bind: i.report.title), \(bind: i.report.description),
             'reported', \(bind: i.place.gridID), \(bind: i.place.buildingID), \(bind: i.place.householdID), \(bind: i.place.address),
             \(bind: i.place.latitude), \(bind: i.place.longitude), \(bind: i.report.channel.rawValue), \(bind: i.reporterLogin), \(bind: i.report.reporterName),
             \(bind: i.phone?.sealed), \(bind: i.phone?.index), \(bind: i.phone?.masked), \(bind: i.now), \(bind: i.now),
             \(bind: i.clock.yellow), \(bind: i.clock.red), \(bind: i.clock.due), \(bind: i.idempotencyKey))
            """
        }
        var ids: [String: Int64] = [:]
        for r in try await db.raw("INSERT INTO cases (\(unsafeRaw: caseColumns)) VALUES \(joined(rows)) RETURNING id, code").all() {
            ids[try r.decode(column: "code", as: String.self)] = try r.decode(column: "id", as: Int64.self)
        }
        try await CaseTallies.lock(db, grids: items.map(\.place.gridID))
        let made = try items.map { i in
            guard let id = ids[i.code] else { throw StoreError.invalid(field: "事项 (matter)", reason: "写入后未找到 (not found after insert)") }
            return Made(id: id, code: i.code)
        }
        try await CaseTallies.add(db, sign: 1, where: "c.id IN (\(binds: made.map(\.id)))")
        let steps = zip(items, made).map { i, m -> SQLQueryString in
            "(\(bind: m.id), \(bind: i.now), 'report', NULL, 'reported', \(bind: i.reporterLogin ?? "reporter"), \(bind: i.reporterRole), \(bind: i.report.channel.label), NULL)"
        }
        var stepOf: [Int64: Int64] = [:]
        for r in try await db.raw("""
            INSERT INTO case_steps (case_id, at, action, from_state, to_state, actor, actor_role, note, on_time) VALUES \(joined(steps)) RETURNING id, case_id
            """).all() {
            stepOf[try r.decode(column: "case_id", as: Int64.self)] = try r.decode(column: "id", as: Int64.self)
        }
        for (i, m) in zip(items, made) {
            for p in i.photos {
                try await db.raw("""
                    INSERT INTO case_photos (case_id, step_id, content_type, size, data)
                    VALUES (\(bind: m.id), \(bind: stepOf[m.id]), \(bind: p.contentType), \(bind: p.bytes.count), \(bind: Data(p.bytes)))
                    """).run()
            }
        }
        let notices = zip(items, made).map { i, m -> SQLQueryString in
            "(\(bind: "role:grid_worker@\(i.place.gridCode)"), \(bind: m.id), \(bind: i.now), \(bind: "新事项待受理:\(i.report.title)"))"
        }
        try await db.raw("INSERT INTO inbox (recipient, case_id, at, text) VALUES \(joined(notices))").run()
        try await WebhookStore.enqueue(db, zip(items, made).map { i, m in
            (m.id, "case.reported", "【网格通】新事项待受理:\(i.report.title)(\(i.category.name))地点:\(i.place.address)", i.now)
        })
        if db.dialect.name == "postgresql" {
            try await db.raw("SELECT pg_notify('cases', \(bind: made.map { String($0.id) }.joined(separator: ",")))").run()
        }
        return made
    }

    static func joined(_ parts: [SQLQueryString]) -> SQLQueryString {
        var out = parts[0]
        for p in parts.dropFirst() { out = "\(out), \(p)" }
        return out
    }
}
