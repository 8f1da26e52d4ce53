import Foundation
import GridworkCore
import GridworkStore
import GridworkTestSupport
import SQLKit
import Testing

@Suite struct AccountTests {
    let password = TestDatabase.demoPassword

    @Test func theDemoHasOneAccountPerRoleAndPlace() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let users = try await store.accounts.users(within: .county("430524"))
            var byRole: [Role: Int] = [:]
            for u in users { byRole[u.role, default: 0] += 1 }
            #expect(byRole == [.countyAdmin: 1, .townshipAdmin: 2, .communityStaff: 3, .gridLeader: 6, .gridWorker: 6,
                               .buildingHead: 40, .departmentOfficer: 8, .resident: 1])
            #expect(users.contains { $0.login == "bh430524001001001001" && $0.scope.value == "430524001001001001" })
        }
    }

    @Test func loginStartsASessionThatResolvesToTheViewer() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            guard case .accepted(let viewer, let second) = try await store.accounts.login("gw430524001001001", password: password, address: "10.0.0.1")
            else { Issue.record("login refused"); return }
            #expect(second == nil)
            #expect(viewer.role == .gridWorker && viewer.scope.value == "430524001001001")
            let session = try await store.accounts.startSession(for: viewer, address: "10.0.0.1")
            #expect(try await store.accounts.session(session.token)?.viewer == viewer)
            #expect(try await store.accounts.session(session.token)?.csrf == session.csrf)
            #expect(try await store.accounts.session("forged") == nil)
            // Sessions expire.
            #expect(try await store.accounts.session(session.token, now: Date().addingTimeInterval(13 * 3600)) == nil)
        }
    }

    @Test func repeatedFailuresLockTheAccountForAWhile() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let login = "gl430524001001001"
            for _ in 1..<AccountStore.lockAfter {
                #expect(try await store.accounts.login(login, password: "wrong-password-1", address: "10.0.0.2") == .rejected)
            }
            guard case .locked = try await store.accounts.login(login, password: "wrong-password-1", address: "10.0.0.2") else {
                Issue.record("not locked after \(AccountStore.lockAfter) failures"); return
            }
            // Even the right password is refused while locked…
            guard case .locked = try await store.accounts.login(login, password: password, address: "10.0.0.3") else {
                Issue.record("right password accepted while locked"); return
            }
            // …and accepted once the lock has passed.
            guard case .accepted = try await store.accounts.login(login, password: password, address: "10.0.0.3",
                                                                   now: Date().addingTimeInterval(AccountStore.lockFor + 60)) else {
                Issue.record("still locked after the lock time"); return
            }
            let failures = try await AuditLog.search(store.database, query: "login.failed")
            #expect(failures.count >= AccountStore.lockAfter + 1)
        }
    }

    @Test func oneAddressIsThrottledAcrossAccounts() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            for i in 0..<AccountStore.throttleAfter {
                _ = try await store.accounts.login("nobody\(i)", password: "x", address: "10.9.9.9")
            }
            #expect(try await store.accounts.login("admin", password: password, address: "10.9.9.9") == .throttled)
            guard case .accepted = try await store.accounts.login("admin", password: password, address: "10.9.9.8") else {
                Issue.record("another address was throttled too"); return
            }
        }
    }

    @Test func sessionsEndOnLogoutDisableAndReset() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            guard case .accepted(let viewer, _) = try await store.accounts.login("c430524001001", password: password, address: "a")
            else { Issue.record("login refused"); return }
            let one = try await store.accounts.startSession(for: viewer, address: "a")
            try await store.accounts.endSession(one.token, actor: Actor(viewer, address: "a"))
            #expect(try await store.accounts.session(one.token) == nil)

            let two = try await store.accounts.startSession(for: viewer, address: "a")
            try await store.accounts.resetPassword(viewer.login, to: "Another-pass-42", within: .county("430524"), actor: .commandLine)
            #expect(try await store.accounts.session(two.token) == nil)

            let three = try await store.accounts.startSession(for: viewer, address: "a")
            try await store.accounts.setDisabled(viewer.login, true, within: .county("430524"), actor: .commandLine)
            #expect(try await store.accounts.session(three.token) == nil)
            #expect(try await store.accounts.login(viewer.login, password: "Another-pass-42", address: "b") == .rejected)
        }
    }

    @Test func addingAccountsChecksEverything() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let a = store.accounts
            let county = RegionCode.county("430524")
            await #expect(throws: StoreError.self) { // weak password
                try await a.addUser(login: "li.si", name: "李四", role: .gridWorker, scope: try RegionCode("430524001001001"), department: nil, password: "1234567890", actor: .commandLine)
            }
            await #expect(throws: StoreError.self) { // role and scope disagree
                try await a.addUser(login: "li.si", name: "李四", role: .gridWorker, scope: county, department: nil, password: "Good-pass-2026", actor: .commandLine)
            }
            await #expect(throws: StoreError.self) { // no department
                try await a.addUser(login: "li.si", name: "李四", role: .departmentOfficer, scope: county, department: nil, password: "Good-pass-2026", actor: .commandLine)
            }
            await #expect(throws: StoreError.self) { // not in the net
                try await a.addUser(login: "li.si", name: "李四", role: .gridWorker, scope: try RegionCode("430524001009001"), department: nil, password: "Good-pass-2026", actor: .commandLine)
            }
            await #expect(throws: StoreError.self) { // taken
                try await a.addUser(login: "admin", name: "x", role: .countyAdmin, scope: county, department: nil, password: "Good-pass-2026", actor: .commandLine)
            }
            await #expect(throws: StoreError.self) { // tokens are not accounts
                try await a.addUser(login: "robot", name: "x", role: .apiToken, scope: county, department: nil, password: "Good-pass-2026", actor: .commandLine)
            }
            #expect(try await a.user("li.si") == nil)
            try await a.addUser(login: "li.si", name: "李四", role: .departmentOfficer, scope: county, department: .health, password: "Good-pass-2026", actor: .commandLine)
            #expect(try await a.user("li.si")?.department == .health)
        }
    }

    @Test func tokensAreShownOnceScopedAndRevocable() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let a = store.accounts
            let token = try await a.addToken(name: "12345 hotline", scope: try RegionCode("430524001"), areas: ["net"], actor: .commandLine)
            let grant = try #require(try await a.grant(forToken: token))
            #expect(grant.scope.value == "430524001" && grant.areas == ["net"])
            let stored = try await store.database.reader.raw("SELECT token_hash FROM api_tokens").all()
                .map { try $0.decode(column: "token_hash", as: String.self) }
            #expect(!stored.contains(token))
            await #expect(throws: StoreError.self) { _ = try await a.addToken(name: "x", scope: .county("430524"), areas: ["cases"], actor: .commandLine) }
            await #expect(throws: StoreError.self) { _ = try await a.addToken(name: "x", scope: try RegionCode("430524399"), areas: ["net"], actor: .commandLine) }
            try await a.revokeToken(grant.id, within: .county("430524"), actor: .commandLine)
            #expect(try await a.grant(forToken: token) == nil)
        }
    }
}

