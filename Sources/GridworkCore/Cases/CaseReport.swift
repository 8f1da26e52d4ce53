/// How a matter reached the platform.
public enum Channel: String, Sendable, Codable, CaseIterable {
    case resident, buildingHead = "building_head", gridWorker = "grid_worker", staff, hotline, open311, groupChat = "group_chat", patrol

    public var label: String {
        switch self {
        case .resident: "居民自报"
        case .buildingHead: "楼栋长上报"
        case .gridWorker: "网格员上报"
        case .staff: "社区/部门录入"
        case .hotline: "12345热线"
        case .open311: "外部系统(Open311)"
        case .groupChat: "网格群转报"
        case .patrol: "巡查发现"
        }
    }
}

/// A matter as someone reports it, checked field by field before anything is written.
public struct CaseReport: Sendable, Equatable {
    public var category: String
    public var severity: Severity
    public var title: String
    public var description: String
    public var reporterName: String
    public var reporterPhone: MobilePhone?
    public var channel: Channel

    public init(category: String, severity: Severity = .general, title: String, description: String, reporterName: String,
                reporterPhone: MobilePhone?, channel: Channel) {
        self.category = category; self.severity = severity; self.title = title; self.description = description
        self.reporterName = reporterName; self.reporterPhone = reporterPhone; self.channel = channel
    }

    /// Reads `category`, `severity`, `title`, `description`, `name`, `phone`, `channel` (the form's fields).
    /// `phoneRequired`: a resident without an account is reached by phone, so theirs is required.
    public static func parse(_ form: [String: String], phoneRequired: Bool, allowedChannels: [Channel]) throws(FormProblem) -> CaseReport {
        func text(_ key: String) -> String { form[key]?.trimmingWhitespace() ?? "" }
        let category = text("category")
        guard category.count == 4, category.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw FormProblem(field: "类别 (category)", reason: "请选择事项类别 (choose a category)")
        }
        let severity = text("severity").isEmpty ? Severity.general : Severity(rawValue: text("severity"))
        guard let severity else { throw FormProblem(field: "等级 (severity)", reason: "应为一般、较大、重大或特别重大 (unknown severity)") }
        let description = text("description")
        guard (4...2_000).contains(description.count) else {
            throw FormProblem(field: "情况描述 (description)", reason: "请写清发生了什么、在哪里,4到2000字 (4 to 2000 characters)")
        }
        var title = text("title")
        if title.isEmpty { title = String(description.prefix(20)) }
        guard title.count <= 60 else { throw FormProblem(field: "标题 (title)", reason: "最多60字 (at most 60 characters)") }
        let name = text("name")
        guard name.count <= 20 else { throw FormProblem(field: "姓名 (name)", reason: "最多20字 (at most 20 characters)") }
        var phone: MobilePhone?
        if !text("phone").isEmpty {
            guard let p = MobilePhone(text("phone")) else { throw FormProblem(field: "手机号 (phone)", reason: "应为11位手机号 (an 11-digit mobile number)") }
            phone = p
        } else if phoneRequired {
            throw FormProblem(field: "手机号 (phone)", reason: "请留下手机号,凭手机号和查询码查看办理进度 (needed to follow the matter)")
        }
        let channel = text("channel").isEmpty ? allowedChannels[0] : Channel(rawValue: text("channel"))
        guard let channel, allowedChannels.contains(channel) else {
            throw FormProblem(field: "来源 (channel)", reason: "此处不能选择该来源 (channel not allowed here)")
        }
        return CaseReport(category: category, severity: severity, title: title, description: description,
                          reporterName: name.isEmpty ? "匿名居民" : name, reporterPhone: phone, channel: channel)
    }
}

/// A photo attached to a matter: only real JPEG, PNG or WebP images, and not too big.
public enum PhotoCheck {
    public static let maxBytes = 5 * 1024 * 1024

    /// The content type the bytes really are, or why they are refused.
    public static func contentType(of bytes: [UInt8]) throws(FormProblem) -> String {
        guard !bytes.isEmpty else { throw FormProblem(field: "照片 (photo)", reason: "文件为空 (empty file)") }
        guard bytes.count <= maxBytes else { throw FormProblem(field: "照片 (photo)", reason: "照片不能超过5MB (at most 5 MB)") }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if bytes.count > 12, bytes.starts(with: Array("RIFF".utf8)), Array(bytes[8..<12]) == Array("WEBP".utf8) { return "image/webp" }
        throw FormProblem(field: "照片 (photo)", reason: "只接受JPEG、PNG或WebP图片,文件内容不是图片 (not a JPEG, PNG or WebP image)")
    }
}

/// Geometry for resolving a point to the grid whose boundary holds it.
public enum Geo {
    /// Even–odd rule over a ring of [longitude, latitude] pairs.
    public static func contains(_ ring: [[Double]], longitude x: Double, latitude y: Double) -> Bool {
        guard ring.count >= 3 else { return false }
        var inside = false
        var j = ring.count - 1
        for i in ring.indices {
            guard ring[i].count >= 2, ring[j].count >= 2 else { return false }
            let (xi, yi, xj, yj) = (ring[i][0], ring[i][1], ring[j][0], ring[j][1])
            if (yi > y) != (yj > y), x < (xj - xi) * (y - yi) / (yj - yi) + xi { inside.toggle() }
            j = i
        }
        return inside
    }
}
