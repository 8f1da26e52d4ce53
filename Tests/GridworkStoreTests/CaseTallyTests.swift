import Foundation
import GridworkCore
@testable import GridworkStore
import GridworkTestSupport
import SQLKit
import Testing

/// The figures' running sums against a recount from the matters themselves, and reports arriving together.
@Suite struct CaseTallyTests {
    typealias T = CaseStoreTests

    /// Every (grid, assignee, day) sum recounted from `cases`, rows of all zeros left out.
    static func recount(_ db: any SQLDatabase) async throws -> [String: [Int64]] {
        let sums = CaseTallies.measures.map { "CAST(SUM(\($0.expression)) AS BIGINT) AS \($0.column)" }.joined(separator: ", ")
        var out: [String: [Int64]] = [:]
        for assignee in ["COALESCE(c.assignee, '')", "'\(CaseTallies.everyone)'"] {
            for r in try await db.raw("""
                SELECT c.grid_id, \(unsafeRaw: assignee) AS a, \(unsafeRaw: CaseTallies.day("c.reported_at")) AS d, \(unsafeRaw: sums)
                FROM cases c GROUP BY 1, 2, 3
                """).all() {
                out["\(try r.decode(column: "grid_id", as: Int64.self))/\(try r.decode(column: "a", as: String.self))/\(try r.decode(column: "d", as: Int64.self))"] =
                    try CaseTallies.measures.map { try r.decode(column: $0.column, as: Int64.self) }
            }
        }
        return out
    }

    static func kept(_ db: any SQLDatabase) async throws -> [String: [Int64]] {
        var out: [String: [Int64]] = [:]
        for r in try await db.raw("SELECT * FROM case_tallies").all() {
            let values = try CaseTallies.measures.map { try r.decode(column: $0.column, as: Int64.self) }
            guard values.contains(where: { $0 != 0 }) else { continue }
            out["\(try r.decode(column: "grid_id", as: Int64.self))/\(try r.decode(column: "assignee", as: String.self))/\(try r.decode(column: "day", as: Int64.self))"] = values
        }
        return out
    }

