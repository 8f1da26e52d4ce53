import Foundation
import GridworkCore
import GridworkStore
import GridworkTestSupport
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SQLKit
import Testing

@Suite struct AccessRoutesTests {
    @Test func loginNeedsTheFormsCSRFTokenAndSetsASafeCookie() async throws {
        try await withApp { client, _ in
            let form = try await client.get("/login")
            #expect(form.status == .ok)
            let anonymous = try #require(form.cookie("gw_csrf"))
            // No token: refused, nothing set.
            let forged = try await client.send("/login", method: .post, headers: [.cookie: "gw_csrf=\(anonymous)"],
                                               body: "login=admin&password=\(TestDatabase.demoPassword)")
            #expect(forged.status == .forbidden)
            #expect(forged.cookie("gw_session") == nil)
            // Wrong password: 401, the form again.
            let wrong = try await client.send("/login", method: .post, headers: [.cookie: "gw_csrf=\(anonymous)"],
                                              body: "_csrf=\(anonymous)&login=admin&password=wrong-one-123")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text.contains("登录名或密码错误"))
            // Right: a session cookie that scripts cannot read.
            let ok = try await client.send("/login", method: .post, headers: [.cookie: "gw_csrf=\(anonymous)"],
                                           body: "_csrf=\(anonymous)&login=admin&password=\(TestDatabase.demoPassword)&next=%2Fme")
            #expect(ok.status == .seeOther)
            #expect(ok.headers[.location] == "/me")
            let setCookie = ok.headers[values: .setCookie].first { $0.hasPrefix("gw_session=") } ?? ""
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax"))
            #expect(!setCookie.contains("Secure"))
            // Behind a TLS proxy the cookie is Secure.
            let tls = try await client.send("/login", method: .post, headers: [.cookie: "gw_csrf=\(anonymous)", .init("X-Forwarded-Proto")!: "https"],
                                            body: "_csrf=\(anonymous)&login=admin&password=\(TestDatabase.demoPassword)")
            #expect(tls.headers[values: .setCookie].first { $0.hasPrefix("gw_session=") }?.contains("Secure") == true)
        }
    }

    @Test func nextCannotLeaveTheSite() async throws {
        try await withApp { client, _ in
            let form = try await client.get("/login")
            let anonymous = try #require(form.cookie("gw_csrf"))
            let ok = try await client.send("/login", method: .post, headers: [.cookie: "gw_csrf=\(anonymous)"],
                                           body: "_csrf=\(anonymous)&login=admin&password=\(TestDatabase.demoPassword)&next=%2F%2Fevil.example")
            #expect(ok.headers[.location] == "/")
        }
    }

    @Test func logoutRevokesTheSessionOnTheServer() async throws {
        try await withApp { client, _ in
            let browser = try await client.login("gw430524001001001")
            #expect(try await client.get("/me", as: browser).status == .ok)
            let out = try await client.send("/logout", method: .post, as: browser, body: "_csrf=\(browser.csrf)")
            #expect(out.status == .seeOther)
            // The old cookie, replayed, is anonymous now.
            let again = try await client.get("/me", as: browser)
            #expect(again.status == .seeOther)
            #expect(again.headers[.location]?.hasPrefix("/login?next=") == true)
        }
    }

    @Test func aPostWithoutCSRFChangesNothingAndIsAudited() async throws {
        try await withApp { client, _, store in
            let browser = try await client.login("admin")
            let answer = try await client.send("/me/password", method: .post, as: browser, body: "old=\(TestDatabase.demoPassword)&new=Changed-pass-99")
            #expect(answer.status == .forbidden)
            #expect(try await AuditLog.search(store.database, query: "csrf.rejected").count == 1)
            guard case .accepted = try await store.accounts.login("admin", password: TestDatabase.demoPassword, address: "x") else {
                Issue.record("password changed without CSRF"); return
            }
        }
    }

    @Test func lockoutShowsOnTheLoginPage() async throws {
        try await withApp { client, _ in
            let form = try await client.get("/login")
            let anonymous = try #require(form.cookie("gw_csrf"))
            var last: Answer?
            for _ in 0..<AccountStore.lockAfter {
                last = try await client.send("/login", method: .post, headers: [.cookie: "gw_csrf=\(anonymous)"],
                                             body: "_csrf=\(anonymous)&login=t430524001&password=nope-nope-1")
            }
            #expect(last?.status.code == 423)
            #expect(last?.text.contains("已锁定") == true)
        }
    }

    @Test func changingThePasswordKeepsThisSessionAndEndsOthers() async throws {
        try await withApp { client, _ in
            let here = try await client.login("c430524001001")
            let there = try await client.login("c430524001001")
            let weak = try await client.send("/me/password", method: .post, as: here, body: "_csrf=\(here.csrf)&old=\(TestDatabase.demoPassword)&new=short")
            #expect(weak.status == .badRequest)
            #expect(weak.text.contains("至少10位"))
            let ok = try await client.send("/me/password", method: .post, as: here, body: "_csrf=\(here.csrf)&old=\(TestDatabase.demoPassword)&new=Changed-pass-99")
            #expect(ok.status == .ok)
            #expect(try await client.get("/me", as: here).status == .ok)
            #expect(try await client.get("/me", as: there).status == .seeOther)
        }
    }

    @Test func anAdminAddsAndDisablesAccountsWithinScope() async throws {
        try await withApp { client, _, store in
            let admin = try await client.login("t430524001")
            let page = try await client.get("/admin/users", as: admin)
            #expect(page.status == .ok)
            #expect(page.text.contains("gw430524001001001"))
            #expect(!page.text.contains("gw430524101001001"))
            let add = try await client.send("/admin/users", method: .post, as: admin,
                                            body: "_csrf=\(admin.csrf)&login=zhao.liu&name=%E8%B5%B5%E5%85%AD&role=grid_worker&scope=430524001001002&password=Grid-work-2026")
            #expect(add.status == .ok)
            #expect(add.text.contains("已添加账号"))
            let outside = try await client.send("/admin/users", method: .post, as: admin,
                                                body: "_csrf=\(admin.csrf)&login=qian.qi&role=grid_worker&scope=430524101001001&password=Grid-work-2026")
            #expect(outside.status == .badRequest)
            #expect(try await store.accounts.user("qian.qi") == nil)
            let worker = try await client.login("zhao.liu", password: "Grid-work-2026")
            let disable = try await client.send("/admin/users/zhao.liu/disable", method: .post, as: admin, body: "_csrf=\(admin.csrf)")
            #expect(disable.status == .ok)
            #expect(try await client.get("/me", as: worker).status == .seeOther)
        }
    }

    @Test func secondFactorEnrolmentAndLogin() async throws {
        try await withApp { client, _, store in
            let admin = try await client.login("admin")
            let start = try await client.send("/me/totp/start", method: .post, as: admin, body: "_csrf=\(admin.csrf)")
            #expect(start.text.contains("otpauth://totp/"))
            let viewer = try #require(try await store.accounts.session(admin.cookie)?.viewer)
            let secret = try #require(try await store.accounts.pendingSecondFactor(viewer))
            let code = String(format: "%06d", TOTPTestClock.code(secret))
            let confirm = try await client.send("/me/totp/confirm", method: .post, as: admin, body: "_csrf=\(admin.csrf)&code=\(code)")
            #expect(confirm.text.contains("两步验证已启用"))
            // Now a password alone is not enough.
            let form = try await client.get("/login")
            let anonymous = try #require(form.cookie("gw_csrf"))
            let noCode = try await client.send("/login", method: .post, headers: [.cookie: "gw_csrf=\(anonymous)"],
                                               body: "_csrf=\(anonymous)&login=admin&password=\(TestDatabase.demoPassword)")
            #expect(noCode.status == .unauthorized)
            let withCode = try await client.send("/login", method: .post, headers: [.cookie: "gw_csrf=\(anonymous)"],
                                                 body: "_csrf=\(anonymous)&login=admin&password=\(TestDatabase.demoPassword)&code=\(String(format: "%06d", TOTPTestClock.code(secret)))")
            #expect(withCode.status == .seeOther)
        }
    }

    @Test func oversizedMalformedAndForgedRequestsAreRefused() async throws {
        try await withApp { client, _, store in
            let form = try await client.get("/login")
            let anonymous = try #require(form.cookie("gw_csrf"))
            let huge = try await client.send("/login", method: .post, headers: [.cookie: "gw_csrf=\(anonymous)"],
                                             body: "_csrf=\(anonymous)&login=" + String(repeating: "a", count: 70_000))
            #expect(huge.status == .contentTooLarge)
            let worker = try await client.login("gw430524001001001")
            let malformed = try await client.send("/api/v1/residents/1/unmask", method: .post, as: worker,
                                                  headers: [.init("X-CSRF-Token")!: worker.csrf], body: "{field:", contentType: "application/json")
            #expect(malformed.status == .badRequest)
            let badField = try await client.send("/api/v1/residents/1/unmask", method: .post, as: worker,
                                                 headers: [.init("X-CSRF-Token")!: worker.csrf], body: #"{"field":"name"}"#, contentType: "application/json")
            #expect(badField.status == .badRequest)
            #expect(((badField.json as? [String: Any])?["error"] as? [String: Any])?["code"] as? String == "invalid_field")
            let forged = try await client.get("/api/v1/buildings/430524001001001001/residents", headers: [.authorization: "Bearer gw_forged"])
            #expect(forged.status == .unauthorized)
            let forgedCookie = try await client.get("/api/v1/buildings/430524001001001001/residents", headers: [.cookie: "gw_session=forged"])
            #expect(forgedCookie.status == .unauthorized)
            #expect(try await AuditLog.search(store.database, query: "token.rejected").count == 1)
            #expect(try await AuditLog.search(store.database, query: "resident.unmask").isEmpty)
        }
    }

    @Test func theAuditPageShowsUnmasksAndTheChain() async throws {
        try await withApp { client, _ in
            let worker = try await client.login("gw430524001001001")
            let list = try await client.get("/api/v1/buildings/430524001001001001/residents", as: worker)
            let first = try #require(((list.json as? [String: Any])?["residents"] as? [[String: Any]])?.first?["id"] as? Int)
            let shown = try await client.send("/net/430524001001001001/unmask", method: .post, as: worker,
                                              body: "_csrf=\(worker.csrf)&resident=\(first)&field=id_number")
            #expect(shown.status == .ok)
            #expect(shown.text.contains("class=\"revealed\""))
            let admin = try await client.login("admin")
            let audit = try await client.get("/admin/audit?q=resident.unmask", as: admin)
            #expect(audit.status == .ok)
            #expect(audit.text.contains("审计链完整"))
            #expect(audit.text.contains("resident:\(first)"))
            #expect(try await client.get("/admin/audit", as: worker).status == .forbidden)
        }
    }
}

import HummingbirdOTP

enum TOTPTestClock {
    static func code(_ secret: String) -> Int { TOTP(secret: secret).compute(date: Date()) }
}
