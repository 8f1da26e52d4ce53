import Foundation
import GridworkCore
import GridworkStore
import GridworkTestSupport
import SQLKit
import Testing

@Suite struct SealingTests {
    @Test func idNumbersAndPhonesAreSealedWithABlindIndex() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            // setup
            let row = try await store.database.reader.select()
                .columns("id_sealed", "id_index", "id_masked", "phone_sealed", "phone_masked")
                .from("residents").where(SQLIdentifier("phone_sealed"), .isNot, SQLLiteral.null).first()!
            let sealed = try row.decode(column: "id_sealed", as: String.self)
            // act
            let plain = try store.sealer.open(sealed)
            let phone = try store.sealer.open(try row.decode(column: "phone_sealed", as: String.self))
            // check
            let id = try CitizenID(plain)
            #expect(!sealed.contains(plain))
            #expect(try row.decode(column: "id_masked", as: String.self) == id.masked)
            #expect(try row.decode(column: "id_index", as: String.self) == store.sealer.blindIndex(plain))
            #expect(try row.decode(column: "phone_masked", as: String.self) == MobilePhone(phone)!.masked)
            // The blind index finds the person by exact number without decrypting anyone.
            let found = try await store.database.reader.select().column("id_masked").from("residents")
                .where("id_index", .equal, store.sealer.blindIndex(plain)).all()
            #expect(found.count == 1)
        }
    }

    @Test func theDatabaseFileHoldsNoPlainIDOrPhone() async throws {
        guard !TestDatabase.isPostgres else { return }
        try await TestDatabase.withStore { (store: Store) async throws in
            let rows = try await store.database.reader.select().columns("id_sealed", "phone_sealed").from("residents")
                .where(SQLIdentifier("phone_sealed"), .isNot, SQLLiteral.null).limit(20).all()
            let secrets = try rows.flatMap { r in
                [try store.sealer.open(try r.decode(column: "id_sealed", as: String.self)),
                 try store.sealer.open(try r.decode(column: "phone_sealed", as: String.self))]
            }
            guard case .sqlite(let path) = store.database.location else { Issue.record("not SQLite"); return }
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            if let wal = try? Data(contentsOf: URL(fileURLWithPath: path + "-wal")) { bytes.append(wal) }
            #expect(secrets.count == 40)
            for secret in secrets {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "found \(secret.prefix(6))… in the file")
            }
        }
    }

    @Test func aWrongKeyIsRefused() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let other = ["GRIDWORK_SEAL_KEY": Data(repeating: 9, count: 32).base64EncodedString()]
            await #expect(throws: StoreError.keyMismatch("GRIDWORK_SEAL_KEY")) {
                _ = try await Store.open(store.database.location, environment: other)
            }
        }
    }

    @Test func aKeyFileIsCreatedOnceAndReused() throws {
        let file = TestDatabase.scratchDirectory().appendingPathComponent("g.key").path
        let first = try SealKeySource.load(environment: [:], keyFile: file)
        let second = try SealKeySource.load(environment: [:], keyFile: file)
        #expect(Sealer(masterKey: first).keyCheck == Sealer(masterKey: second).keyCheck)
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func aMalformedKeyIsRefused() {
        #expect(throws: StoreError.self) { try SealKeySource.load(environment: ["GRIDWORK_SEAL_KEY": "short"], keyFile: "/nonexistent") }
    }
}
