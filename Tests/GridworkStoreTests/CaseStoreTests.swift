import Foundation
import GridworkCore
import GridworkStore
import GridworkTestSupport
import SQLKit
import Testing

@Suite struct CaseStoreTests {
    static let grid = "430524001001001"
    /// The Beijing day of an instant.
    static func day(_ t: Int64) -> CivilDate { CivilDate(daysSinceEpoch: WorkCalendar.localDay(t)) }
    static let building = "430524001001001001"
    static let worker = Viewer(userID: 0, login: "gw430524001001001", role: .gridWorker, scope: try! RegionCode(grid))
    static let leader = Viewer(userID: 0, login: "gl430524001001001", role: .gridLeader, scope: try! RegionCode(grid))
    static let head = Viewer(userID: 0, login: "bh430524001001001001", role: .buildingHead, scope: try! RegionCode(building))
    static let otherWorker = Viewer(userID: 0, login: "gw430524101001001", role: .gridWorker, scope: try! RegionCode("430524101001001"))
    static let phone = MobilePhone("13807391234")!
    /// Monday 2026-11-30 09:00 in Beijing.
    static let monday: Int64 = CivilDate(year: 2026, month: 11, day: 30)!.daysSinceEpoch * 86_400 + 9 * 3600 - WorkCalendar.offset

    static func rubbish(phone: MobilePhone? = phone) -> CaseReport {
        CaseReport(category: "0301", severity: .general, title: "楼下垃圾堆放", description: "一单元门口垃圾三天没人清运", reporterName: "刘阿姨",
                   reporterPhone: phone, channel: .resident)
    }

