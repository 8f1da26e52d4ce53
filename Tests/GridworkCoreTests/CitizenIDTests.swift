import Testing
@testable import GridworkCore

@Suite struct CitizenIDTests {
    /// The examples printed in GB 11643-1999 and its commentary.
    @Test(arguments: [
        ("11010519491231002X", Sex.female, "1949-12-31"),
        ("440524188001010014", Sex.male, "1880-01-01"),
    ])
    func publishedValidExamples(number: String, sex: Sex, birth: String) throws {
        let id = try CitizenID(number)
        #expect(id.sex == sex)
        #expect(id.birthDate.iso == birth)
    }

    @Test func lowercaseXIsNormalised() throws {
        #expect(try CitizenID(" 11010519491231002x ").value == "11010519491231002X")
    }

    @Test func wrongCheckCharacterIsRejected() {
        #expect(throws: CitizenID.Invalid.checkCharacter(expected: "X", found: "3")) { try CitizenID("110105194912310023") }
        #expect(throws: CitizenID.Invalid.checkCharacter(expected: "4", found: "5")) { try CitizenID("440524188001010015") }
    }

    @Test func impossibleBirthDatesAreRejected() {
        // 30 February, and 29 February in a year that is not a leap year (1900).
        #expect(throws: CitizenID.Invalid.birthDate("19900230")) { try CitizenID("430524199002300011") }
        #expect(throws: CitizenID.Invalid.birthDate("19000229")) { try CitizenID("430524190002290011") }
    }

    @Test func wrongLengthAndCharactersAreRejected() {
        #expect(throws: CitizenID.Invalid.length(17)) { try CitizenID("11010519491231002") }
        #expect(throws: CitizenID.Invalid.length(15)) { try CitizenID("110105491231002") }
        #expect(throws: CitizenID.Invalid.character(position: 3)) { try CitizenID("11A10519491231002X") }
        #expect(throws: CitizenID.Invalid.character(position: 18)) { try CitizenID("11010519491231002Y") }
    }

    @Test func builtNumbersValidateAndCarryBirthAndSex() throws {
        let birth = CivilDate(year: 2000, month: 2, day: 29)!
        let man = CitizenID(region: "430524", birth: birth, sequence: 123, sex: .male)
        let woman = CitizenID(region: "430524", birth: birth, sequence: 124, sex: .female)
        for id in [man, woman] {
            #expect(try CitizenID(id.value) == id)
            #expect(id.birthDate == birth)
            #expect(id.regionCode == "430524")
        }
        #expect(man.sex == .male)
        #expect(woman.sex == .female)
    }

    @Test func maskShowsRegionAndLastFour() throws {
        #expect(try CitizenID("11010519491231002X").masked == "110105********002X")
    }

    @Test func reasonsAreChineseFirst() {
        #expect(CitizenID.Invalid.length(17).reason.hasPrefix("身份证号应为18位"))
    }
}

@Suite struct MobilePhoneTests {
    @Test func acceptsMainlandMobiles() {
        #expect(MobilePhone("13812342151")?.masked == "138****2151")
        #expect(MobilePhone("+8619912345678")?.value == "19912345678")
        // Not the plain 11 digits: the careful path trims and takes the +86 off.
        #expect(MobilePhone(" 13812342151\u{3000}")?.value == "13812342151")
        #expect(MobilePhone("+86 13812342151") == nil)
        #expect(MobilePhone("19912345678")?.masked == "199****5678")
    }

    @Test(arguments: ["1381234215", "12812342151", "10812342151", "23812342151", "1381234215a", "138123421512", "0739-8222110", "",
                      "１３８１２３４２１５１"])
    func rejectsOthers(text: String) {
        #expect(MobilePhone(text) == nil)
    }
}

@Suite struct CivilDateTests {
    @Test func leapYears() {
        #expect(CivilDate(year: 2000, month: 2, day: 29) != nil)
        #expect(CivilDate(year: 2024, month: 2, day: 29) != nil)
        #expect(CivilDate(year: 2100, month: 2, day: 29) == nil)
        #expect(CivilDate(year: 2023, month: 4, day: 31) == nil)
    }

    @Test func ages() {
        let birth = CivilDate(year: 1950, month: 6, day: 15)!
        #expect(birth.years(until: CivilDate(year: 2026, month: 6, day: 14)!) == 75)
        #expect(birth.years(until: CivilDate(year: 2026, month: 6, day: 15)!) == 76)
    }
}