@Suite struct AuditTests {
    @Test func theChainHoldsAndDetectsEditsAndDeletions() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            for i in 0..<5 { try await store.audit(actor: .commandLine, action: "test.event", target: "t\(i)") }
            let intact = try await AuditLog.verify(store.database)
            #expect(intact.brokenAt == nil && intact.entries >= 6)
            let third = try await store.database.reader.raw("SELECT id FROM audit_log WHERE target = 't2'").first()!.decode(column: "id", as: Int64.self)

            try await store.database.transaction { db in try await db.raw("UPDATE audit_log SET detail = 'nothing to see' WHERE id = \(bind: third)").run() }
            #expect(try await AuditLog.verify(store.database).brokenAt == third)

            try await store.database.transaction { db in try await db.raw("UPDATE audit_log SET detail = '' WHERE id = \(bind: third)").run() }
            #expect(try await AuditLog.verify(store.database).brokenAt == nil)

            try await store.database.transaction { db in try await db.raw("DELETE FROM audit_log WHERE id = \(bind: third)").run() }
            #expect(try await AuditLog.verify(store.database).brokenAt == third + 1)
        }
    }
}

@Suite struct ScopeTests {
    static let buildingA = try! RegionCode("430524001001001001")
    static let buildingB = try! RegionCode("430524101001001001")

