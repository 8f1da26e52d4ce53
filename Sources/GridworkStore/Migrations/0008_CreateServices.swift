import GridworkCore
import SQLKit

/// What the net does for residents beyond matters and campaigns: the public directory (the grid duty list,
/// and where moved buildings went, so old stairwell QR codes still lead somewhere), errands done for residents
/// with their steps and photos, volunteers and partner units with what they contributed, and training.
struct CreateServices: Migration {
    let number = 8
    let name = "create_services"

    /// 网格职责任务清单: the county's default list, which it edits.
    static let duties = [
        "人口、房屋、单位等基础信息采集和动态更新",
        "矛盾纠纷排查,小事不出网格,及时上报化解",
        "消防、燃气、电动车充电等安全隐患巡查和报告",
        "独居老人、留守儿童、残疾人等特殊群体走访关爱",
        "为行动不便的居民帮办代办民生事项",
        "环境卫生、公共设施损坏等问题发现和上报",
        "政策法规宣传,收集居民意见建议",
        "突发事件第一时间报告并协助处置",
    ]

    func prepare(on db: any SQLDatabase, dialect d: Dialect) async throws {
        let statements = [
            "CREATE TABLE duty_items (id \(d.primaryKey), position INTEGER NOT NULL, text TEXT NOT NULL)",
            """
            CREATE TABLE building_moves (
                old_code TEXT PRIMARY KEY,
                new_code TEXT NOT NULL,
                moved_at \(d.bigint) NOT NULL)
            """,
            """
            CREATE TABLE errand_kinds (
                code TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                documents TEXT NOT NULL,
                days INTEGER NOT NULL CHECK (days BETWEEN 1 AND 90),
                active INTEGER NOT NULL DEFAULT 1,
                position INTEGER NOT NULL)
            """,
            """
            CREATE TABLE errands (
                id \(d.primaryKey),
                code TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL REFERENCES errand_kinds(code),
                state TEXT NOT NULL,
                version INTEGER NOT NULL DEFAULT 1,
                grid_id \(d.bigint) NOT NULL REFERENCES regions(id),
                building_id \(d.bigint) NOT NULL REFERENCES buildings(id),
                room TEXT NOT NULL DEFAULT '',
                person_name TEXT NOT NULL,
                phone_sealed TEXT,
                phone_index TEXT,
                phone_masked TEXT,
                requester_login TEXT,
                channel TEXT NOT NULL CHECK (channel IN ('resident','door')),
                note TEXT NOT NULL DEFAULT '',
                assignee TEXT NOT NULL,
                office TEXT,
                created_at \(d.bigint) NOT NULL,
                updated_at \(d.bigint) NOT NULL,
                due_at \(d.bigint) NOT NULL,
                done_at \(d.bigint),
                done_by TEXT,
                rating INTEGER,
                rating_comment TEXT,
                idempotency_key TEXT UNIQUE)
            """,
            "CREATE INDEX errands_assignee ON errands(assignee, state)",
            "CREATE INDEX errands_grid ON errands(grid_id, state)",
            "CREATE INDEX errands_requester ON errands(requester_login)",
            """
            CREATE TABLE errand_steps (
                id \(d.primaryKey),
                errand_id \(d.bigint) NOT NULL REFERENCES errands(id) ON DELETE CASCADE,
                at \(d.bigint) NOT NULL,
                action TEXT NOT NULL,
                to_state TEXT NOT NULL,
                actor TEXT NOT NULL,
                note TEXT NOT NULL DEFAULT '')
            """,
            "CREATE INDEX errand_steps_errand ON errand_steps(errand_id, id)",
            """
            CREATE TABLE errand_photos (
                id \(d.primaryKey),
                errand_id \(d.bigint) NOT NULL REFERENCES errands(id) ON DELETE CASCADE,
                content_type TEXT NOT NULL,
                size INTEGER NOT NULL,
                data \(d.blob) NOT NULL)
            """,
            """
            CREATE TABLE volunteers (
                id \(d.primaryKey),
                grid_id \(d.bigint) NOT NULL REFERENCES regions(id),
                name TEXT NOT NULL,
                phone_sealed TEXT NOT NULL,
                phone_masked TEXT NOT NULL,
                skills TEXT NOT NULL DEFAULT '',
                availability TEXT NOT NULL DEFAULT '',
                active INTEGER NOT NULL DEFAULT 1,
                created_by TEXT NOT NULL,
                created_at \(d.bigint) NOT NULL)
            """,
            "CREATE INDEX volunteers_grid ON volunteers(grid_id)",
            """
            CREATE TABLE partner_units (
                id \(d.primaryKey),
                community_id \(d.bigint) NOT NULL REFERENCES regions(id),
                name TEXT NOT NULL,
                credit_code TEXT NOT NULL UNIQUE,
                kind TEXT NOT NULL,
                services TEXT NOT NULL,
                contact TEXT NOT NULL DEFAULT '',
                created_by TEXT NOT NULL,
                created_at \(d.bigint) NOT NULL)
            """,
            """
            CREATE TABLE contributions (
                id \(d.primaryKey),
                volunteer_id \(d.bigint) REFERENCES volunteers(id),
                unit_id \(d.bigint) REFERENCES partner_units(id),
                case_id \(d.bigint) REFERENCES cases(id),
                errand_id \(d.bigint) REFERENCES errands(id),
                at \(d.bigint) NOT NULL,
                hours DOUBLE PRECISION NOT NULL CHECK (hours >= 0 AND hours <= 24),
                note TEXT NOT NULL DEFAULT '',
                recorded_by TEXT NOT NULL,
                CHECK ((volunteer_id IS NULL) <> (unit_id IS NULL)))
            """,
            "CREATE INDEX contributions_volunteer ON contributions(volunteer_id)",
            "CREATE INDEX contributions_unit ON contributions(unit_id)",
            "CREATE INDEX contributions_case ON contributions(case_id)",
            "CREATE INDEX contributions_errand ON contributions(errand_id)",
            """
            CREATE TABLE courses (
                id \(d.primaryKey),
                topic TEXT NOT NULL,
                day TEXT NOT NULL,
                hours DOUBLE PRECISION NOT NULL CHECK (hours > 0 AND hours <= 24),
                trainer TEXT NOT NULL,
                mandatory INTEGER NOT NULL DEFAULT 0,
                audience TEXT NOT NULL CHECK (audience IN ('building_head','grid_worker','all')),
                scope_code TEXT NOT NULL,
                created_by TEXT NOT NULL,
                created_at \(d.bigint) NOT NULL)
            """,
            "CREATE INDEX courses_scope ON courses(scope_code)",
            """
            CREATE TABLE attendance (
                course_id \(d.bigint) NOT NULL REFERENCES courses(id) ON DELETE CASCADE,
                login TEXT NOT NULL,
                recorded_by TEXT NOT NULL,
                at \(d.bigint) NOT NULL,
                PRIMARY KEY (course_id, login))
            """,
            "CREATE INDEX attendance_login ON attendance(login)",
        ]
        for sql in statements { try await db.raw(SQLQueryString(sql)).run() }
        for (i, text) in Self.duties.enumerated() {
            try await db.raw("INSERT INTO duty_items (position, text) VALUES (\(bind: i + 1), \(bind: text))").run()
        }
        for (i, k) in ErrandKind.defaults.enumerated() {
            try await db.raw("""
                INSERT INTO errand_kinds (code, name, documents, days, position) VALUES (\(bind: k.code), \(bind: k.name), \(bind: k.documents), \(bind: k.days), \(bind: i + 1))
                """).run()
        }
    }
}
