/// Working time in the county, for deadlines counted in working hours and days:
/// 08:30–12:00 and 14:00–17:30 Beijing time (UTC+8, no daylight saving), Monday to
/// Friday, less public holidays, plus the weekend days worked in their place (调休).
/// Instants are seconds since 1970 UTC, so the rules need no calendar library.
public struct WorkCalendar: Sendable, Equatable {
    public var holidays: Set<CivilDate>
    public var workdays: Set<CivilDate>

    public static let offset: Int64 = 8 * 3600
    /// Working periods as minutes of the day.
    public static let periods: [(start: Int64, end: Int64)] = [(8 * 60 + 30, 12 * 60), (14 * 60, 17 * 60 + 30)]
    public static let minutesPerDay: Int64 = periods.reduce(0) { $0 + $1.end - $1.start }

    public init(holidays: Set<CivilDate> = [], workdays: Set<CivilDate> = []) {
        self.holidays = holidays; self.workdays = workdays
    }

    public func isWorkingDay(_ day: CivilDate) -> Bool {
        if workdays.contains(day) { return true }
        if holidays.contains(day) { return false }
        let weekday = day.weekday
        return weekday != 0 && weekday != 6
    }

    /// The instant `minutes` working minutes after `start`.
    public func adding(workingMinutes minutes: Int64, to start: Int64) -> Int64 {
        var remaining = max(0, minutes)
        var day = Self.localDay(start)
        var minuteOfDay = (start + Self.offset - day * 86_400) / 60
        // Bounded: a year of holidays cannot hold more than 366 days.
        for _ in 0..<(Int(remaining / max(1, Self.minutesPerDay)) + 400) {
            if isWorkingDay(CivilDate(daysSinceEpoch: day)) {
                for p in Self.periods where minuteOfDay < p.end {
                    let from = max(minuteOfDay, p.start)
                    let available = p.end - from
                    if remaining <= available { return day * 86_400 - Self.offset + (from + remaining) * 60 }
                    remaining -= available
                    minuteOfDay = p.end
                }
            }
            day += 1
            minuteOfDay = 0
        }
        return day * 86_400 - Self.offset
    }

    /// The instant `days` working days after `start`: the end of that working day.
    public func adding(workingDays days: Int, to start: Int64) -> Int64 {
        adding(workingMinutes: Int64(max(0, days)) * Self.minutesPerDay, to: start)
    }

    /// An instant as Beijing wall time the way pages and exports show it: "11月29日 08:05".
    public static func localText(_ instant: Int64) -> String {
        let day = CivilDate(daysSinceEpoch: localDay(instant))
        let minutes = (instant + offset - localDay(instant) * 86_400) / 60
        let hh = minutes / 60, mm = minutes % 60
        return "\(day.month)月\(day.day)日 \(hh < 10 ? "0" : "")\(hh):\(mm < 10 ? "0" : "")\(mm)"
    }

    /// The Beijing day number (days since 1970-01-01) of an instant.
    public static func localDay(_ instant: Int64) -> Int64 {
        let local = instant + offset
        return local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
    }

    /// A sensible default: China's public holidays and make-up working days announced for 2026
    /// (元旦, 春节, 清明, 劳动节, 端午, 中秋, 国庆). The county edits them in settings each year.
    public static let china2026: WorkCalendar = {
        func days(_ month: Int, _ from: Int, _ to: Int) -> [CivilDate] { (from...to).compactMap { CivilDate(year: 2026, month: month, day: $0) } }
        let off = days(1, 1, 3) + days(2, 15, 23) + days(4, 4, 6) + days(5, 1, 5) + days(6, 19, 21) + days(9, 25, 27) + days(10, 1, 7)
        let on = [CivilDate(year: 2026, month: 1, day: 4), CivilDate(year: 2026, month: 2, day: 14), CivilDate(year: 2026, month: 2, day: 28),
                  CivilDate(year: 2026, month: 5, day: 9), CivilDate(year: 2026, month: 9, day: 20), CivilDate(year: 2026, month: 10, day: 10)]
        return WorkCalendar(holidays: Set(off), workdays: Set(on.compactMap { $0 }))
    }()
}

extension CivilDate {
    /// The date `days` after 1970-01-01 (proleptic Gregorian).
    public init(daysSinceEpoch days: Int64) {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        let y = Int(yoe + era * 400) + (m <= 2 ? 1 : 0)
        self = CivilDate(year: y, month: m, day: d)!
    }

    /// Days since 1970-01-01.
    public var daysSinceEpoch: Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64(month > 2 ? month - 3 : month + 9)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// 0 for Sunday through 6 for Saturday.
    public var weekday: Int { Int(((daysSinceEpoch % 7) + 11) % 7) }
}
