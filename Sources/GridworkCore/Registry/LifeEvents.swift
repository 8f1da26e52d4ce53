/// Whether a person on the registry lives in the county now.
public enum ResidentStatus: String, Codable, Sendable, CaseIterable {
    case present, movedOut = "moved_out", deceased

    public var label: String {
        switch self {
        case .present: "在册"
        case .movedOut: "已迁出"
        case .deceased: "已死亡"
        }
    }
}

/// The changes of a person's life the registry records (户籍变动): each one
/// an event kept in the resident's history, never an overwrite.
public enum LifeEvent: Sendable, Equatable {
    /// 出生: a new person registered in a household.
    case birth
    /// 迁入: a person arriving in a household, from outside or from elsewhere in the county.
    case moveIn
    /// 迁出: a person leaving the county (or the registry's care), with where they went.
    case moveOut(destination: String)
    /// 死亡, with the date of death.
    case death(on: CivilDate)

    /// The kind written to the history.
    public var kind: String {
        switch self {
        case .birth: "born"
        case .moveIn: "moved_in"
        case .moveOut: "moved_out"
        case .death: "died"
        }
    }

    public var label: String {
        switch self {
        case .birth: "出生"
        case .moveIn: "迁入"
        case .moveOut: "迁出"
        case .death: "死亡"
        }
    }

    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        case notAllowed(from: ResidentStatus, event: String)
        case missing(String)
        case future

        public var description: String {
            switch self {
            case .notAllowed(let from, let event): "状态为“\(from.label)”的居民不能登记“\(event)” (cannot record \(event) for a person who is \(from.rawValue))"
            case .missing(let what): "请填写\(what) (\(what) is required)"
            case .future: "死亡日期不能晚于今天 (the date of death is in the future)"
            }
        }
    }

    /// The status after this event, for a person now in `status` (nil: not yet on the registry).
    /// A pure rule: the store applies it inside the transaction that writes the event.
    public func apply(to status: ResidentStatus?, today: CivilDate) throws(Refusal) -> ResidentStatus {
        switch (self, status) {
        case (.birth, nil), (.moveIn, nil), (.moveIn, .movedOut?), (.moveIn, .present?): return .present
        case (.moveOut(let destination), .present?):
            guard !destination.trimmingWhitespace().isEmpty else { throw .missing("迁往地址") }
            return .movedOut
        case (.death(let date), .present?):
            guard date <= today else { throw .future }
            return .deceased
        default: throw .notAllowed(from: status ?? .present, event: label)
        }
    }
}
