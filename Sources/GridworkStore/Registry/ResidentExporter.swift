import Foundation
import GridworkCore
import SQLKit

/// The spreadsheet formats the registry exports.
public enum ExportFormat: String, Sendable, CaseIterable {
    /// UTF-8 with a BOM, so Excel in China opens it without asking.
    case csv
    /// Office Open XML; every cell is text, so ID numbers keep all 18 digits.
    case xlsx

    public var contentType: String {
        switch self {
        case .csv: "text/csv; charset=utf-8"
        case .xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        }
    }
}

/// One row after another into a spreadsheet file.
protocol SheetWriter {
    mutating func append(_ cells: [String]) throws
    mutating func close() throws
}

extension XLSXWriter: SheetWriter {}

/// A CSV Excel opens (UTF-8 with BOM), every cell neutralised against CSV injection.
struct CSVSheetWriter: SheetWriter {
    private let handle: FileHandle
    private var buffer = Data()

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data([0xEF, 0xBB, 0xBF])),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw StoreError.invalid(field: path, reason: "无法写入文件 (cannot write the file)")
        }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    mutating func append(_ cells: [String]) throws {
        buffer.append(contentsOf: (cells.map(SpreadsheetSafety.csvField).joined(separator: ",") + "\r\n").utf8)
        if buffer.count >= 1 << 20 { try handle.write(contentsOf: buffer); buffer.removeAll(keepingCapacity: true) }
    }

    mutating func close() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll()
        try handle.close()
    }
}

/// Writes the residents within a scope as a spreadsheet (CSV or XLSX), in the
/// same columns the importer reads. ID numbers and phones are masked unless
/// `unmasked`, which only a viewer allowed to unmask both may ask for, and
/// which is audited. Only people living here now are listed.
public struct ResidentExporter: Sendable {
    let store: Store

    public init(store: Store) { self.store = store }

    public static let header: [ImportColumn] = [.name, .citizenID, .sex, .ethnicity, .birthDate, .phone, .building, .room,
                                                .relation, .tags, .address, .registeredAddress]

    /// Returns the number of residents written.
    @discardableResult
    public func export(to path: String, format: ExportFormat = .csv, viewer: Viewer, unmasked: Bool, address: String) async throws -> Int {
        guard let tags = Policy.visibleTags(for: viewer), !Policy.seesOnlyTagged(viewer) || !tags.isEmpty else {
            throw StoreError.notFound(what: "居民 (residents)", key: viewer.scope.value)
        }
        if unmasked, !(Policy.mayUnmask(.citizenID, viewer: viewer) && Policy.mayUnmask(.phone, viewer: viewer)) {
            throw StoreError.invalid(field: "unmasked", reason: "您的角色不能导出完整证件号和电话 (your role may not export unmasked data)")
        }
        var sheet: any SheetWriter = switch format {
        case .csv: try CSVSheetWriter(path: path)
        case .xlsx: try XLSXWriter(path: path, sheetName: "居民")
        }
        try sheet.append(Self.header.map(\.label))

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
                WHERE r.id > \(bind: lastID) AND r.status = 'present' AND \(ResidentStore.inScope(viewer)) \(onlyTagged)
                ORDER BY r.id LIMIT 5000
                """).all()
            guard let last = rows.last else { break }
            lastID = try last.decode(column: "id", as: Int64.self)
            for r in rows {
                let idText = unmasked ? try sealer.open(try r.decode(column: "id_sealed", as: String.self)) : try r.decode(column: "id_masked", as: String.self)
                let phoneText = unmasked ? try r.decode(column: "phone_sealed", as: String?.self).map { try sealer.open($0) } ?? ""
                                         : try r.decode(column: "phone_masked", as: String?.self) ?? ""
                let shown = (try r.decode(column: "tags", as: String?.self) ?? "").split(separator: ",")
                    .compactMap { ResidentTag(rawValue: String($0)) }.filter(tags.contains).map(\.label)
                let building = try r.decode(column: "code", as: String.self) + String(try r.decode(column: "number", as: Int.self)).leftPadded(3)
                try sheet.append([
                    try r.decode(column: "name", as: String.self), idText,
                    Sex(rawValue: try r.decode(column: "sex", as: String.self))?.label ?? "",
                    try r.decode(column: "ethnicity", as: String.self), try r.decode(column: "birth_date", as: String.self), phoneText,
                    building, try r.decode(column: "room", as: String.self),
                    Relation(rawValue: try r.decode(column: "relation", as: String.self))?.label ?? "",
                    shown.joined(separator: "、"),
                    try r.decode(column: "address", as: String.self), try r.decode(column: "registered_address", as: String.self),
                ])
            }
            written += rows.count
        }
        try sheet.close()
        try await store.audit(actor: Actor(viewer, address: address), action: unmasked ? "export.unmasked" : "export.masked",
                              target: "region:\(viewer.scope)", detail: "\(written) residents")
        return written
    }
}