    @Test func theSumsFollowEveryStepIncludingReassignmentReworkAndReopening() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let t = T.monday, building = try RegionCode(T.building), cases = store.cases
            // setup: three matters on two days; one goes round with a failed check, one is reassigned, one closes and is reopened
            let a = try await cases.report(T.rubbish(), at: .building(building), by: nil, now: t)
            let b = try await cases.report(T.rubbish(), at: .building(building), by: nil, now: t + 86_400)
            let c = try await cases.report(T.rubbish(), at: .building(building), by: nil, now: t + 100)
            func walk(_ id: Int64, _ steps: [(CaseAction, CaseActor, Int64)]) async throws {
                var v = 1
                for (action, actor, at) in steps { v = try await cases.act(action, on: id, version: v, actor: actor, now: at) }
            }
            let w = CaseActor.viewer(T.worker), h = CaseActor.viewer(T.head)
            try await walk(a.id, [(.accept, w, t + 600), (.file, w, t + 700), (.dispatch(to: .person(T.head.login)), w, t + 800), (.take, h, t + 900),
                                  (.reportDone(note: "清走了"), h, t + 1000), (.verify(passed: false, note: "还有"), w, t + 1100),
                                  (.reportDone(note: "清干净了"), h, t + 1200), (.verify(passed: true, note: "好"), w, t + 1300)])
            try await walk(b.id, [(.accept, w, t + 86_500), (.file, w, t + 86_600), (.dispatch(to: .person(T.head.login)), w, t + 86_700),
                                  (.reassign(to: .department(.civilAffairs)), w, t + 86_800)])
            try await walk(c.id, [(.accept, w, t + 600), (.file, w, t + 700), (.dispatch(to: .person(T.head.login)), w, t + 800), (.take, h, t + 900),
                                  (.reportDone(note: "修好了"), h, t + 1000), (.verify(passed: true, note: "好"), w, t + 1100),
                                  (.rate(score: 1, comment: "没修好"), .reporter(code: c.code, phone: T.phone), t + 1200),
                                  (.reopen(reason: "又坏了"), .reporter(code: c.code, phone: T.phone), t + 1300)])
            // check: the kept sums are exactly a recount, and the figures read them
            let db = store.database.reader
            let kept = try await Self.kept(db), recount = try await Self.recount(db)
            #expect(kept == recount)
            // (building head, day 1), (everyone, day 1), (civil affairs, day 2), (everyone, day 2); the unassigned rows went back to zero
            #expect(kept.count == 4)
            let county = Viewer(userID: 0, login: "admin", role: .countyAdmin, scope: .county("430524"))
            let figures = try await cases.figures(under: .county("430524"), from: T.day(t), to: T.day(t + 86_400), viewer: county)
            // Reopening takes the unhappy rating back (it is on the timeline, not on the matter).
            #expect(figures.total.reported == 3 && figures.total.closed == 1 && figures.total.reworked == 1 && figures.total.rated == 0)
            let firstDay = try await cases.figures(under: .county("430524"), from: T.day(t), to: T.day(t), viewer: county)
            #expect(firstDay.total.reported == 2)
        }
    }

    @Test func reportsArrivingTogetherEachLandOnceAndASecondSendingOfOneFormMakesOneMatter() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let building = try RegionCode(T.building), cases = store.cases
            // act: forty reports at once, and the same form sent eight times at once
            let made = try await withThrowingTaskGroup(of: (Int64, String).self) { group in
                for _ in 0..<40 { group.addTask { try await cases.report(T.rubbish(), at: .building(building), by: nil, now: T.monday) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let same = try await withThrowingTaskGroup(of: Int64.self) { group in
                for _ in 0..<8 { group.addTask { try await cases.report(T.rubbish(), at: .building(building), by: nil, idempotencyKey: "web:same", now: T.monday).id } }
                return try await group.reduce(into: Set<Int64>()) { $0.insert($1) }
            }
            // check: forty distinct matters and one more, each with its first step, notice and sums
            #expect(Set(made.map(\.0)).count == 40 && Set(made.map(\.1)).count == 40)
            #expect(same.count == 1)
            let db = store.database.reader
            let n = { (sql: SQLQueryString) in try await db.raw(sql).first()!.decode(column: "n", as: Int.self) }
            #expect(try await n("SELECT COUNT(*) AS n FROM cases") == 41)
            #expect(try await n("SELECT COUNT(*) AS n FROM case_steps WHERE action = 'report'") == 41)
            #expect(try await n("SELECT COUNT(*) AS n FROM inbox WHERE case_id IS NOT NULL") == 41)
            #expect(try await Self.kept(db) == (try await Self.recount(db)))
            let detail = try await cases.detail(made[0].0, actor: .viewer(T.worker), now: T.monday)
            #expect(detail.steps.map(\.action) == ["report"] && detail.row.state == .reported && detail.row.dueAt != nil)
        }
    }

    @Test func aRefusedPhotoFailsOnlyItsOwnReport() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let building = try RegionCode(T.building), cases = store.cases
            // setup: one report whose photo is refused, among good ones sent at the same moment
            let results = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<12 {
                    group.addTask {
                        let photos = i == 5 ? [CasePhoto(bytes: Array("not an image".utf8))] : []
                        do { _ = try await cases.report(T.rubbish(), at: .building(building), photos: photos, by: nil, now: T.monday); return true }
                        catch StoreError.invalid { return false }
                    }
                }
                return try await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 11)
            let count = try await store.database.reader.raw("SELECT COUNT(*) AS n FROM cases").first()!.decode(column: "n", as: Int.self)
            #expect(count == 11)
        }
    }

    @Test func stepsAndReportsInOneGridAtOnceNeitherDeadlockNorLoseASum() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let building = try RegionCode(T.building), cases = store.cases, w = CaseActor.viewer(T.worker)
            // setup: twelve matters taken in and filed, so each can be dispatched
            var ids: [Int64] = []
            for _ in 0..<12 {
                let id = try await cases.report(T.rubbish(), at: .building(building), by: nil, now: T.monday).id
                _ = try await cases.act(.accept, on: id, version: 1, actor: w, now: T.monday + 60)
                _ = try await cases.act(.file, on: id, version: 2, actor: w, now: T.monday + 120)
                ids.append(id)
            }
            // act: dispatch every one (unassigned → building head, i.e. rows '' and the head's in one grid) while
            // twenty more reports for the same grid and day arrive
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in ids {
                    group.addTask { _ = try await cases.act(.dispatch(to: .person(T.head.login)), on: id, version: 3, actor: w, now: T.monday + 180) }
                }
                for _ in 0..<20 {
                    group.addTask { _ = try await cases.report(T.rubbish(), at: .building(building), by: nil, now: T.monday) }
                }
                try await group.waitForAll()
            }
            // check: every step and report landed and the sums are still a recount
            let db = store.database.reader
            #expect(try await Self.kept(db) == (try await Self.recount(db)))
            let county = Viewer(userID: 0, login: "admin", role: .countyAdmin, scope: .county("430524"))
            let figures = try await cases.figures(under: try RegionCode(T.grid), by: .assignee, from: T.day(T.monday), to: T.day(T.monday), viewer: county)
            #expect(figures.rows.first { $0.key == "user:\(T.head.login)" }?.reported == 12)
            #expect(figures.total.reported == 32)
        }
    }

    @Test func sumsBrokenByHandAreCountedAgainFromTheMatters() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let building = try RegionCode(T.building)
            for _ in 0..<3 { _ = try await store.cases.report(T.rubbish(), at: .building(building), by: nil, now: T.monday) }
            // setup: someone edits the sums by hand
            try await store.database.transaction { db in
                try await db.raw("UPDATE case_tallies SET reported = reported + 40, closed = 7").run()
                try await db.raw("INSERT INTO case_tallies (grid_id, assignee, day, reported) SELECT id, 'user:nobody', 1, 5 FROM regions WHERE level = 'grid' LIMIT 1").run()
            }
            let db = store.database.reader
            #expect(try await Self.kept(db) != (try await Self.recount(db)))
            // act
            let rows = try await CaseTallies.rebuild(store.database)
            // check: the matters' own count again, and nothing else
            #expect(rows == 2)
            #expect(try await Self.kept(db) == (try await Self.recount(db)))
        }
    }
}
