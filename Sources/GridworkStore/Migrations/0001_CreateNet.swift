import GridworkCore
import SQLKit

/// The net: regions (county → township → community → grid), buildings,
/// households, residents with sealed personal fields, staff and departments.
struct CreateNet: Migration {
    let number = 1
    let name = "create_net"

    func prepare(on db: any SQLDatabase, dialect d: Dialect) async throws {
        let statements = [
            """
            CREATE TABLE meta (
                key TEXT PRIMARY KEY,
                value TEXT NOT NULL)
            """,
            """
            CREATE TABLE regions (
                id \(d.primaryKey),
                parent_id \(d.bigint) REFERENCES regions(id),
                level TEXT NOT NULL CHECK (level IN ('county','township','community','grid')),
                kind TEXT NOT NULL,
                code TEXT NOT NULL UNIQUE,
                number INTEGER NOT NULL,
                name TEXT NOT NULL,
                address TEXT,
                office_phone TEXT,
                boundary TEXT,
                UNIQUE (parent_id, number))
            """,
            "CREATE INDEX regions_parent ON regions(parent_id)",
            """
            CREATE TABLE buildings (
                id \(d.primaryKey),
                grid_id \(d.bigint) NOT NULL REFERENCES regions(id),
                number INTEGER NOT NULL CHECK (number BETWEEN 1 AND 999),
                name TEXT NOT NULL,
                address TEXT NOT NULL,
                floors INTEGER NOT NULL CHECK (floors > 0),
                units INTEGER NOT NULL CHECK (units > 0),
                UNIQUE (grid_id, number))
            """,
            """
            CREATE TABLE households (
                id \(d.primaryKey),
                building_id \(d.bigint) NOT NULL REFERENCES buildings(id),
                number INTEGER NOT NULL,
                unit INTEGER NOT NULL,
                floor INTEGER NOT NULL,
                room TEXT NOT NULL,
                UNIQUE (building_id, number),
                UNIQUE (id, building_id))
            """,
            // building_id is carried on residents so counts per building are an
            // index scan; the composite key keeps it equal to the household's.
            """
            CREATE TABLE residents (
                id \(d.primaryKey),
                household_id \(d.bigint) NOT NULL,
                building_id \(d.bigint) NOT NULL,
                name TEXT NOT NULL,
                sex TEXT NOT NULL CHECK (sex IN ('male','female')),
                birth_date TEXT NOT NULL,
                ethnicity TEXT NOT NULL,
                relation TEXT NOT NULL,
                id_sealed TEXT NOT NULL,
                id_index TEXT NOT NULL UNIQUE,
                id_masked TEXT NOT NULL,
                phone_sealed TEXT,
                phone_index TEXT,
                phone_masked TEXT,
                address TEXT NOT NULL,
                registered_address TEXT NOT NULL,
                FOREIGN KEY (household_id, building_id) REFERENCES households(id, building_id))
            """,
            "CREATE INDEX residents_building ON residents(building_id)",
            "CREATE INDEX residents_household ON residents(household_id)",
            "CREATE INDEX residents_phone ON residents(phone_index)",
            """
            CREATE TABLE resident_tags (
                resident_id \(d.bigint) NOT NULL REFERENCES residents(id) ON DELETE CASCADE,
                tag TEXT NOT NULL,
                PRIMARY KEY (resident_id, tag))
            """,
            "CREATE INDEX resident_tags_tag ON resident_tags(tag)",
            """
            CREATE TABLE staff (
                id \(d.primaryKey),
                role TEXT NOT NULL CHECK (role IN ('grid_worker','grid_leader','building_head')),
                name TEXT NOT NULL,
                sex TEXT NOT NULL CHECK (sex IN ('male','female')),
                work_phone TEXT NOT NULL,
                grid_id \(d.bigint) REFERENCES regions(id),
                building_id \(d.bigint) REFERENCES buildings(id),
                CHECK ((role = 'building_head') = (building_id IS NOT NULL)),
                CHECK ((role = 'building_head') = (grid_id IS NULL)))
            """,
            "CREATE UNIQUE INDEX staff_one_per_grid ON staff(grid_id, role) WHERE grid_id IS NOT NULL",
            "CREATE UNIQUE INDEX staff_one_per_building ON staff(building_id) WHERE building_id IS NOT NULL",
            """
            CREATE TABLE departments (
                code TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                full_name TEXT NOT NULL)
            """,
        ]
        for sql in statements { try await db.raw(SQLQueryString(sql)).run() }
        for dept in Department.allCases {
            try await db.insert(into: "departments").columns("code", "name", "full_name")
                .values(SQLBind(dept.rawValue), SQLBind(dept.label), SQLBind(dept.fullName)).run()
        }
    }
}
