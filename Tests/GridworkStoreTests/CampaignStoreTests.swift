import Foundation
import Logging
import GridworkCore
import GridworkStore
import GridworkTestSupport
import SQLKit
import Testing

@Suite struct CampaignStoreTests {
    static let county = Viewer(userID: 0, login: "admin", role: .countyAdmin, scope: .county("430524"))
    static let community = Viewer(userID: 0, login: "c430524001001", role: .communityStaff, scope: try! RegionCode("430524001001"))
    static let worker = Viewer(userID: 0, login: "gw430524001001001", role: .gridWorker, scope: try! RegionCode("430524001001001"))
    static let head = Viewer(userID: 0, login: "bh430524001001001001", role: .buildingHead, scope: try! RegionCode("430524001001001001"))
    static let otherHead = Viewer(userID: 0, login: "bh430524101001001001", role: .buildingHead, scope: try! RegionCode("430524101001001001"))
    static let civil = Viewer(userID: 0, login: "dept-civil_affairs", role: .departmentOfficer, scope: .county("430524"), department: .civilAffairs)
    static let fire = Viewer(userID: 0, login: "dept-fire", role: .departmentOfficer, scope: .county("430524"), department: .fire)

    static func draft(_ title: String = "消防隐患排查") -> CampaignDraft {
        CampaignDraft(title: title, instructions: "入户检查", deadline: CivilDate(year: 2027, month: 1, day: 1)!, form: CampaignTemplate.fire.form)
    }

    static let safe: [String: [String]] = ["q1": ["否"], "q2": ["否"], "q3": ["正常"]]
    static let charging: [String: [String]] = ["q1": ["是"], "q2": ["否"], "q3": ["正常"]]

    static func count(_ store: Store, _ sql: SQLQueryString) async throws -> Int {
        try await store.database.reader.raw(sql).first()!.decode(column: "n", as: Int.self)
    }

