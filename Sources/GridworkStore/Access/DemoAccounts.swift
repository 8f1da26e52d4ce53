import Foundation
import GridworkCore
import HummingbirdBcrypt
import SQLKit

/// The demo county's accounts: one per role and place, all with one demo password.
///
/// Logins: `admin` (county), `t` + township code, `c` + community code,
/// `gl`/`gw` + grid code, `bh` + building code, `dept-` + department,
/// and `resident`. The password is hashed once and the hash shared, which is
/// acceptable for demo accounts only.
public enum DemoAccounts {
    /// A password that passes the rules: 12 letters and digits, no look-alikes.
    public static func generatePassword() -> String {
        let letters = Array("abcdefghjkmnpqrstuvwxyz"), digits = Array("23456789")
        var rng = SystemRandomNumberGenerator()
        let body = (0..<9).map { _ in letters[Int.random(in: 0..<letters.count, using: &rng)] }
        let tail = (0..<3).map { _ in digits[Int.random(in: 0..<digits.count, using: &rng)] }
        return String(body + tail)
    }

    static func insert(_ db: any SQLDatabase, kind: DatabaseKind, password: String) async throws {
        if let problem = PasswordRules.problems(password, login: "").first {
            throw StoreError.invalid(field: "demo-password", reason: problem)
        }
        let hash = Bcrypt.hash(password, cost: AccountStore.bcryptCost)
        let now = Timestamp.now()
        let pad3: (String) -> String = { kind == .sqlite ? "printf('%03d', \($0))" : "lpad(\($0)::text, 3, '0')" }
        let statements: [String] = [
            "SELECT 'admin', '县级管理员(演示)', 'county_admin', code, NULL FROM regions WHERE level = 'county'",
            "SELECT 't' || code, name || '管理员(演示)', 'township_admin', code, NULL FROM regions WHERE level = 'township'",
            "SELECT 'c' || code, name || '工作人员(演示)', 'community_staff', code, NULL FROM regions WHERE level = 'community'",
            "SELECT 'gl' || g.code, s.name, 'grid_leader', g.code, NULL FROM staff s JOIN regions g ON g.id = s.grid_id WHERE s.role = 'grid_leader'",
            "SELECT 'gw' || g.code, s.name, 'grid_worker', g.code, NULL FROM staff s JOIN regions g ON g.id = s.grid_id WHERE s.role = 'grid_worker'",
            """
            SELECT 'bh' || g.code || \(pad3("b.number")), s.name, 'building_head', g.code || \(pad3("b.number")), NULL
            FROM staff s JOIN buildings b ON b.id = s.building_id JOIN regions g ON g.id = b.grid_id
            """,
            """
            SELECT 'resident', '居民(演示)', 'resident', g.code || \(pad3("b.number")), NULL
            FROM buildings b JOIN regions g ON g.id = b.grid_id WHERE b.id = (SELECT MIN(id) FROM buildings)
            """,
        ] + Department.allCases.map { d in
            "SELECT 'dept-\(d.rawValue)', '\(d.label)工作人员(演示)', 'department_officer', code, '\(d.rawValue)' FROM regions WHERE level = 'county'"
        }
        for select in statements {
            // The selects name only our own literals and columns; the hash and time are bound.
            try await db.raw("""
                INSERT INTO users (login, name, role, scope_code, department, password_hash, created_at)
                SELECT x.*, \(bind: hash), \(bind: now) FROM (\(unsafeRaw: select)) AS x
                """).run()
        }
    }
}
