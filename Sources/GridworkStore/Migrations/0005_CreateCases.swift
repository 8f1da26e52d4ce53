import GridworkCore
import SQLKit

/// Matters on a clock: categories with their deadlines, the working calendar,
/// the matters with their state and version, every step of each, photos,
/// and the inbox that tells staff what needs them.
struct CreateCases: Migration {
    let number = 5
    let name = "create_cases"

    func prepare(on db: any SQLDatabase, dialect d: Dialect) async throws {
        let statements = [
            """
            CREATE TABLE case_categories (
                code TEXT PRIMARY KEY,
                group_code TEXT NOT NULL,
                group_name TEXT NOT NULL,
                name TEXT NOT NULL,
                responsible TEXT NOT NULL,
                accept_amount INTEGER NOT NULL CHECK (accept_amount > 0),
                accept_unit TEXT NOT NULL,
                handle_amount INTEGER NOT NULL CHECK (handle_amount > 0),
                handle_unit TEXT NOT NULL,
                verify_amount INTEGER NOT NULL CHECK (verify_amount > 0),
                verify_unit TEXT NOT NULL,
                yellow_percent INTEGER NOT NULL,
                red_percent INTEGER NOT NULL,
                closing TEXT NOT NULL,
                CHECK (yellow_percent > 0 AND yellow_percent < red_percent))
            """,
            """
            CREATE TABLE calendar_days (
                day TEXT PRIMARY KEY,
                kind TEXT NOT NULL CHECK (kind IN ('holiday','workday')))
            """,
            """
            CREATE TABLE cases (
                id \(d.primaryKey),
                code TEXT NOT NULL UNIQUE,
                category TEXT NOT NULL REFERENCES case_categories(code),
                severity TEXT NOT NULL,
                title TEXT NOT NULL,
                description TEXT NOT NULL,
                state TEXT NOT NULL,
                version INTEGER NOT NULL DEFAULT 1,
                grid_id \(d.bigint) NOT NULL REFERENCES regions(id),
                building_id \(d.bigint) REFERENCES buildings(id),
                household_id \(d.bigint) REFERENCES households(id),
                address TEXT NOT NULL,
                latitude DOUBLE PRECISION,
                longitude DOUBLE PRECISION,
                channel TEXT NOT NULL,
                reporter_login TEXT,
                reporter_name TEXT NOT NULL,
                reporter_phone_sealed TEXT,
                reporter_phone_index TEXT,
                reporter_phone_masked TEXT,
                assignee TEXT,
                reworks INTEGER NOT NULL DEFAULT 0,
                extension_requested INTEGER,
                extension_granted INTEGER NOT NULL DEFAULT 0,
                rating INTEGER,
                rating_comment TEXT,
                suspended_from TEXT,
                reported_at \(d.bigint) NOT NULL,
                stage_started_at \(d.bigint) NOT NULL,
                yellow_at \(d.bigint),
                red_at \(d.bigint),
                due_at \(d.bigint),
                closed_at \(d.bigint),
                escalation INTEGER NOT NULL DEFAULT 0,
                accepted_at \(d.bigint),
                dispatched_at \(d.bigint),
                done_at \(d.bigint),
                handled_on_time INTEGER,
                closed_on_time INTEGER,
                idempotency_key TEXT UNIQUE)
            """,
            "CREATE INDEX cases_grid_state ON cases(grid_id, state)",
            "CREATE INDEX cases_assignee ON cases(assignee, state)",
            "CREATE INDEX cases_red ON cases(red_at)",
            "CREATE INDEX cases_reporter ON cases(reporter_login)",
            "CREATE INDEX cases_reported ON cases(reported_at)",
            """
            CREATE TABLE case_steps (
                id \(d.primaryKey),
                case_id \(d.bigint) NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
                at \(d.bigint) NOT NULL,
                action TEXT NOT NULL,
                from_state TEXT,
                to_state TEXT NOT NULL,
                actor TEXT NOT NULL,
                actor_role TEXT NOT NULL,
                note TEXT NOT NULL DEFAULT '',
                on_time INTEGER)
            """,
            "CREATE INDEX case_steps_case ON case_steps(case_id, id)",
            """
            CREATE TABLE case_photos (
                id \(d.primaryKey),
                case_id \(d.bigint) NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
                step_id \(d.bigint) REFERENCES case_steps(id),
                content_type TEXT NOT NULL,
                size INTEGER NOT NULL,
                data \(d.blob) NOT NULL)
            """,
            "CREATE INDEX case_photos_case ON case_photos(case_id)",
            """
            CREATE TABLE inbox (
                id \(d.primaryKey),
                recipient TEXT NOT NULL,
                case_id \(d.bigint) REFERENCES cases(id) ON DELETE CASCADE,
                at \(d.bigint) NOT NULL,
                text TEXT NOT NULL,
                read_at \(d.bigint))
            """,
            "CREATE INDEX inbox_recipient ON inbox(recipient, id)",
        ]
        for sql in statements { try await db.raw(SQLQueryString(sql)).run() }
        for c in CaseCategory.defaults {
            try await db.raw("""
                INSERT INTO case_categories (code, group_code, group_name, name, responsible, accept_amount, accept_unit, handle_amount, handle_unit,
                    verify_amount, verify_unit, yellow_percent, red_percent, closing)
                VALUES (\(bind: c.code), \(bind: c.group), \(bind: c.groupName), \(bind: c.name), \(bind: c.responsible.description),
                    \(bind: c.accept.amount), \(bind: c.accept.unit.rawValue), \(bind: c.handle.amount), \(bind: c.handle.unit.rawValue),
                    \(bind: c.verify.amount), \(bind: c.verify.unit.rawValue), \(bind: c.yellowPercent), \(bind: c.redPercent), \(bind: c.closing))
                """).run()
        }
        let calendar = WorkCalendar.china2026
        for day in calendar.holidays.sorted(by: <) {
            try await db.raw("INSERT INTO calendar_days (day, kind) VALUES (\(bind: day.iso), 'holiday')").run()
        }
        for day in calendar.workdays.sorted(by: <) {
            try await db.raw("INSERT INTO calendar_days (day, kind) VALUES (\(bind: day.iso), 'workday')").run()
        }
    }
}