    @Test func launchingSplitsEveryDoorToItsBuildingHeadAndTellsThemOnce() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            // setup: a county-wide fire sweep; one dwelling is vacant; one building's head account is disabled
            let vacant = try await store.database.reader.raw("SELECT id FROM households ORDER BY id LIMIT 1").first()!.decode(column: "id", as: Int64.self)
            try await store.database.transaction { db in
                try await db.raw("UPDATE households SET occupancy = 'vacant' WHERE id = \(bind: vacant)").run()
                try await db.raw("UPDATE users SET disabled = 1 WHERE login = 'bh430524001001001002'").run()
            }
            let households = try await Self.count(store, "SELECT COUNT(*) AS n FROM households")
            let buildings = try await Self.count(store, "SELECT COUNT(DISTINCT building_id) AS n FROM households")
            _ = try await store.webhooks.add(grid: try RegionCode("430524001001001"), kind: .wecom, url: "http://127.0.0.1:9/robot", secret: nil,
                                             viewer: Self.county, address: "test")
            let id = try await store.campaigns.create(Self.draft(), target: .region(.county("430524")), viewer: Self.county, address: "test")
            await #expect(throws: StoreError.self) { try await store.campaigns.checklist(id, viewer: Self.head) }   // a draft reaches nobody
            // act
            let launch = try await store.campaigns.launch(id, viewer: Self.county, address: "test", now: 1_000)
            // check: one visit per lived-in door, one tally row and one notice per building
            #expect(launch.visits == households - 1 && launch.buildings == buildings && launch.notified == buildings)
            let overview = try await store.campaigns.overview(id, viewer: Self.county)
            #expect(overview.total == CampaignProgress(total: households - 1))
            #expect(overview.children.map(\.code.level).allSatisfy { $0 == .township } && overview.children.reduce(0) { $0 + $1.progress.total } == households - 1)
            let mine = try await store.campaigns.checklist(id, viewer: Self.head)
            #expect(!mine.isEmpty && mine.allSatisfy { $0.building.value == Self.head.scope.value && $0.state == .pending })
            // the building whose head cannot log in goes to the grid worker
            let headless = try await store.campaigns.overview(id, under: try RegionCode("430524001001001"), viewer: Self.county).children
            #expect(headless.first { $0.code.value == "430524001001001002" }?.assignee == "role:grid_worker@430524001001001")
            #expect(headless.first { $0.code.value == "430524001001001001" }?.assignee == "role:building_head@430524001001001001")
            // the grid's group robot is told too, without anyone's name
            let deliveries = try await store.database.reader.raw("SELECT event, text FROM deliveries").all()
            let event = try deliveries.first?.decode(column: "event", as: String.self)
            let message = try deliveries.first?.decode(column: "text", as: String.self)
            #expect(deliveries.count == 1 && event == "campaign.launched" && message?.contains("消防隐患排查") == true)
            let notices = try await store.cases.notices(Self.head)
            #expect(notices.count == 1 && notices[0].text.contains("消防隐患排查"))
            // launching twice changes nothing
            await #expect(throws: StoreError.conflict("任务已发布 (already launched)")) {
                try await store.campaigns.launch(id, viewer: Self.county, address: "test")
            }
            #expect(try await Self.count(store, "SELECT COUNT(*) AS n FROM campaign_visits") == households - 1)
            #expect(try await AuditLog.verify(store.database).brokenAt == nil)
        }
    }

    @Test func anAnswerIsCountedOnceWhateverTheRetriesAndRollsUp() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let id = try await store.campaigns.create(Self.draft(), target: .region(try RegionCode("430524001001")), viewer: Self.community, address: "t")
            _ = try await store.campaigns.launch(id, viewer: Self.community, address: "t", now: 1_000)
            let doors = try await store.campaigns.checklist(id, viewer: Self.head)
            // act: an answer, its retry after a dropped connection, a not-at-home, then that door answered later
            let first = try await store.campaigns.submit(VisitSubmission(outcome: .answered, values: Self.charging, key: "k-0001-abcdef"),
                                                         visit: doors[0].id, viewer: Self.head, now: 2_000)
            let retry = try await store.campaigns.submit(VisitSubmission(outcome: .answered, values: Self.charging, key: "k-0001-abcdef"),
                                                         visit: doors[0].id, viewer: Self.head, now: 2_005)
            _ = try await store.campaigns.submit(VisitSubmission(outcome: .notHome, key: "k-0002-abcdef"), visit: doors[1].id, viewer: Self.head, now: 2_100)
            let away = try await store.campaigns.overview(id, under: Self.head.scope, viewer: Self.head).total
            _ = try await store.campaigns.submit(VisitSubmission(outcome: .answered, values: Self.safe, key: "k-0003-abcdef"),
                                                 visit: doors[1].id, viewer: Self.head, now: 5_600)
            // check
            #expect(first.visit == doors[0].id && first.campaign == id && first.state == .done && !first.repeated)
            #expect(retry.repeated && retry.state == .done)
            #expect(away.done == 1 && away.notHome == 1 && away.findings == 1)
            let building = try await store.campaigns.overview(id, under: Self.head.scope, viewer: Self.head).total
            #expect(building == CampaignProgress(total: doors.count, done: 2, notHome: 0, findings: 1))
            let community = try await store.campaigns.overview(id, viewer: Self.community)
            #expect(community.total.done == 2 && community.firstAnswerAt == 2_000)
            #expect(community.children.first { $0.code.value == "430524001001001" }?.progress.done == 2)
            #expect(community.laggards.count == 10 && community.laggards.allSatisfy { $0.progress.done < $0.progress.total })
            #expect(try await Self.count(store, "SELECT COUNT(*) AS n FROM campaign_answers") == 3)
            let after = try await store.campaigns.checklist(id, viewer: Self.head)
            #expect(after[0].answers == ["q1": "是", "q2": "否", "q3": "正常"] && after[0].finding && after[1].attempts == 2)
            // a key used for another door is refused, and nothing moves
            await #expect(throws: StoreError.self) {
                try await store.campaigns.submit(VisitSubmission(outcome: .answered, values: Self.safe, key: "k-0001-abcdef"),
                                                 visit: doors[2].id, viewer: Self.head)
            }
            #expect(try await store.campaigns.overview(id, under: Self.head.scope, viewer: Self.head).total.done == 2)
        }
    }

    @Test func badAnswersAndOutsidersChangeNothing() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let id = try await store.campaigns.create(Self.draft(), target: .region(try RegionCode("430524001001")), viewer: Self.community, address: "t")
            _ = try await store.campaigns.launch(id, viewer: Self.community, address: "t")
            let door = try await store.campaigns.checklist(id, viewer: Self.head)[0]
            func refused(_ s: VisitSubmission, as viewer: Viewer) async -> StoreError? {
                do { _ = try await store.campaigns.submit(s, visit: door.id, viewer: viewer); return nil } catch { return error as? StoreError }
            }
            // a required answer missing, a choice not offered, no key, a photo that is not one
            let missing = await refused(VisitSubmission(outcome: .answered, values: ["q1": ["是"]], key: "k-missing-1"), as: Self.head)
            #expect(missing?.message.contains("必答") == true)
            #expect(await refused(VisitSubmission(outcome: .answered, values: ["q1": ["也许"], "q2": ["否"], "q3": ["正常"]], key: "k-bad-choice"), as: Self.head) != nil)
            #expect(await refused(VisitSubmission(outcome: .answered, values: Self.safe, key: ""), as: Self.head)?.message.contains("提交编号") == true)
            let photo = await refused(VisitSubmission(outcome: .answered, values: ["q1": ["否"], "q2": ["是"], "q3": ["正常"]],
                                                      photos: ["q5": Array("<svg/>".utf8)], key: "k-svg-photo"), as: Self.head)
            #expect(photo?.message.contains("JPEG") == true)
            // another building's head, a department and a resident cannot answer here (and are told "not found")
            for outsider in [Self.otherHead, Self.civil, Viewer(userID: 0, login: "resident", role: .resident, scope: Self.head.scope)] {
                #expect(await refused(VisitSubmission(outcome: .answered, values: Self.safe, key: "k-outsider-\(outsider.login.count)"), as: outsider)
                        == .notFound(what: "走访 (visit)", key: String(door.id)))
            }
            #expect(try await Self.count(store, "SELECT COUNT(*) AS n FROM campaign_answers") == 0)
            // the grid worker may answer for the building; after closing nobody may
            _ = try await store.campaigns.submit(VisitSubmission(outcome: .answered, values: Self.safe, key: "k-worker-01"), visit: door.id, viewer: Self.worker)
            try await store.campaigns.close(id, viewer: Self.community, address: "t")
            let closed = await refused(VisitSubmission(outcome: .answered, values: Self.charging, key: "k-closed-01"), as: Self.head)
            #expect(closed?.message.contains("任务已结束") == true)
            #expect(try await store.campaigns.overview(id, viewer: Self.community).total.done == 1)
            // a photo that is one is kept and served to whoever may see the door
            #expect(try await Self.count(store, "SELECT COUNT(*) AS n FROM campaign_photos") == 0)
        }
    }

    @Test func whoSeesAndManagesACampaign() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let id = try await store.campaigns.create(Self.draft(), target: .region(try RegionCode("430524001")), viewer: Self.civil, address: "t")
            // a draft: only managers (the issuing department, and nobody else's department) see it
            #expect(try await store.campaigns.list(Self.civil).map(\.id) == [id])
            #expect(try await store.campaigns.list(Self.head).isEmpty)
            #expect(try await store.campaigns.list(Self.fire).isEmpty)
            #expect(try await store.campaigns.list(Self.county).map(\.id) == [id])   // the county manages everything in it
            _ = try await store.campaigns.launch(id, viewer: Self.civil, address: "t")
            #expect(try await store.campaigns.list(Self.head).map(\.id) == [id])
            #expect(try await store.campaigns.list(Self.otherHead).isEmpty)           // another township
            #expect(try await store.campaigns.list(Self.fire).isEmpty)
            // a building head sees only their own building's progress and cannot look higher
            #expect(try await store.campaigns.overview(id, viewer: Self.head).node == Self.head.scope)
            await #expect(throws: StoreError.self) { try await store.campaigns.overview(id, under: try RegionCode("430524001"), viewer: Self.head) }
            await #expect(throws: StoreError.self) { try await store.campaigns.close(id, viewer: Self.worker, address: "t") }
            await #expect(throws: StoreError.self) { try await store.campaigns.close(id, viewer: Self.fire, address: "t") }
            await #expect(throws: StoreError.self) { try await store.campaigns.results(id, viewer: Self.head) }
            // a campaign outside the viewer's own area cannot be made
            await #expect(throws: StoreError.self) {
                try await store.campaigns.create(Self.draft(), target: .region(try RegionCode("430524101")), viewer: Self.community, address: "t")
            }
            // departments target only the tags of their duty
            await #expect(throws: StoreError.self) {
                try await store.campaigns.create(Self.draft(), target: .tags(.county("430524"), [.communityCorrection]), viewer: Self.civil, address: "t")
            }
        }
    }

    @Test func aListIsMatchedAgainstTheRegistryAndTheRestPlacedByHand() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            // setup: two people of the township by ID and by phone, one listed twice, one unknown, one name shared by two people
            let rows = try await store.database.reader.raw("""
                SELECT r.id, r.household_id, r.id_sealed, r.phone_sealed FROM residents r JOIN buildings b ON b.id = r.building_id
                JOIN regions g ON g.id = b.grid_id WHERE g.code LIKE '430524001%' AND r.phone_sealed IS NOT NULL AND r.status = 'present' ORDER BY r.id LIMIT 2
                """).all()
            let idNumber = try store.sealer.open(try rows[0].decode(column: "id_sealed", as: String.self))
            let phone = try store.sealer.open(try rows[1].decode(column: "phone_sealed", as: String.self))
            try await store.database.transaction { db in
                try await db.raw("UPDATE residents SET name = '同名人' WHERE id IN (SELECT id FROM residents ORDER BY id LIMIT 2)").run()
            }
            let text = "\(idNumber)\n\(phone)\n\(idNumber)\n110105194912310021\n13900000000\n同名人,桃花坪街道\n"
            let parsed = try TargetList.parse(Array(text.utf8))
            let id = try await store.campaigns.create(Self.draft("流调排查"), target: .list(try RegionCode("430524001"), parsed.entries),
                                                      viewer: Self.county, address: "t")
            try await store.campaigns.recordUnreadable(parsed.problems, campaign: id)
            // check: two matched; the rest wait with their reasons, numbers masked
            #expect(try await store.campaigns.listMatched(id) == 2)
            let waiting = try await store.campaigns.listEntries(id, viewer: Self.county)
            #expect(waiting.map(\.line) == [3, 4, 5, 6])
            #expect(waiting.map { $0.reason ?? "" }.map { $0.prefix(4) } == ["名单中重", "身份证号", "在本范围", "匹配到多"])
            #expect(waiting.allSatisfy { !$0.shown.contains(idNumber) && !$0.shown.contains("13900000000") })
            // act: launch, then place the unknown phone on a household by hand
            let launch = try await store.campaigns.launch(id, viewer: Self.county, address: "t")
            #expect(launch.visits == 2)
            let household = try rows[0].decode(column: "household_id", as: Int64.self)
            try await store.campaigns.place(entry: waiting[2].id, household: household, campaign: id, viewer: Self.county, address: "t")
            #expect(try await store.campaigns.overview(id, viewer: Self.county).total.total == 3)   // a second person in that household
            #expect(try await store.campaigns.listEntries(id, viewer: Self.county).count == 3)
            // a household of another township is refused
            let far = try await store.database.reader.raw("""
                SELECT h.id FROM households h JOIN buildings b ON b.id = h.building_id JOIN regions g ON g.id = b.grid_id WHERE g.code LIKE '430524101%' LIMIT 1
                """).first()!.decode(column: "id", as: Int64.self)
            await #expect(throws: StoreError.self) {
                try await store.campaigns.place(entry: waiting[3].id, household: far, campaign: id, viewer: Self.county, address: "t")
            }
            await #expect(throws: StoreError.self) { try await store.campaigns.addHouseholds([far], to: id, viewer: Self.county, address: "t") }
            #expect(try await store.campaigns.addHouseholds([household], to: id, viewer: Self.county, address: "t") == 1)
            #expect(try await store.campaigns.overview(id, viewer: Self.county).total.total == 4)
        }
    }

    @Test func aBuildingIsReassignedAndAFindingBecomesOneMatter() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let id = try await store.campaigns.create(Self.draft(), target: .region(try RegionCode("430524001001001")), viewer: Self.county, address: "t")
            _ = try await store.campaigns.launch(id, viewer: Self.county, address: "t")
            let building = try RegionCode("430524001001001002")
            // a neighbouring building head takes over building 2; a head of another grid may not
            await #expect(throws: StoreError.self) {
                try await store.campaigns.reassign(building: building, to: Self.otherHead.login, campaign: id, viewer: Self.county, address: "t")
            }
            try await store.campaigns.reassign(building: building, to: Self.head.login, campaign: id, viewer: Self.worker, address: "t")
            let mine = try await store.campaigns.checklist(id, viewer: Self.head)
            #expect(Set(mine.map(\.building.value)) == [Self.head.scope.value, building.value])
            // a finding becomes a matter of the closed loop, once
            let door = mine.first { $0.building == building }!
            _ = try await store.campaigns.submit(VisitSubmission(outcome: .answered, values: Self.charging, key: "k-finding-1"), visit: door.id, viewer: Self.head)
            let matter = try await store.campaigns.makeCase(visit: door.id, viewer: Self.worker, cases: store.cases)
            #expect(try await store.campaigns.makeCase(visit: door.id, viewer: Self.worker, cases: store.cases) == matter)
            let detail = try await store.cases.detail(matter, actor: .viewer(Self.worker))
            #expect(detail.row.category == "0202" && detail.row.title.contains("电动车") && detail.description.contains("消防隐患排查"))
            #expect(try await store.campaigns.results(id, viewer: Self.worker, findingsOnly: true).map(\.caseID) == [matter])
            let plain = try await store.campaigns.checklist(id, viewer: Self.head).first { $0.state == .pending }!
            await #expect(throws: StoreError.self) { try await store.campaigns.makeCase(visit: plain.id, viewer: Self.worker, cases: store.cases) }
        }
    }

    @Test func resultsExportAsASpreadsheetWithinScope() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let id = try await store.campaigns.create(Self.draft(), target: .region(try RegionCode("430524001001")), viewer: Self.community, address: "t")
            _ = try await store.campaigns.launch(id, viewer: Self.community, address: "t")
            let door = try await store.campaigns.checklist(id, viewer: Self.head)[0]
            _ = try await store.campaigns.submit(VisitSubmission(outcome: .answered, values: Self.charging, key: "k-export-1"), visit: door.id, viewer: Self.head)
            let path = TestDatabase.scratchDirectory().appendingPathComponent("r.csv").path
            let written = try await store.campaigns.export(id, to: path, format: .csv, viewer: Self.worker, address: "t")
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\r\n")
            let inGrid = try await store.campaigns.overview(id, viewer: Self.worker).total.total
            #expect(written == lines.count - 1 && written == inGrid)
            #expect(lines[0].contains("电动车是否在室内或楼道充电") && lines.contains { $0.contains("已完成") && $0.contains(",是,") })
            let xlsx = TestDatabase.scratchDirectory().appendingPathComponent("r.xlsx").path
            #expect(try await store.campaigns.export(id, to: xlsx, format: .xlsx, viewer: Self.community, address: "t") > written)
            await #expect(throws: StoreError.self) { try await store.campaigns.export(id, to: path, format: .csv, viewer: Self.head, address: "t") }
        }
    }

    /// Dashboards served by another process hear of every answer: on PostgreSQL the answer's transaction sends
    /// NOTIFY, which a listener on its own connection receives. On SQLite every writer is this process: listen returns.
    @Test func answersAreAnnouncedToOtherProcesses() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let logger = Logger(label: "test")
            guard store.database.kind == .postgres else {
                try await store.database.listen("campaigns", logger: logger) { _ in Issue.record("nothing to hear on SQLite") }
                return
            }
            let id = try await store.campaigns.create(Self.draft(), target: .region(try RegionCode("430524001001001")), viewer: Self.county, address: "t")
            _ = try await store.campaigns.launch(id, viewer: Self.county, address: "t")
            let door = try await store.campaigns.checklist(id, viewer: Self.head)[0]
            let (heard, tell) = AsyncStream<String>.makeStream()
            let listener = Task { try await store.database.listen("campaigns", logger: logger) { tell.yield($0) } }
            defer { listener.cancel() }
            try await Task.sleep(for: .milliseconds(500))   // LISTEN in place
            _ = try await store.campaigns.submit(VisitSubmission(outcome: .answered, values: Self.safe, key: "k-notify-01"), visit: door.id, viewer: Self.head)
            let first = await withTaskGroup(of: String?.self) { group in
                group.addTask { var it = heard.makeAsyncIterator(); return await it.next() }
                group.addTask { try? await Task.sleep(for: .seconds(10)); return nil }
                let r = await group.next()!
                group.cancelAll()
                return r
            }
            #expect(first == String(id))
        }
    }
}
