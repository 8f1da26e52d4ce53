import SQLKit

/// Campaigns pushed down the net: the campaign and its form, its list of people to find,
/// one visit per door with a running tally per building, every answer ever sent (the
/// idempotency log), and photos taken at the door.
struct CreateCampaigns: Migration {
    let number = 7
    let name = "create_campaigns"

    func prepare(on db: any SQLDatabase, dialect d: Dialect) async throws {
        let statements = [
            """
            CREATE TABLE campaigns (
                id \(d.primaryKey),
                title TEXT NOT NULL,
                issuer TEXT NOT NULL,
                issuer_login TEXT NOT NULL,
                issuer_department TEXT REFERENCES departments(code),
                region_code TEXT NOT NULL,
                instructions TEXT NOT NULL,
                deadline TEXT NOT NULL,
                form TEXT NOT NULL,
                template TEXT,
                target_kind TEXT NOT NULL CHECK (target_kind IN ('region','tags','list')),
                target_tags TEXT NOT NULL DEFAULT '',
                state TEXT NOT NULL DEFAULT 'draft' CHECK (state IN ('draft','running','closed')),
                created_at \(d.bigint) NOT NULL,
                launched_at \(d.bigint),
                closed_at \(d.bigint),
                first_answer_at \(d.bigint))
            """,
            "CREATE INDEX campaigns_region ON campaigns(region_code)",
            """
            CREATE TABLE campaign_list (
                id \(d.primaryKey),
                campaign_id \(d.bigint) NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
                line INTEGER NOT NULL,
                shown TEXT NOT NULL,
                entry_sealed TEXT,
                reason TEXT,
                resident_id \(d.bigint) REFERENCES residents(id),
                household_id \(d.bigint) REFERENCES households(id),
                placed_by TEXT)
            """,
            "CREATE INDEX campaign_list_campaign ON campaign_list(campaign_id, id)",
            """
            CREATE TABLE campaign_buildings (
                campaign_id \(d.bigint) NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
                building_id \(d.bigint) NOT NULL REFERENCES buildings(id),
                grid_id \(d.bigint) NOT NULL REFERENCES regions(id),
                assignee TEXT NOT NULL,
                total INTEGER NOT NULL DEFAULT 0,
                done INTEGER NOT NULL DEFAULT 0,
                not_home INTEGER NOT NULL DEFAULT 0,
                findings INTEGER NOT NULL DEFAULT 0,
                last_at \(d.bigint),
                PRIMARY KEY (campaign_id, building_id))
            """,
            "CREATE INDEX campaign_buildings_assignee ON campaign_buildings(assignee)",
            """
            CREATE TABLE campaign_visits (
                id \(d.primaryKey),
                campaign_id \(d.bigint) NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
                building_id \(d.bigint) NOT NULL REFERENCES buildings(id),
                household_id \(d.bigint) NOT NULL REFERENCES households(id),
                resident_id \(d.bigint) REFERENCES residents(id),
                subject TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','not_home','done')),
                attempts INTEGER NOT NULL DEFAULT 0,
                answers TEXT,
                finding INTEGER NOT NULL DEFAULT 0,
                case_id \(d.bigint) REFERENCES cases(id),
                answered_by TEXT,
                answered_at \(d.bigint),
                version INTEGER NOT NULL DEFAULT 1,
                UNIQUE (campaign_id, household_id, subject))
            """,
            "CREATE INDEX campaign_visits_building ON campaign_visits(campaign_id, building_id)",
            """
            CREATE TABLE campaign_answers (
                id \(d.primaryKey),
                visit_id \(d.bigint) NOT NULL REFERENCES campaign_visits(id) ON DELETE CASCADE,
                idempotency_key TEXT NOT NULL UNIQUE,
                outcome TEXT NOT NULL,
                answers TEXT,
                actor TEXT NOT NULL,
                at \(d.bigint) NOT NULL)
            """,
            "CREATE INDEX campaign_answers_visit ON campaign_answers(visit_id)",
            """
            CREATE TABLE campaign_photos (
                id \(d.primaryKey),
                visit_id \(d.bigint) NOT NULL REFERENCES campaign_visits(id) ON DELETE CASCADE,
                content_type TEXT NOT NULL,
                size INTEGER NOT NULL,
                data \(d.blob) NOT NULL)
            """,
            "CREATE INDEX campaign_photos_visit ON campaign_photos(visit_id)",
        ]
        for sql in statements { try await db.raw(SQLQueryString(sql)).run() }
    }
}
