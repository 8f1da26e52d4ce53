/// The closed loop's figures for one area, person or department over a period, counted from the matters
/// reported in it. Rates are nil when there is nothing to divide by, never a made-up 0 % or 100 %.
public struct CaseFigures: Sendable, Equatable, Codable {
    public var key: String
    public var name: String
    public var reported = 0
    public var accepted = 0
    public var handled = 0
    public var handledOnTime = 0
    public var closed = 0
    public var closedOnTime = 0
    public var reworked = 0
    public var rated = 0
    public var satisfied = 0
    /// Sum over handled matters of the time from dispatch to reported done, in seconds.
    public var handlingSeconds: Int64 = 0

    public init(key: String, name: String) { self.key = key; self.name = name }

    static func rate(_ part: Int, _ whole: Int) -> Double? { whole > 0 ? Double(part) / Double(whole) : nil }

    /// 受理率: taken in, of those reported.
    public var acceptanceRate: Double? { Self.rate(accepted, reported) }
    /// 按期处置率: reported done within the handling deadline, of those handled.
    public var onTimeHandlingRate: Double? { Self.rate(handledOnTime, handled) }
    /// 结案率: closed, of those taken in.
    public var closingRate: Double? { Self.rate(closed, accepted) }
    /// 按期结案率: handled and checked on time, of those closed.
    public var onTimeClosingRate: Double? { Self.rate(closedOnTime, closed) }
    /// 返工率: closed after at least one failed check or a reopening, of those closed.
    public var reworkRate: Double? { Self.rate(reworked, closed) }
    /// 满意率: rated 4 or 5, of those rated.
    public var satisfactionRate: Double? { Self.rate(satisfied, rated) }
    /// Average hours from dispatch to reported done.
    public var averageHandlingHours: Double? { handled > 0 ? Double(handlingSeconds) / Double(handled) / 3600 : nil }

    /// Adds another's counts (a township from its grids, the county from its townships).
    public mutating func add(_ o: CaseFigures) {
        reported += o.reported; accepted += o.accepted; handled += o.handled; handledOnTime += o.handledOnTime
        closed += o.closed; closedOnTime += o.closedOnTime; reworked += o.reworked; rated += o.rated; satisfied += o.satisfied
        handlingSeconds += o.handlingSeconds
    }

    /// A rate as a county office writes it: 96.4%, or — when there is nothing to count.
    public static func percent(_ rate: Double?) -> String {
        guard let rate else { return "—" }
        let tenths = Int((rate * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}