    @Test func aMatterGoesRoundTheWholeLoopWithItsTimeline() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            // setup: a resident without an account reports at her building
            let (id, code) = try await store.cases.report(Self.rubbish(), at: .building(try RegionCode(Self.building)), by: nil, now: Self.monday)
            let resident = CaseActor.reporter(code: code, phone: Self.phone)
            // act: accept, file, dispatch to the building head, who handles it; the worker checks; she rates
            var v = 1
            let t = Self.monday
            v = try await store.cases.act(.accept, on: id, version: v, actor: .viewer(Self.worker), now: t + 600)
            v = try await store.cases.act(.file, on: id, version: v, actor: .viewer(Self.worker), now: t + 700)
            v = try await store.cases.act(.dispatch(to: .person(Self.head.login)), on: id, version: v, actor: .viewer(Self.worker), now: t + 800)
            #expect(try await store.cases.inbox(Self.head, now: t + 900).map(\.id) == [id])
            v = try await store.cases.act(.take, on: id, version: v, actor: .viewer(Self.head), now: t + 900)
            v = try await store.cases.act(.reportDone(note: "已联系环卫清运"), on: id, version: v, actor: .viewer(Self.head), now: t + 3600)
            v = try await store.cases.act(.verify(passed: true, note: "现场已清理"), on: id, version: v, actor: .viewer(Self.worker), now: t + 4000)
            v = try await store.cases.act(.rate(score: 5, comment: "很快"), on: id, version: v, actor: resident, now: t + 5000)
            // check
            let detail = try await store.cases.detail(id, actor: resident, now: t + 5000)
            #expect(detail.row.state == .closed && detail.snapshot.rating == 5 && v == 8)
            #expect(detail.steps.map(\.action) == ["report", "accept", "file", "dispatch", "take", "report_done", "verify", "rate"])
            #expect(detail.steps[4].onTime == true)
            #expect(try await store.cases.inbox(Self.head, now: t + 6000).isEmpty)
            // The figures count it: taken in, handled and closed on time, satisfied — for the grid and for the building head.
            let county = Viewer(userID: 0, login: "admin", role: .countyAdmin, scope: .county("430524"))
            let figures = try await store.cases.figures(under: .county("430524"), from: Self.day(t - 86_400), to: Self.day(t + 86_400), viewer: county)
            #expect(figures.total.reported == 1 && figures.total.acceptanceRate == 1 && figures.total.onTimeHandlingRate == 1)
            #expect(figures.total.onTimeClosingRate == 1 && figures.total.satisfactionRate == 1 && figures.total.reworkRate == 0)
            #expect(figures.rows.map(\.key) == ["430524001", "430524101"] && figures.rows[0].name == "桃花坪街道")
            #expect(figures.rows.map(\.reported) == [1, 0] && figures.rows[1].acceptanceRate == nil)
            let people = try await store.cases.figures(under: try RegionCode(Self.grid), by: .assignee, from: Self.day(t - 86_400), to: Self.day(t + 86_400), viewer: Self.worker)
            #expect(people.rows.map(\.key) == ["user:\(Self.head.login)"] && people.rows[0].name.hasPrefix("楼栋长"))
            #expect(people.rows[0].averageHandlingHours == Double(3600 - 800) / 3600)
            await #expect(throws: StoreError.self) {
                try await store.cases.figures(under: .county("430524"), from: Self.day(0), to: Self.day(t), viewer: Self.worker)
            }
            // The reporter with the wrong phone sees nothing.
            await #expect(throws: StoreError.self) {
                try await store.cases.detail(id, actor: .reporter(code: code, phone: MobilePhone("13900000000")!))
            }
        }
    }

    @Test func twoPeopleActingOnOneVersionNeverBothWin() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let (id, _) = try await store.cases.report(Self.rubbish(), at: .building(try RegionCode(Self.building)), by: nil, now: Self.monday)
            try await store.cases.act(.accept, on: id, version: 1, actor: .viewer(Self.worker), now: Self.monday + 1)
            // The leader acts on the version they loaded before the worker's step: refused, nothing lost.
            await #expect(throws: StoreError.self) {
                try await store.cases.act(.decline(reason: "重复"), on: id, version: 1, actor: .viewer(Self.leader), now: Self.monday + 2)
            }
            let detail = try await store.cases.detail(id, actor: .viewer(Self.worker))
            #expect(detail.row.state == .accepted && detail.row.version == 2 && detail.steps.count == 2)
        }
    }

    @Test func outsideTheLoopNothingIsSeenOrDone() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let (id, _) = try await store.cases.report(Self.rubbish(), at: .building(try RegionCode(Self.building)), by: nil, now: Self.monday)
            await #expect(throws: StoreError.self) { try await store.cases.detail(id, actor: .viewer(Self.otherWorker)) }
            // A building head not (yet) assigned neither sees nor acts.
            await #expect(throws: StoreError.self) { try await store.cases.act(.accept, on: id, version: 1, actor: .viewer(Self.head)) }
            // A step the state does not allow is refused with its reason.
            do {
                try await store.cases.act(.file, on: id, version: 1, actor: .viewer(Self.worker))
                Issue.record("filing before accepting was allowed")
            } catch let error as StoreError {
                #expect(error.message.contains("待受理"))
            }
            #expect(try await store.cases.detail(id, actor: .viewer(Self.worker)).row.version == 1)
        }
    }

    @Test func badReportsAreRefusedAndRetriesAreIdempotent() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            var unknown = Self.rubbish()
            unknown.category = "9999"
            await #expect(throws: StoreError.self) { try await store.cases.report(unknown, at: .building(try RegionCode(Self.building)), by: nil) }
            await #expect(throws: StoreError.self) {
                try await store.cases.report(Self.rubbish(), at: .building(try RegionCode("430524001001001999")), by: nil)
            }
            let fakeJPEG = CasePhoto(bytes: Array("not really a jpeg".utf8))
            await #expect(throws: StoreError.self) {
                try await store.cases.report(Self.rubbish(), at: .building(try RegionCode(Self.building)), photos: [fakeJPEG], by: nil)
            }
            let jpeg = CasePhoto(bytes: [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 0, count: 100))
            let first = try await store.cases.report(Self.rubbish(), at: .building(try RegionCode(Self.building)), photos: [jpeg], by: nil,
                                                     idempotencyKey: "k-1")
            let retry = try await store.cases.report(Self.rubbish(), at: .building(try RegionCode(Self.building)), photos: [jpeg], by: nil,
                                                     idempotencyKey: "k-1")
            #expect(first == retry)
            let count = try await store.database.reader.raw("SELECT COUNT(*) AS n FROM cases").first()!.decode(column: "n", as: Int.self)
            #expect(count == 1)
            let detail = try await store.cases.detail(first.id, actor: .viewer(Self.worker))
            let photo = try await store.cases.photo(detail.steps[0].photoIDs[0], of: first.id, actor: .viewer(Self.worker))
            #expect(photo.contentType == "image/jpeg" && photo.bytes.count == 104)
        }
    }

    @Test func deadlinesFollowTheCategoryAndLateMattersEscalateOnce() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            // 0202 e-bike charging: taken in within 2 working hours.
            var report = Self.rubbish()
            report.category = "0202"
            let (id, _) = try await store.cases.report(report, at: .building(try RegionCode(Self.building)), by: nil, now: Self.monday)
            let row = try await store.cases.detail(id, actor: .viewer(Self.worker), now: Self.monday).row
            #expect(row.dueAt == Self.monday + 2 * 3600 && row.light(at: Self.monday) == "green")
            #expect(row.light(at: Self.monday + 6000) == "yellow" && row.light(at: Self.monday + 7200) == "red")
            // Nobody takes it in: the grid leader is told, once.
            #expect(try await store.cases.escalateOverdue(now: Self.monday + 7300) == 1)
            #expect(try await store.cases.escalateOverdue(now: Self.monday + 7400) == 0)
            #expect(try await store.cases.notices(Self.leader).contains { $0.caseID == id && $0.text.contains("超时督办") })
            #expect(try await store.cases.late(Self.leader, now: Self.monday + 7400).map(\.id) == [id])
            #expect(try await store.cases.inbox(Self.leader, now: Self.monday + 7400).map(\.id).contains(id))
        }
    }

    @Test func aPointIsResolvedToTheGridWhoseBoundaryHoldsIt() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let boundary = try await store.net.region(try RegionCode(Self.grid)).boundary!
            let lat = (boundary[0][1] + boundary[2][1]) / 2, long = (boundary[0][0] + boundary[2][0]) / 2
            let (id, _) = try await store.cases.report(Self.rubbish(), at: .point(latitude: lat, longitude: long, address: "路口"), by: nil)
            #expect(try await store.cases.detail(id, actor: .viewer(Self.worker)).row.grid.value == Self.grid)
            await #expect(throws: StoreError.self) {
                try await store.cases.report(Self.rubbish(), at: .point(latitude: 39.9, longitude: 116.4, address: "北京"), by: nil)
            }
        }
    }
}
