import Foundation
import GridworkCore
import SQLKit

/// One matter as the public Open311 (GeoReport v2) feed shows it: what, where, who handles it and when —
/// never who reported it, their phone, the tracking code or the timeline's notes.
public struct PublicCase: Sendable, Equatable {
    public let id: Int64
    public let category: String
    public let categoryName: String
    public let description: String
    public let state: CaseState
    /// The building's address for matters at a building or household (never the room), else the address given.
    public let address: String
    public let building: RegionCode?
    public let latitude: Double?
    public let longitude: Double?
    /// Who handles it now, in words: the assigned department's name or the assigned person's role, else the category's default.
    public let agency: String
    public let reportedAt: Int64
    /// The last step, or the closing for closed matters.
    public let updatedAt: Int64
    /// When the current stage is due; nil when no clock runs (closed, declined, suspended).
    public let dueAt: Int64?

    /// Open311 knows two states: declined and closed matters are `closed`, every other one `open`.
    public var isOpen: Bool { state.isOpen }
}

/// What a GET requests call asks for. With `ids`, every other criterion is ignored (as the spec says).
public struct PublicCaseFilter: Sendable, Equatable {
    public var ids: [Int64]?
    public var categories: [String]?
    /// Seconds since 1970 (UTC), both ends included.
    public var from: Int64
    public var to: Int64
    /// nil: both; true: open only; false: closed only.
    public var open: Bool?
    public var limit: Int

    public init(ids: [Int64]? = nil, categories: [String]? = nil, from: Int64, to: Int64, open: Bool? = nil, limit: Int = 1000) {
        self.ids = ids; self.categories = categories; self.from = from; self.to = to; self.open = open; self.limit = limit
    }
}

/// A place an outside system's token does not reach: its grid lies outside the token's region.
public struct OutsideTokenScope: Error, Sendable, Equatable {
    public let grid: RegionCode
}

extension CaseStore {
    /// The public feed: matters matching the filter, newest first.
    public func publicCases(_ filter: PublicCaseFilter) async throws -> [PublicCase] {
        var condition: SQLQueryString
        if let ids = filter.ids {
            guard !ids.isEmpty else { return [] }
            condition = "c.id IN (\(ids.map { "\(bind: $0)" as SQLQueryString }.joined(separator: ", ")))"
        } else {
            condition = "c.reported_at >= \(bind: filter.from) AND c.reported_at <= \(bind: filter.to)"
            if let categories = filter.categories {
                guard !categories.isEmpty else { return [] }
                condition = "\(condition) AND c.category IN (\(categories.map { "\(bind: $0)" as SQLQueryString }.joined(separator: ", ")))"
            }
            if let open = filter.open {
                condition = open ? "\(condition) AND c.state NOT IN ('closed','declined')" : "\(condition) AND c.state IN ('closed','declined')"
            }
        }
        let rows = try await database.reader.raw("""
            SELECT c.id, c.category, cat.name AS category_name, cat.responsible, c.description, c.state, c.address, c.latitude, c.longitude,
                   c.assignee, c.reported_at, c.due_at, c.closed_at, g.code AS grid_code, b.number AS building_number, b.address AS building_address,
                   u.role AS assignee_role, (SELECT MAX(s.at) FROM case_steps s WHERE s.case_id = c.id) AS last_step
            FROM cases c JOIN case_categories cat ON cat.code = c.category JOIN regions g ON g.id = c.grid_id
            LEFT JOIN buildings b ON b.id = c.building_id
            LEFT JOIN users u ON c.assignee LIKE 'user:%' AND u.login = substr(c.assignee, 6)
            WHERE \(condition) ORDER BY c.reported_at DESC, c.id DESC LIMIT \(bind: max(0, filter.limit))
            """).all()
        return try rows.map { r in
            let state = CaseState(rawValue: try r.decode(column: "state", as: String.self)) ?? .reported
            let grid = try RegionCode(try r.decode(column: "grid_code", as: String.self))
            let building = try r.decode(column: "building_number", as: Int?.self).map { grid.child($0) }
            let reported = try r.decode(column: "reported_at", as: Int64.self)
            let closed = try r.decode(column: "closed_at", as: Int64?.self)
            var agency = (Responsible(try r.decode(column: "responsible", as: String.self)) ?? .gridWorker).label
            switch try r.decode(column: "assignee", as: String?.self).flatMap(Assignee.init) {
            case .department(let d)?: agency = d.fullName
            // A person's role, not their name: the feed is public.
            case .person?: if let role = try r.decode(column: "assignee_role", as: String?.self).flatMap(Role.init(rawValue:)) { agency = role.label }
            case nil: break
            }
            return PublicCase(
                id: try r.decode(column: "id", as: Int64.self), category: try r.decode(column: "category", as: String.self),
                categoryName: try r.decode(column: "category_name", as: String.self), description: try r.decode(column: "description", as: String.self),
                state: state,
                address: try r.decode(column: "building_address", as: String?.self) ?? (try r.decode(column: "address", as: String.self)),
                building: building, latitude: try r.decode(column: "latitude", as: Double?.self),
                longitude: try r.decode(column: "longitude", as: Double?.self), agency: agency, reportedAt: reported,
                updatedAt: state == .closed ? (closed ?? reported) : (try r.decode(column: "last_step", as: Int64?.self) ?? reported),
                dueAt: state.isOpen && state != .suspended ? try r.decode(column: "due_at", as: Int64?.self) : nil)
        }
    }

