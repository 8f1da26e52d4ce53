import Foundation
import GridworkCore
import GridworkDemo
import GridworkStore
import GridworkTestSupport
import SQLKit
import Testing

@Suite struct CaseHistoryTests {
    /// Friday 27 November 2026, 10:00 in Beijing.
    static let now = CivilDate(year: 2026, month: 11, day: 27)!.daysSinceEpoch * 86_400 - 8 * 3600 + 10 * 3600

    @Test func aHistoryHasEveryStateWithStepsThatAgree() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            // setup, act
            let result = try await CaseHistory.load(into: store, count: 2_000, seed: 11, now: Self.now, batchSize: 700)
            let db = store.database.reader

            // check: every matter landed, every state occurs, most are closed
            #expect(result.cases == 2_000)
            let states = try await db.raw("SELECT state, COUNT(*) AS n FROM cases GROUP BY state").all()
                .reduce(into: [String: Int]()) { $0[try $1.decode(column: "state", as: String.self)] = try $1.decode(column: "n", as: Int.self) }
            #expect(Set(states.keys) == Set(CaseState.allCases.map(\.rawValue)))
            #expect(states.values.reduce(0, +) == 2_000)
            #expect(states["closed", default: 0] > 1_600)
            #expect(try await db.raw("SELECT COUNT(*) AS n FROM case_steps").first()!.decode(column: "n", as: Int.self) == result.steps)

            // check: the timeline starts with the report, ends in the matter's state, and counts its version
            let rows = try await db.raw("""
                SELECT c.id, c.state, c.version, c.reported_at, c.closed_at, c.due_at, c.rating,
                       c.accepted_at, c.dispatched_at, c.done_at, c.handled_on_time, c.closed_on_time,
                       (SELECT COUNT(*) FROM case_steps s WHERE s.case_id = c.id) AS steps,
                       (SELECT s.action FROM case_steps s WHERE s.case_id = c.id ORDER BY s.id LIMIT 1) AS first_action,
                       (SELECT s.at FROM case_steps s WHERE s.case_id = c.id ORDER BY s.id LIMIT 1) AS first_at,
                       (SELECT s.to_state FROM case_steps s WHERE s.case_id = c.id ORDER BY s.id DESC LIMIT 1) AS last_state,
                       (SELECT MAX(s.at) FROM case_steps s WHERE s.case_id = c.id) AS last_at
                FROM cases c
                """).all()
            #expect(rows.count == 2_000)
            for r in rows {
                let state = CaseState(rawValue: try r.decode(column: "state", as: String.self))!
                #expect(try r.decode(column: "first_action", as: String.self) == "report")
                #expect(try r.decode(column: "first_at", as: Int64.self) == (try r.decode(column: "reported_at", as: Int64.self)))
                #expect(try r.decode(column: "last_state", as: String.self) == state.rawValue)
                #expect(try r.decode(column: "steps", as: Int.self) == (try r.decode(column: "version", as: Int.self)))
                #expect(try r.decode(column: "last_at", as: Int64.self) <= Self.now)
                #expect((try r.decode(column: "closed_at", as: Int64?.self) != nil) == (state == .closed))
                #expect((try r.decode(column: "due_at", as: Int64?.self) != nil) == ![.closed, .declined, .suspended].contains(state))
                if try r.decode(column: "rating", as: Int?.self) != nil { #expect(state == .closed) }
                if state == .closed {
                    for column in ["accepted_at", "dispatched_at", "done_at", "handled_on_time", "closed_on_time"] {
                        #expect(try r.decode(column: column, as: Int64?.self) != nil)
                    }
                }
            }
        }
    }

    @Test func aGridWorkersInboxShowsTheirMatters() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            // setup
            try await CaseHistory.load(into: store, count: 2_000, seed: 11, now: Self.now)
            let waiting = try await store.database.reader.raw("""
                SELECT g.code FROM cases c JOIN regions g ON g.id = c.grid_id WHERE c.state = 'reported' ORDER BY c.id LIMIT 1
                """).first()!.decode(column: "code", as: String.self)
            let worker = Viewer(userID: 0, login: "gw" + waiting, role: .gridWorker, scope: try RegionCode(waiting))

            // act
            let inbox = try await store.cases.inbox(worker, now: Self.now)
            let notices = try await store.cases.notices(worker, limit: 5)

            // check
            #expect(!inbox.isEmpty)
            #expect(inbox.allSatisfy { $0.grid.value == waiting && $0.state.isOpen })
            #expect(notices.count == 5)
            // a history already loaded continues with fresh ids and codes
            try await CaseHistory.load(into: store, count: 10, seed: 12, now: Self.now)
            #expect(try await store.database.reader.raw("SELECT COUNT(DISTINCT code) AS n FROM cases").first()!.decode(column: "n", as: Int.self) == 2_010)
        }
    }
}
