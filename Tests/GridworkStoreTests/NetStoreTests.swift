import Foundation
import GridworkCore
import GridworkDemo
import GridworkStore
import GridworkTestSupport
import SQLKit
import Testing

@Suite struct NetStoreTests {
    @Test func countsRollUpFromGridsToTheCounty() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            // act
            let stats = try await store.net.stats()
            let county = try await store.net.region(RegionCode.county("430524"))
            // check
            #expect(stats.townships == 2)
            #expect(stats.grids == 6)
            #expect(stats.buildings == 40)
            #expect(stats.buildingHeads == 40)
            #expect(stats.gridWorkers == 6)
            #expect(abs(stats.residents - 3_000) < 150)
            #expect(county.region.counts.residents == stats.residents)
            #expect(county.region.counts.households == stats.households)
            #expect(county.region.counts.grids == stats.grids)
            #expect(county.children.map(\.name) == ["桃花坪街道", "小沙江镇"])
            #expect(county.children.map(\.counts.residents).reduce(0, +) == stats.residents)
            #expect(county.path.map(\.name) == ["隆回县"])
        }
    }

    @Test func aGridListsItsBuildingsAndStaff() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let grid = try RegionCode("430524001001001")
            let detail = try await store.net.region(grid)
            #expect(detail.region.level == .grid)
            #expect(detail.region.staff.map(\.role) == [.gridWorker, .gridLeader])
            #expect(!detail.buildings.isEmpty)
            #expect(detail.buildings.allSatisfy { $0.head != nil && $0.code.parent == grid })
            #expect(detail.buildings.map(\.residents).reduce(0, +) == detail.region.counts.residents)
            #expect(detail.boundary?.count == 5)
            #expect(detail.path.map(\.level) == [.county, .township, .community, .grid])
        }
    }

    @Test func aBuildingShowsHouseholdsButNoResidents() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let building = try await store.net.building(try RegionCode("430524001001001001"))
            #expect(building.building.head?.role == .buildingHead)
            #expect(building.gridStaff.count == 2)
            #expect(building.households.count == building.building.households)
            #expect(building.households.map(\.residents).reduce(0, +) == building.building.residents)
            #expect(building.households.allSatisfy { $0.residents >= 1 })
        }
    }

    @Test func unknownCodesAreNotFound() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            await #expect(throws: StoreError.notFound(what: "区域 (region)", key: "430524001999")) {
                _ = try await store.net.region(try RegionCode("430524001999"))
            }
            await #expect(throws: StoreError.self) { _ = try await store.net.building(try RegionCode("430524001001001999")) }
        }
    }

    @Test func movingABuildingKeepsItsPeople() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            // setup
            let from = try RegionCode("430524001001001")
            let to = try RegionCode("430524001001002")
            let before = try await store.net.building(from.child(1))
            let fromBefore = try await store.net.region(from).region.counts
            let toBefore = try await store.net.region(to).region.counts
            // act
            let newCode = try await store.net.moveBuilding(from.child(1), to: to, actor: .commandLine)
            // check
            #expect(newCode.parent == to)
            let after = try await store.net.building(newCode)
            #expect(after.households == before.households)
            #expect(after.building.residents == before.building.residents)
            #expect(after.building.head == before.building.head)
            #expect(after.gridStaff != before.gridStaff)
            let fromAfter = try await store.net.region(from).region.counts
            let toAfter = try await store.net.region(to).region.counts
            #expect(fromAfter.buildings == fromBefore.buildings - 1)
            #expect(toAfter.residents == toBefore.residents + before.building.residents)
            await #expect(throws: StoreError.self) { _ = try await store.net.building(from.child(1)) }
            #expect(try await AuditLog.search(store.database, query: "building:\(from.child(1))").first?.action == "building.move")
        }
    }

    @Test func movingToSomethingThatIsNotAGridChangesNothing() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let building = try RegionCode("430524001001001001")
            await #expect(throws: StoreError.self) { _ = try await store.net.moveBuilding(building, to: try RegionCode("430524001001"), actor: .commandLine) }
            await #expect(throws: StoreError.self) { _ = try await store.net.moveBuilding(building, to: try RegionCode("430524001001099"), actor: .commandLine) }
            #expect(try await store.net.building(building).building.code == building)
        }
    }

    @Test func aFailedLoadLeavesNothingBehind() async throws {
        try await TestDatabase.withStore(seeded: false) { (store: Store) async throws in
            // act: a load that fails after writing rows
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await NetLoader.load(into: store.database, sealer: store.sealer) { loader in
                    let county = try await loader.addRegion(parent: nil, code: .county("430524"), kind: "county", name: "隆回县")
                    try await loader.addRegion(parent: county, code: RegionCode.county("430524").child(1), kind: "subdistrict", name: "桃花坪街道")
                    try await loader.flush()
                    throw Boom()
                }
            }
            // check
            #expect(try await store.net.isEmpty())
            #expect(try await store.net.stats().townships == 0)
        }
    }

    @Test func seedingTwiceIsRefusedAndChangesNothing() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let before = try await store.net.stats()
            await #expect(throws: StoreError.self) { try await DemoSeeder.seed(into: store, options: TestDatabase.demo) }
            #expect(try await store.net.stats() == before)
        }
    }

    @Test func theDatabaseRefusesABuildingHeadOnAGrid() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            await #expect(throws: (any Error).self) {
                try await store.database.transaction { db in
                    try await db.raw("INSERT INTO staff (role, name, sex, work_phone, grid_id) VALUES ('building_head', '某', 'male', '13800000000', 1)").run()
                }
            }
        }
    }

    @Test func concurrentWritersDoNotCorruptTransactions() async throws {
        try await TestDatabase.withStore(seeded: false) { (store: Store) async throws in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<20 {
                    group.addTask {
                        try await store.database.transaction { db in
                            try await db.insert(into: "meta").columns("key", "value").values(SQLBind("k\(i)"), SQLBind("v")).run()
                        }
                    }
                }
                try await group.waitForAll()
            }
            let n = try await store.database.reader.raw("SELECT COUNT(*) AS n FROM meta WHERE key LIKE 'k%'").first()!.decode(column: "n", as: Int.self)
            #expect(n == 20)
        }
    }
}
