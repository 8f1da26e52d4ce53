import Foundation
import GridworkCore
import GridworkStore

/// View models: everything a template shows, already formatted.
struct CrumbView: Sendable { let href: String; let name: String; let last: Bool }

struct StaffView: Sendable {
    let role: String
    let name: String
    let phone: String
    init(_ s: StaffMember) { role = s.roleLabel; name = s.name; phone = s.workPhone }
}

struct CountView: Sendable { let label: String; let value: String }

struct ChildView: Sendable {
    let href: String
    let name: String
    let kind: String
    let code: String
    let facts: String
    let staff: [StaffView]
}

struct BuildingRowView: Sendable {
    let href: String
    let name: String
    let code: String
    let facts: String
    let head: StaffView?
}

/// What a member of staff can do from a page of their scope: find people, list organisations, export.
struct StaffTools: Sendable {
    let scope: String
    let organisationsHref: String?
    let figuresHref: String?
    let mayExportUnmasked: Bool

    /// Tools for `viewer` on the page of `code`, or nil when the viewer reads no residents there.
    init?(_ viewer: Viewer?, code: RegionCode) {
        guard let viewer, Policy.visibleTags(for: viewer) != nil, viewer.covers(code) else { return nil }
        scope = code.value
        organisationsHref = viewer.role.isNetStaff && code.level != .building ? "/registry/organisations?in=\(code)" : nil
        figuresHref = Policy.watchesCases(viewer) && code.level != .building
            ? "/cases/figures?in=\(code)" : nil
        mayExportUnmasked = Policy.mayUnmask(.citizenID, viewer: viewer) && Policy.mayUnmask(.phone, viewer: viewer)
    }
}

struct RegionPage: PageView {
    let title: String
    let kind: String
    let code: String
    let crumbs: [CrumbView]
    let counts: [CountView]
    let address: String?
    let officePhone: String?
    let staff: [StaffView]
    let childHeading: String
    let children: [ChildView]
    let buildings: [BuildingRowView]
    let map: String?
    // Stored, not computed: templates see stored properties only.
    let hasStaff: Bool
    let hasChildren: Bool
    let hasBuildings: Bool
    let tools: StaffTools?

    init(_ d: RegionDetail, viewer: Viewer? = nil) {
        tools = StaffTools(viewer, code: d.region.code)
        let r = d.region
        title = r.name
        kind = r.kindLabel
        code = r.code.value
        crumbs = crumbViews(d.path)
        var counts: [CountView] = []
        if r.level < .community { counts.append(CountView(label: "社区/村", value: grouped(r.counts.communities))) }
        if r.level < .grid { counts.append(CountView(label: "网格", value: grouped(r.counts.grids))) }
        counts += [CountView(label: "楼栋", value: grouped(r.counts.buildings)),
                   CountView(label: "户", value: grouped(r.counts.households)),
                   CountView(label: "居民", value: grouped(r.counts.residents))]
        self.counts = counts
        address = d.address
        officePhone = d.officePhone
        staff = r.staff.map(StaffView.init)
        childHeading = switch r.level {
        case .county: "乡镇/街道"
        case .township: "社区/村"
        case .community: "网格"
        default: "楼栋"
        }
        children = d.children.map { c in
            var facts: [String] = []
            if c.level < .community { facts.append("\(grouped(c.counts.communities)) 个社区/村") }
            if c.level < .grid { facts.append("\(grouped(c.counts.grids)) 个网格") }
            facts += ["\(grouped(c.counts.buildings)) 栋", "\(grouped(c.counts.households)) 户", "\(grouped(c.counts.residents)) 人"]
            return ChildView(href: "/net/\(c.code)", name: c.name, kind: c.kindLabel, code: c.code.value,
                             facts: facts.joined(separator: " · "), staff: c.staff.map(StaffView.init))
        }
        buildings = d.buildings.map { b in
            BuildingRowView(href: "/net/\(b.code)", name: b.name, code: b.code.value,
                            facts: "\(grouped(b.households)) 户 · \(grouped(b.residents)) 人 · \(b.floors) 层 \(b.units) 单元",
                            head: b.head.map(StaffView.init))
        }
        map = d.boundary.map(boundarySVG)
        hasStaff = !staff.isEmpty
        hasChildren = !children.isEmpty
        hasBuildings = !buildings.isEmpty
    }
}

struct HouseholdView: Sendable { let room: String; let residents: Int }

struct PersonView: Sendable {
    let id: Int64
    let href: String
    let name: String
    let facts: String
    let idText: String
    let idRevealed: Bool
    let phoneText: String?
    let phoneRevealed: Bool
    let canUnmaskID: Bool
    let canUnmaskPhone: Bool
    let tags: [String]
}

struct HouseholdGroup: Sendable { let room: String; let href: String; let occupancy: String?; let people: [PersonView] }

