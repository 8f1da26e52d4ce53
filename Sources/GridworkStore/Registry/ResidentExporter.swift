import Foundation
import GridworkCore
import SQLKit

/// Writes the residents within a scope as a CSV Excel opens (UTF-8 with BOM),
/// in the same columns the importer reads. ID numbers and phones are masked
/// unless `unmasked`, which only a viewer allowed to unmask both may ask for,
/// and which is audited. Every cell is neutralised against CSV injection.
public struct ResidentExporter: Sendable {
    let store: Store

    public init(store: Store) { self.store = store }

    public static let header: [ImportColumn] = [.name, .citizenID, .sex, .ethnicity, .birthDate, .phone, .building, .room,
                                                .relation, .tags, .address, .registeredAddress]

    /// Returns the number of residents written.
    @discardableResult
    public func export(to path: String, viewer: Viewer, unmasked: Bool, address: String) async throws -> Int {
        guard let tags = Policy.visibleTags(for: viewer), !Policy.seesOnlyTagged(viewer) || !tags.isEmpty else {
            throw StoreError.notFound(what: "居民 (residents)", key: viewer.scope.value)
        }
        if unmasked, !(Policy.mayUnmask(.citizenID, viewer: viewer) && Policy.mayUnmask(.phone, viewer: viewer)) {
            throw StoreError.invalid(field: "unmasked", reason: "您的角色不能导出完整证件号和电话 (your role may not export unmasked data)")
        }
        guard FileManager.default.createFile(atPath: path, contents: Data([0xEF, 0xBB, 0xBF])),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw StoreError.invalid(field: path, reason: "无法写入文件 (cannot write the file)")
        }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        func line(_ cells: [String]) -> Data { Data((cells.map(SpreadsheetSafety.csvField).joined(separator: ",") + "\r\n").utf8) }
        try handle.write(contentsOf: line(Self.header.map(\.label)))

        let onlyTagged = ResidentStore.dutyFilter(viewer, tags: tags)
        let sealer = store.sealer
        var written = 0
        var lastID: Int64 = 0
        // Pages by id keep memory flat for a million rows.
        while true {
            let rows = try await store.database.reader.raw("""
                SELECT r.id, r.name, r.sex, r.birth_date, r.ethnicity, r.relation, r.id_sealed, r.id_masked, r.phone_sealed, r.phone_masked,
                       r.address, r.registered_address, h.room, b.number, g.code,
                       \(ResidentStore.tagsColumn(store.database.kind))
                FROM residents r JOIN households h ON h.id = r.household_id
                JOIN buildings b ON b.id = r.building_id JOIN regions g ON g.id = b.grid_id
                WHERE r.id > \(bind: lastID) AND \(ResidentStore.inScope(viewer)) \(onlyTagged)
                ORDER BY r.id LIMIT 5000
                """).all()
            guard let last = rows.last else { break }
            lastID = try last.decode(column: "id", as: Int64.self)
            var chunk = Data()
            for r in rows {
                let idText = unmasked ? try sealer.open(try r.decode(column: "id_sealed", as: String.self)) : try r.decode(column: "id_masked", as: String.self)
                let phoneText = unmasked ? try r.decode(column: "phone_sealed", as: String?.self).map { try sealer.open($0) } ?? ""
                                         : try r.decode(column: "phone_masked", as: String?.self) ?? ""
                let shown = (try r.decode(column: "tags", as: String?.self) ?? "").split(separator: ",")
                    .compactMap { ResidentTag(rawValue: String($0)) }.filter(tags.contains).map(\.label)
                let building = try r.decode(column: "code", as: String.self) + String(try r.decode(column: "number", as: Int.self)).leftPadded(3)
                chunk.append(line([
                    try r.decode(column: "name", as: String.self), idText,
                    Sex(rawValue: try r.decode(column: "sex", as: String.self))?.label ?? "",
                    try r.decode(column: "ethnicity", as: String.self), try r.decode(column: "birth_date", as: String.self), phoneText,
                    building, try r.decode(column: "room", as: String.self),
                    Relation(rawValue: try r.decode(column: "relation", as: String.self))?.label ?? "",
                    shown.joined(separator: "、"),
                    try r.decode(column: "address", as: String.self), try r.decode(column: "registered_address", as: String.self),
                ]))
            }
            try handle.write(contentsOf: chunk)
            written += rows.count
        }
        try await store.audit(actor: Actor(viewer, address: address), action: unmasked ? "export.unmasked" : "export.masked",
                              target: "region:\(viewer.scope)", detail: "\(written) residents")
        return written
    }
}