    func viewer(_ store: Store, _ login: String) async throws -> Viewer {
        guard case .accepted(let v, _) = try await store.accounts.login(login, password: TestDatabase.demoPassword, address: "t") else {
            throw StoreError.notFound(what: "login", key: login)
        }
        return v
    }

    @Test(arguments: [
        ("admin", true, true), ("t430524001", true, false), ("c430524001001", true, false), ("gl430524001001001", true, false),
        ("gw430524001001001", true, false), ("bh430524001001001001", true, false), ("bh430524001001001002", false, false),
        ("gw430524101001001", false, true), ("resident", false, false),
    ])
    func residentsAreReadOnlyWithinScope(login: String, seesA: Bool, seesB: Bool) async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let v = try await viewer(store, login)
            for (building, sees) in [(Self.buildingA, seesA), (Self.buildingB, seesB)] {
                if sees {
                    let list = try await store.residents.residents(inBuilding: building, viewer: v)
                    #expect(!list.isEmpty)
                    #expect(list.allSatisfy { $0.idMasked.contains("********") })
                } else {
                    await #expect(throws: StoreError.self, "\(login) read \(building)") {
                        _ = try await store.residents.residents(inBuilding: building, viewer: v)
                    }
                }
            }
        }
    }

    @Test func departmentsSeeOnlyTheirDuty() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let civil = try await viewer(store, "dept-civil_affairs")
            let fire = try await viewer(store, "dept-fire")
            let admin = try await viewer(store, "admin")
            let all = try await store.residents.residents(inBuilding: Self.buildingA, viewer: admin)
            let seen = try await store.residents.residents(inBuilding: Self.buildingA, viewer: civil)
            let allowed = Policy.departmentTags[.civilAffairs]!
            #expect(seen.count < all.count)
            #expect(seen.allSatisfy { !$0.tags.isEmpty && Set($0.tags).isSubset(of: allowed) })
            #expect(seen.count == all.filter { !Set($0.tags).intersection(allowed).isEmpty }.count)
            #expect(try await store.residents.residents(inBuilding: Self.buildingA, viewer: fire).isEmpty)
        }
    }

    @Test func unmaskingFollowsPolicyAndIsAudited() async throws {
        try await TestDatabase.withStore { (store: Store) async throws in
            let head = try await viewer(store, "bh430524001001001001")
            let worker = try await viewer(store, "gw430524001001001")
            let other = try await viewer(store, "gw430524101001001")
            let person = try #require(try await store.residents.residents(inBuilding: Self.buildingA, viewer: head).first { $0.phoneMasked != nil })
            let before = try await AuditLog.search(store.database, query: "resident.unmask").count

            let phone = try await store.residents.unmask(.phone, of: person.id, viewer: head, address: "t")
            #expect(MobilePhone(phone)?.masked == person.phoneMasked)
            let id = try await store.residents.unmask(.citizenID, of: person.id, viewer: worker, address: "t")
            #expect(try CitizenID(id).masked == person.idMasked)
            await #expect(throws: StoreError.self) { _ = try await store.residents.unmask(.citizenID, of: person.id, viewer: head, address: "t") }
            await #expect(throws: StoreError.self) { _ = try await store.residents.unmask(.phone, of: person.id, viewer: other, address: "t") }

            let entries = try await AuditLog.search(store.database, query: "resident.unmask")
            #expect(entries.count == before + 2)
            #expect(entries.first?.actor == worker.login && entries.first?.detail == "id_number" && entries.first?.target == "resident:\(person.id)")
        }
    }
}
