import Crypto
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

    /// Known answers computed outside Swift (Python's hmac: HKDF-SHA-256 of the master key with info
    /// "gridwork index v1", then HMAC-SHA-256 truncated to 16 bytes): indexes written by any earlier
    /// version must still be found.
    @Test func theBlindIndexIsTruncatedHMACSHA256UnderTheDerivedKey() throws {
        let sealer = Sealer(masterKey: SymmetricKey(data: Data(repeating: 7, count: 32)))
        #expect(sealer.blindIndex("430524199001010016") == "1539a803acd1dbaf72980ea0fe2a2a92")
        #expect(sealer.blindIndex("") == "edda68b851658839444186c4c83a7ac8")
        #expect(sealer.blindIndex("13812342151") == "ec05543799b03022cc09eb08fbb88429")
        // Longer than one SHA-256 block.
        #expect(sealer.blindIndex(String(repeating: "张", count: 40)) == "580943faa7159ba66a8fd8ff97f84fab")
        let (index, key) = sealer.blindIndexAndKey("430524199001010016")
        #expect(index == "1539a803acd1dbaf72980ea0fe2a2a92")
        #expect(key == 0x1539_a803_acd1_dbaf)
    }

    @Test func bulkSealingOpensWithTheSealerAndNeverRepeatsANonce() throws {
        let sealer = Sealer(masterKey: SymmetricKey(size: .bits256))
        let bulk = sealer.bulk()
        var nonces = Set<Data>()
        let values = ["430524199001010016", "13812342151", "", "张三丰·阿卜杜拉", String(repeating: "x", count: 1_000)]
        for i in 0..<12_000 { // spans two refills of the nonce pool
            let plain = values[i % values.count]
            let sealed = bulk.seal(plain)
            #expect(try sealer.open(sealed) == plain)
            let box = try #require(Data(base64Encoded: sealed))
            // Foundation writes the same base64 (padding included) for the same bytes.
            #expect(box.base64EncodedString() == sealed)
            #expect(box.count == 12 + plain.utf8.count + 16)
            nonces.insert(box.prefix(12))
        }
        #expect(nonces.count == 12_000)
        // A tampered box is refused, as for anything sealed one value at a time.
        var tampered = try #require(Data(base64Encoded: bulk.seal("13812342151")))
        tampered[14] ^= 1
        #expect(throws: (any Error).self) { try sealer.open(tampered.base64EncodedString()) }
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
