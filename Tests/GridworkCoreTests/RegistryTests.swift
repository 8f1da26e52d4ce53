import Testing
@testable import GridworkCore

@Suite struct CreditCodeTests {
    @Test func publishedExamplesAreValid() throws {
        // The example printed with GB 32100-2015 and a Beijing enterprise's code.
        #expect(try CreditCode("91350100M000100Y43").division == "350100")
        #expect(try CreditCode(" 91110000802100433b ").value == "91110000802100433B")
    }

    @Test func seventeenCharactersAreCompletedWithTheirCheckCharacter() {
        #expect(CreditCode.completing("91350100M000100Y4")?.value == "91350100M000100Y43")
        #expect(CreditCode.completing("91350100O000100Y4") == nil)
    }

    @Test func aWrongCheckCharacterIsNamed() {
        #expect(throws: CreditCode.Problem.checkCharacter(expected: "3", found: "4")) { try CreditCode("91350100M000100Y44") }
    }

    @Test func lettersTheStandardLeavesOutAreRefused() {
        // I, O, S, V and Z never appear: they look like digits or each other.
        #expect(throws: CreditCode.Problem.character(position: 9, found: "O")) { try CreditCode("91350100O000100Y43") }
        #expect(throws: CreditCode.Problem.length(17)) { try CreditCode("91350100M000100Y4") }
    }
}

@Suite struct LifeEventTests {
    let today = CivilDate(year: 2026, month: 11, day: 29)!

    @Test func departuresAndArrivalsMoveBetweenStatuses() throws {
        #expect(try LifeEvent.birth.apply(to: nil, today: today) == .present)
        #expect(try LifeEvent.moveOut(destination: "长沙市岳麓区").apply(to: .present, today: today) == .movedOut)
        #expect(try LifeEvent.moveIn.apply(to: .movedOut, today: today) == .present)
        #expect(try LifeEvent.death(on: today).apply(to: .present, today: today) == .deceased)
    }

    @Test func impossibleStepsAreRefusedWithAReason() {
        #expect(throws: LifeEvent.Refusal.notAllowed(from: .deceased, event: "迁入")) { try LifeEvent.moveIn.apply(to: .deceased, today: today) }
        #expect(throws: LifeEvent.Refusal.notAllowed(from: .present, event: "出生")) { try LifeEvent.birth.apply(to: .present, today: today) }
        #expect(throws: LifeEvent.Refusal.notAllowed(from: .movedOut, event: "迁出")) {
            try LifeEvent.moveOut(destination: "x").apply(to: .movedOut, today: today)
        }
        #expect(throws: LifeEvent.Refusal.missing("迁往地址")) { try LifeEvent.moveOut(destination: " ").apply(to: .present, today: today) }
        #expect(throws: LifeEvent.Refusal.future) {
            try LifeEvent.death(on: CivilDate(year: 2026, month: 12, day: 1)!).apply(to: .present, today: today)
        }
    }

    @Test func theDepartureFormIsCheckedFieldByField() throws {
        #expect(try LifeEvent.parseDeparture(["event": "move_out", "destination": " 广东省深圳市 "], today: today) == .moveOut(destination: "广东省深圳市"))
        #expect(try LifeEvent.parseDeparture(["event": "death", "date": "2026-11-28"], today: today) == .death(on: CivilDate(year: 2026, month: 11, day: 28)!))
        #expect(throws: FormProblem.self) { try LifeEvent.parseDeparture(["event": "death", "date": "2026-02-30"], today: today) }
        #expect(throws: FormProblem.self) { try LifeEvent.parseDeparture(["event": "death", "date": "2027-01-01"], today: today) }
        #expect(throws: FormProblem.self) { try LifeEvent.parseDeparture(["event": "move_out", "destination": ""], today: today) }
        #expect(throws: FormProblem.self) { try LifeEvent.parseDeparture(["event": "vanished"], today: today) }
    }
}

@Suite struct RegistryFormTests {
    let today = CivilDate(year: 2026, month: 11, day: 29)!
    let baby = CitizenID(region: "430524", birth: CivilDate(year: 2026, month: 10, day: 2)!, sequence: 12, sex: .female)
    let adult = CitizenID(region: "430524", birth: CivilDate(year: 1980, month: 5, day: 6)!, sequence: 13, sex: .male)

    @Test func aBirthTakesSexAndDateFromTheIDNumber() throws {
        let p = try NewResident.parse(["event": "birth", "name": "刘小雨", "id_number": baby.value, "relation": "daughter"], today: today)
        #expect(p.sex == .female && p.birthDate == CivilDate(year: 2026, month: 10, day: 2)! && p.ethnicity == "汉族" && p.phone == nil)
    }

