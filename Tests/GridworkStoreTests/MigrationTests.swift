import Foundation
import GridworkStore
import GridworkTestSupport
import SQLKit
import Testing

@Suite struct MigrationTests {
    @Test func migrationsRunOnceAndAreRecorded() async throws {
        try await TestDatabase.withStore(seeded: false) { (store: Store) async throws in
            // setup: Store.open already migrated
            // act
            let again = try await Migrations.run(on: store.database)
            // check
            #expect(again.isEmpty)
            #expect(try await Migrations.applied(on: store.database) == Migrations.all.map(\.number))
        }
    }

    @Test func departmentsAreSeededByTheSchema() async throws {
        try await TestDatabase.withStore(seeded: false) { (store: Store) async throws in
            let rows = try await store.database.reader.select().column("name").from("departments").orderBy("name").all()
            let names = Set(try rows.map { try $0.decode(column: "name", as: String.self) })
            #expect(names == ["综治", "民政", "卫健", "住建", "消防", "教育", "人社", "公安"])
        }
    }

    @Test func badLocationsAreRefusedWithOneLine() throws {
        #expect(throws: StoreError.self) { try DatabaseLocation(parsing: "mysql://x@y/z") }
        #expect(throws: StoreError.self) { try DatabaseLocation(parsing: "postgres://:5432/db") }
        #expect(throws: StoreError.self) { try DatabaseLocation(parsing: "postgres://u@host/") }
        #expect(throws: StoreError.self) { try DatabaseLocation(parsing: "postgres://u@host:99999/db") }
        do {
            _ = try DatabaseLocation(parsing: "mysql://x@y/z")
        } catch {
            #expect(!error.message.contains("\n"))
            #expect(error.message.hasPrefix("数据库地址无效"))
        }
        #expect(try DatabaseLocation(parsing: "sqlite:/tmp/a.sqlite") == .sqlite(path: "/tmp/a.sqlite"))
        #expect(try DatabaseLocation(parsing: "data/county.sqlite") == .sqlite(path: "data/county.sqlite"))
    }

    @Test func unreachableServerFailsQuickly() async throws {
        // Port 9 (discard) on loopback: nothing listens there in the test environment.
        await #expect(throws: StoreError.self) {
            _ = try await Database.open(.postgres(url: "postgres://nobody@127.0.0.1:9/nothing"))
        }
    }

    @Test func missingDirectoryIsReported() async throws {
        await #expect(throws: StoreError.self) {
            _ = try await Database.open(.sqlite(path: "/nonexistent-\(UUID().uuidString)/g.sqlite"))
        }
    }
}
