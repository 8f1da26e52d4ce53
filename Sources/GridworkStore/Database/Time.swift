import Foundation
import GridworkCore

extension Calendar {
    /// Times are stored in UTC and shown in Asia/Shanghai, where the county is.
    public static let shanghai: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "Asia/Shanghai")!
        return calendar
    }()
}

extension CivilDate {
    /// Today in Asia/Shanghai.
    public static func today() -> CivilDate {
        let c = Calendar.shanghai.dateComponents([.year, .month, .day], from: Date())
        return CivilDate(year: c.year!, month: c.month!, day: c.day!)!
    }
}
