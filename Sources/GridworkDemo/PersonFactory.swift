import GridworkCore

/// Makes plausible residents: households of a realistic shape, ages that
/// add up to a county's pyramid, ID numbers whose birth date and sex agree
/// with the person, and mobile numbers on real carrier prefixes.
struct PersonFactory {
    let referenceYear: Int
    var rng: SeededRandom
    /// Next free sequence per (birth date, sex), so every ID number is unique.
    private var sequences: [Int: Int] = [:]

    init(referenceYear: Int, seed: UInt64) {
        self.referenceYear = referenceYear
        rng = SeededRandom(seed: seed)
    }

    /// Adult ages for a head of household, shaped by the 2020 census pyramid (5-year bands).
    static let headAges = Weighted<ClosedRange<Int>>([
        (20...24, 2.0), (25...29, 5.0), (30...34, 8.0), (35...39, 7.5), (40...44, 7.5), (45...49, 9.0), (50...54, 9.5),
        (55...59, 8.0), (60...64, 6.5), (65...69, 6.0), (70...74, 4.5), (75...79, 3.0), (80...84, 2.0), (85...94, 1.2),
    ])
    static let carrierPrefixes = ["130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
                                  "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180",
                                  "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "195", "198", "199"]

    struct Member { let age: Int; let sex: Sex; let relation: Relation; let surname: String }

    mutating func household(size: Int, address: String, minority: (name: String, share: Double)?, elsewhere: String?) -> [ResidentRecord] {
        let family = Names.surnames.pick(&rng)
        let headSex: Sex = rng.chance(0.75) ? .male : .female
        let headAge: Int = switch size {
        case 1: rng.chance(0.5) ? rng.int(60...92) : rng.int(20...59)
        case 2: rng.int(Self.headAges.pick(&rng))
        default: rng.int(25...58)
        }
        var members = [Member(age: headAge, sex: headSex, relation: .head, surname: family)]
        let other: Sex = headSex == .male ? .female : .male
        if size >= 2 {
            if size == 2, headAge < 40, rng.chance(0.3) {
                // A young adult living with a parent.
                members.append(Member(age: min(95, headAge + rng.int(22...30)), sex: other, relation: other == .male ? .father : .mother, surname: family))
            } else {
                let spouseAge = max(20, headAge + rng.int(-5...3))
                members.append(Member(age: spouseAge, sex: other, relation: .spouse, surname: Names.surnames.pick(&rng)))
            }
        }
        let childSurname = headSex == .male ? family : members.count > 1 && members[1].relation == .spouse ? members[1].surname : family
        let children = switch size { case 3: 1; case 4: rng.chance(0.6) ? 2 : 1; case 5: 2; case 6: 2; default: 0 }
        for _ in 0..<children {
            let sex: Sex = rng.chance(0.52) ? .male : .female
            let age = max(0, headAge - rng.int(22...34))
            members.append(Member(age: age, sex: sex, relation: sex == .male ? .son : .daughter, surname: childSurname))
        }
        // Grandparents (the head's parents) fill larger households.
        var parentSex = Sex.male
        while members.count < size {
            members.append(Member(age: min(98, headAge + rng.int(22...32)), sex: parentSex, relation: parentSex == .male ? .father : .mother, surname: parentSex == .male ? family : Names.surnames.pick(&rng)))
            parentSex = .female
        }

        let ethnicity = minority.flatMap { rng.chance($0.share) ? $0.name : nil } ?? "汉族"
        return members.map { m in
            let birth = birthDate(age: m.age)
            var tags: [ResidentTag] = []
            if size == 1, m.age >= 65 { tags.append(.elderlyAlone) }
            if rng.chance(m.age >= 60 ? 0.05 : 0.015) { tags.append(.disability) }
            if rng.chance(0.03) { tags.append(.lowIncome) }
            if m.sex == .male, m.age >= 40, rng.chance(0.03) { tags.append(.veteran) }
            if (14...25).contains(m.age), rng.chance(0.01) { tags.append(.keyYouth) }
            if m.age >= 18, rng.chance(0.0008) { tags.append(.communityCorrection) }
            if m.age >= 18, rng.chance(0.001) { tags.append(.releasedPrisoner) }
            if m.age >= 18, rng.chance(0.003) { tags.append(.mentalHealth) }
            if (3...15).contains(m.age), rng.chance(0.04) { tags.append(.leftBehindChild) }
            return ResidentRecord(
                name: Names.person(surname: m.surname, sex: m.sex, birthYear: birth.year, &rng),
                sex: m.sex, birthDate: birth, ethnicity: ethnicity,
                citizenID: citizenID(birth: birth, sex: m.sex),
                phone: m.age >= 16 && rng.chance(0.93) ? mobile() : nil,
                relation: m.relation, address: address, registeredAddress: elsewhere ?? address, tags: tags)
        }
    }

    mutating func birthDate(age: Int) -> CivilDate {
        let year = referenceYear - 1 - age
        let month = rng.int(1...12)
        return CivilDate(year: year, month: month, day: rng.int(1...CivilDate.daysIn(month: month, year: year)))!
    }

    /// Sequences run 1, 3, 5… for men and 2, 4, 6… for women; a full day moves on to the next.
    mutating func citizenID(birth: CivilDate, sex: Sex) -> CitizenID {
        var date = birth
        while true {
            let key = (date.year * 10_000 + date.month * 100 + date.day) * 2 + (sex == .male ? 1 : 0)
            let n = sequences[key, default: 0]
            let sequence = sex == .male ? 2 * n + 1 : 2 * n + 2
            if sequence <= 999 {
                sequences[key] = n + 1
                return CitizenID(region: "430524", birth: date, sequence: sequence, sex: sex)
            }
            date = date.day < CivilDate.daysIn(month: date.month, year: date.year)
                ? CivilDate(year: date.year, month: date.month, day: date.day + 1)!
                : CivilDate(year: date.year, month: date.month % 12 + 1, day: 1)!
        }
    }

    mutating func mobile() -> MobilePhone {
        MobilePhone(rng.pick(Self.carrierPrefixes) + String(rng.int(0...99_999_999)).leftPadded(8))!
    }

    /// Work phones are public; in the demo they are invented like every other number.
    mutating func workPhone() -> String { mobile().value }

    mutating func staffPerson() -> (name: String, sex: Sex) {
        let sex: Sex = rng.chance(0.55) ? .female : .male
        return (Names.person(surname: Names.surnames.pick(&rng), sex: sex, birthYear: referenceYear - rng.int(28...60), &rng), sex)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
