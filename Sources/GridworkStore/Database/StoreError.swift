/// Errors a store call reports to a person; `message` is one line, Chinese first.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    case badURL(String, reason: String)
    case unreachable(String, reason: String)
    case keyMismatch(String)
    case notFound(what: String, key: String)
    case conflict(String)
    case invalid(field: String, reason: String)

    public var message: String {
        switch self {
        case .badURL(let url, let reason): "数据库地址无效 (invalid database URL) \(url): \(reason)"
        case .unreachable(let url, let reason): "无法连接数据库 (cannot reach database) \(url): \(reason)"
        case .keyMismatch(let path): "加密密钥与数据库不匹配 (the sealing key \(path) does not match this database)"
        case .notFound(let what, let key): "未找到\(what) (not found): \(key)"
        case .conflict(let reason): "操作冲突 (conflict): \(reason)"
        case .invalid(let field, let reason): "\(field): \(reason)"
        }
    }

    public var description: String { message }
}