    /// Takes in a matter from an outside system (channel Open311). The place is resolved first, and refused with
    /// `OutsideTokenScope` when its grid lies outside the token's region — before anything is written.
    public func reportFromOutside(_ report: CaseReport, at location: CaseLocation, grant: TokenGrant,
                                  now: Int64 = Clock.now()) async throws -> (id: Int64, code: String) {
        let place = try await resolve(location)
        let grid = try RegionCode(place.gridCode)
        guard grid.isWithin(grant.scope) else { throw OutsideTokenScope(grid: grid) }
        return try await self.report(report, at: place, by: grant.viewer, now: now)
    }

    /// Buildings an address written by a person may mean: those whose whole address appears in the text (longest first),
    /// then those whose address contains the text. Whitespace is ignored; at most `limit`.
    public func buildings(matching text: String, limit: Int = 20) async throws -> [(code: RegionCode, address: String, contained: Bool)] {
        let needle = String(text.unicodeScalars.filter { !CharacterSet.whitespacesAndNewlines.contains($0) }.map(Character.init))
        guard needle.count >= 2, needle.count <= 200 else { return [] }
        let pattern = "%" + RegistryStore.likeEscaped(needle) + "%"
        return try await database.reader.raw("""
            SELECT b.number, b.address, g.code, CASE WHEN \(bind: needle) LIKE ('%' || b.address || '%') THEN 1 ELSE 0 END AS contained
            FROM buildings b JOIN regions g ON g.id = b.grid_id
            WHERE \(bind: needle) LIKE ('%' || b.address || '%') OR b.address LIKE \(bind: pattern) ESCAPE '\\'
            ORDER BY contained DESC, length(b.address) DESC, g.code, b.number LIMIT \(bind: limit)
            """).all().map { r in
            (try RegionCode(r.decode(column: "code", as: String.self)).child(try r.decode(column: "number", as: Int.self)),
             try r.decode(column: "address", as: String.self), try r.decode(column: "contained", as: Int.self) == 1)
        }
    }

    /// When the service list last changed (a category's handler or clocks), as sortable UTC text; nil if never since seeding.
    public func categoriesChangedAt() async throws -> String? {
        try await database.reader.raw("SELECT MAX(at) AS at FROM audit_log WHERE action = 'cases.category'").first()?
            .decode(column: "at", as: String?.self)
    }
}