struct BuildingPage: PageView {
    let title: String
    let code: String
    let crumbs: [CrumbView]
    let address: String
    let counts: [CountView]
    let staff: [StaffView]
    let households: [HouseholdView]
    /// Residents by household, for a viewer in scope; nil shows the public room list.
    let residents: [HouseholdGroup]?
    /// Stored for the template (which sees stored properties only); a department may see an empty list.
    let hasResidents: Bool
    let departmentNote: String?
    let tools: StaffTools?

    /// One field of one resident, just unmasked.
    struct Revealed: Sendable { let resident: Int64; let field: Policy.SealedField; let value: String }

    init(_ d: BuildingDetail, residents: [ResidentView]? = nil, viewer: Viewer? = nil, revealed: Revealed? = nil) {
        let b = d.building
        title = b.name
        code = b.code.value
        crumbs = crumbViews(d.path, then: (href: "/net/\(b.code)", name: b.name))
        address = b.address
        counts = [CountView(label: "户", value: grouped(b.households)), CountView(label: "居民", value: grouped(b.residents)),
                  CountView(label: "层", value: String(b.floors)), CountView(label: "单元", value: String(b.units))]
        staff = (b.head.map { [StaffView($0)] } ?? []) + d.gridStaff.map(StaffView.init)
        households = d.households.map { HouseholdView(room: $0.room, residents: $0.residents) }
        departmentNote = viewer?.role == .departmentOfficer
            ? "部门视图:只显示与\(viewer?.department?.label ?? "")职责相关的居民与标签" : nil
        hasResidents = residents != nil
        tools = residents == nil ? nil : StaffTools(viewer, code: b.code)
        guard let residents, let viewer else { self.residents = nil; return }
        let dwellings = Dictionary(d.households.map { ($0.room, $0) }, uniquingKeysWith: { a, _ in a })
        let today = CivilDate.today()
        var groups: [HouseholdGroup] = []
        for r in residents {
            let idShown = revealed.flatMap { $0.resident == r.id && $0.field == .citizenID ? $0.value : nil }
            let phoneShown = revealed.flatMap { $0.resident == r.id && $0.field == .phone ? $0.value : nil }
            let person = PersonView(
                id: r.id, href: "/registry/residents/\(r.id)", name: r.name,
                facts: "\(r.relation.label) · \(r.sex.label) · \(r.birthDate.years(until: today))岁 · \(r.ethnicity)",
                idText: idShown ?? r.idMasked, idRevealed: idShown != nil,
                phoneText: phoneShown ?? r.phoneMasked, phoneRevealed: phoneShown != nil,
                canUnmaskID: idShown == nil && Policy.mayUnmask(.citizenID, viewer: viewer),
                canUnmaskPhone: phoneShown == nil && r.phoneMasked != nil && Policy.mayUnmask(.phone, viewer: viewer),
                tags: r.tags.map(\.label))
            if let last = groups.last, last.room == r.room {
                groups[groups.count - 1] = HouseholdGroup(room: r.room, href: last.href, occupancy: last.occupancy, people: last.people + [person])
            } else {
                let dwelling = dwellings[r.room]
                groups.append(HouseholdGroup(room: r.room, href: dwelling.map { "/registry/households/\($0.id)" } ?? "#",
                                             occupancy: dwelling.flatMap { $0.occupancy == .ownerOccupied ? nil : $0.occupancy.label },
                                             people: [person]))
            }
        }
        self.residents = groups
    }
}

func crumbViews(_ path: [RegionRef], then leaf: (href: String, name: String)? = nil) -> [CrumbView] {
    let links = path.map { (href: $0.level == .county ? "/" : "/net/\($0.code)", name: $0.name) } + (leaf.map { [$0] } ?? [])
    return links.enumerated().map { i, l in CrumbView(href: l.href, name: l.name, last: i == links.count - 1) }
}

/// The grid's boundary drawn as an SVG outline, scaled into a 300×200 box.
func boundarySVG(_ ring: [[Double]]) -> String {
    guard ring.count >= 3 else { return "" }
    let xs = ring.map { $0[0] }, ys = ring.map { $0[1] }
    let minX = xs.min()!, maxX = xs.max()!, minY = ys.min()!, maxY = ys.max()!
    let scale = min(280 / max(maxX - minX, 1e-9), 180 / max(maxY - minY, 1e-9))
    let points = ring.map { p in
        let x = 10 + (p[0] - minX) * scale, y = 10 + (maxY - p[1]) * scale
        return "\((x * 10).rounded() / 10),\((y * 10).rounded() / 10)"
    }.joined(separator: " ")
    return #"<svg class="map" viewBox="0 0 300 200" role="img" aria-label="网格边界"><polygon points="\#(points)"/></svg>"#
}