    @Test func badFieldsAreNamed() {
        func field(_ form: [String: String]) -> String? {
            do { _ = try NewResident.parse(form, today: today); return nil } catch { return error.field }
        }
        let good = ["event": "move_in", "name": "王建军", "id_number": adult.value, "relation": "head", "phone": "13807391234"]
        #expect(field(good) == nil)
        #expect(field(good.merging(["id_number": String(adult.value.dropLast()) + "0"]) { $1 })?.hasPrefix("公民身份号码") == true)
        #expect(field(good.merging(["name": "<script>"]) { $1 })?.hasPrefix("姓名") == true)
        #expect(field(good.merging(["phone": "12345"]) { $1 })?.hasPrefix("联系电话") == true)
        #expect(field(good.merging(["relation": "cousin"]) { $1 })?.hasPrefix("与户主关系") == true)
        #expect(field(good.merging(["event": "birth"]) { $1 })?.hasPrefix("公民身份号码") == true) // an adult is not born today
        #expect(field(good.merging(["ethnicity": "'; DROP TABLE residents; --"]) { $1 })?.hasPrefix("民族") == true)
    }

    @Test func anOrganisationNeedsAValidCreditCode() throws {
        let form = ["name": "隆回县桃洪镇示范超市", "credit_code": "91350100M000100Y43", "kind": "company",
                    "address": "桃洪镇东正街18号", "contact": "李明", "contact_phone": "0739-8222110"]
        #expect(try NewOrganisation.parse(form).creditCode.value == "91350100M000100Y43")
        #expect(throws: FormProblem.self) { try NewOrganisation.parse(form.merging(["credit_code": "91350100M000100Y44"]) { $1 }) }
        #expect(throws: FormProblem.self) { try NewOrganisation.parse(form.merging(["kind": "bank"]) { $1 }) }
        #expect(throws: FormProblem.self) { try NewOrganisation.parse(form.merging(["contact_phone": "call me"]) { $1 }) }
    }
}

@Suite struct ResidentQueryTests {
    @Test func aWholeIDIsMatchedExactlyAndAMaskedOneByItsEnds() throws {
        let id = CitizenID(region: "430524", birth: CivilDate(year: 1950, month: 1, day: 1)!, sequence: 21, sex: .male)
        #expect(try ResidentQuery.parse(["id": id.value]).id == .exact(id))
        #expect(try ResidentQuery.parse(["id": id.masked]).id == .masked(prefix: "430524", suffix: String(id.value.suffix(4))))
        #expect(try ResidentQuery.parse(["id": "4305241234"]).id == .masked(prefix: "430524", suffix: "1234"))
        #expect(throws: FormProblem.self) { try ResidentQuery.parse(["id": "430524' OR 1=1 --"]) }
    }

    @Test func phonesAgesAndTagsAreChecked() throws {
        let q = try ResidentQuery.parse(["phone": "1234", "tag": "elderly_alone", "min_age": "60", "max_age": "80", "name": " 王 "])
        #expect(q.phone == .lastFour("1234") && q.tag == .elderlyAlone && q.name == "王" && !q.includeFormer)
        #expect(throws: FormProblem.self) { try ResidentQuery.parse(["min_age": "81", "max_age": "80"]) }
        #expect(throws: FormProblem.self) { try ResidentQuery.parse(["min_age": "-1"]) }
        #expect(throws: FormProblem.self) { try ResidentQuery.parse(["tag": "vip"]) }
        #expect(throws: FormProblem.self) { try ResidentQuery.parse(["phone": "138"]) }
        #expect(try ResidentQuery.parse([:]).isEmpty)
    }

    @Test func anAgeRangeBecomesBirthDates() throws {
        let q = try ResidentQuery.parse(["min_age": "60", "max_age": "60"])
        let range = q.birthRange(today: CivilDate(year: 2026, month: 11, day: 29)!)
        // Sixty today: born after 1965-11-29 and on or before 1966-11-29.
        #expect(range.bornAfter == CivilDate(year: 1965, month: 11, day: 29)!)
        #expect(range.bornOnOrBefore == CivilDate(year: 1966, month: 11, day: 29)!)
        let born = CivilDate(year: 1966, month: 11, day: 29)!
        #expect(born.years(until: CivilDate(year: 2026, month: 11, day: 29)!) == 60)
    }
}
