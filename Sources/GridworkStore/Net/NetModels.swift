import GridworkCore

/// Counts that roll up through the net.
public struct NetCounts: Codable, Sendable, Equatable {
    public var communities = 0
    public var grids = 0
    public var buildings = 0
    public var households = 0
    public var residents = 0

    public init() {}

    mutating func add(_ o: NetCounts) {
        communities += o.communities; grids += o.grids; buildings += o.buildings
        households += o.households; residents += o.residents
    }
}

/// A person who carries the net, as the public may see them: name and work phone only.
public struct StaffMember: Codable, Sendable, Equatable {
    public let role: StaffRole
    public let roleLabel: String
    public let name: String
    public let workPhone: String
}

/// A link up or down the net.
public struct RegionRef: Codable, Sendable, Equatable {
    public let code: RegionCode
    public let level: RegionLevel
    public let name: String
}

public struct RegionSummary: Codable, Sendable, Equatable {
    public let code: RegionCode
    public let level: RegionLevel
    /// 街道/镇/乡, 社区/村, 网格 or 县.
    public let kindLabel: String
    public let name: String
    public let counts: NetCounts
    /// For a grid: its grid worker and grid leader.
    public let staff: [StaffMember]
}

/// A region with its breadcrumb and what lies directly below it.
public struct RegionDetail: Codable, Sendable, Equatable {
    public let region: RegionSummary
    public let path: [RegionRef]
    public let address: String?
    public let officePhone: String?
    /// Townships, communities or grids; empty for a grid.
    public let children: [RegionSummary]
    /// A grid's buildings; empty above the grid.
    public let buildings: [BuildingSummary]
    /// A grid's boundary as [longitude, latitude] pairs, closed.
    public let boundary: [[Double]]?
}

public struct BuildingSummary: Codable, Sendable, Equatable {
    public let code: RegionCode
    public let number: Int
    public let name: String
    public let address: String
    public let floors: Int
    public let units: Int
    public let households: Int
    public let residents: Int
    public let head: StaffMember?
}

public struct HouseholdSummary: Codable, Sendable, Equatable {
    /// The dwelling's row, for staff pages; not part of the public API.
    public var id: Int64 = 0
    public let number: Int
    public let unit: Int
    public let floor: Int
    public let room: String
    public let residents: Int
    /// How the dwelling is used; staff only — a public list of empty flats helps no one but burglars.
    public var occupancy: Occupancy = .ownerOccupied

    enum CodingKeys: String, CodingKey { case number, unit, floor, room, residents }

    public init(id: Int64, number: Int, unit: Int, floor: Int, room: String, residents: Int, occupancy: Occupancy) {
        self.id = id; self.number = number; self.unit = unit; self.floor = floor; self.room = room
        self.residents = residents; self.occupancy = occupancy
    }
}

public struct BuildingDetail: Codable, Sendable, Equatable {
    public let building: BuildingSummary
    public let path: [RegionRef]
    /// The grid worker and grid leader of the building's grid.
    public let gridStaff: [StaffMember]
    public let households: [HouseholdSummary]
}

/// The counts `gridwork stats --json` prints.
public struct NetStats: Codable, Sendable, Equatable {
    public let townships: Int
    public let communities: Int
    public let grids: Int
    public let buildings: Int
    public let households: Int
    public let residents: Int
    public let buildingHeads: Int
    public let gridWorkers: Int
}
