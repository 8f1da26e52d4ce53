import Foundation
import GridworkCore

extension CampaignStore {
    /// Writes the doors of the viewer's part of a campaign with their answers, one column per question,
    /// as CSV (UTF-8 with BOM, neutralised) or XLSX; audited. Returns the number of doors written.
    @discardableResult
    public func export(_ id: Int64, to path: String, format: ExportFormat, viewer: Viewer, address: String) async throws -> Int {
        let campaign = try await self.campaign(id, viewer: viewer)
        let c = campaign.summary
        guard Self.manages(c, viewer: viewer) || Policy.netOfficers.contains(viewer.role) else {
            throw StoreError.notFound(what: Self.sealedCampaign, key: String(id))
        }
        let focus = Self.focus(c, viewer: viewer)
        var sheet: any SheetWriter = switch format {
        case .csv: try CSVSheetWriter(path: path)
        case .xlsx: try XLSXWriter(path: path, sheetName: "排查结果")
        }
        let fields = campaign.form.fields
        try sheet.append(["楼栋编码", "地址", "房号", "对象", "状态", "走访次数"] + fields.map(\.label) + ["需处置", "事项编号", "填报人", "填报时间"])
        var written = 0
        var lastID: Int64 = 0
        while true {
            let rows = try await visits("""
                v.campaign_id = \(bind: id) AND v.id > \(bind: lastID) AND g.code >= \(bind: focus.value) AND g.code < \(bind: focus.value + ":")
                """, order: "v.id", limit: 5000)
            guard let last = rows.last else { break }
            lastID = last.id
            for v in rows {
                try sheet.append([v.building.value, v.address, v.room, v.person ?? "全户", v.state.label, String(v.attempts)]
                                 + fields.map { f in f.kind == .photo ? (v.answers[f.key] == nil ? "" : "有照片") : v.answers[f.key] ?? "" }
                                 + [v.finding ? "是" : "", v.caseID.map(String.init) ?? "", v.answeredBy ?? "",
                                    v.answeredAt.map(WorkCalendar.localText) ?? ""])
            }
            written += rows.count
        }
        try sheet.close()
        try await Store.audit(database, actor: Actor(viewer, address: address), action: "campaigns.export", target: "campaign:\(id)",
                              detail: "\(focus) \(written) visits \(format.rawValue)")
        return written
    }
}
