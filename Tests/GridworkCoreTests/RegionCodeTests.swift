import Testing
@testable import GridworkCore

@Suite struct RegionCodeTests {
    @Test func levelsFollowLength() throws {
        #expect(try RegionCode("430524").level == .county)
        #expect(try RegionCode("430524001").level == .township)
        #expect(try RegionCode("430524001002").level == .community)
        #expect(try RegionCode("430524001002003").level == .grid)
        #expect(try RegionCode("430524001002003004").level == .building)
    }

    @Test func codesAreDerivedFromParents() throws {
        let county = RegionCode.county("430524")
        let building = county.child(101).child(2).child(3).child(17)
        #expect(building.value == "430524101002003017")
        #expect(building.parent?.value == "430524101002003")
        #expect(building.parent?.parent?.parent?.parent == county)
        #expect(building.localNumber == 17)
        #expect(building.localNumber(at: .township) == 101)
        #expect(building.isWithin(county.child(101)))
        #expect(!building.isWithin(county.child(102)))
    }

    @Test func townshipKindsComeFromTheCodeRange() {
        #expect(TownshipKind(code: 1) == .subdistrict)
        #expect(TownshipKind(code: 99) == .subdistrict)
        #expect(TownshipKind(code: 100) == .town)
        #expect(TownshipKind(code: 205) == .township)
        #expect(TownshipKind(code: 400) == nil)
    }

    @Test func badCodesAreRejected() {
        #expect(throws: RegionCode.Invalid.length(7)) { try RegionCode("4305240") }
        #expect(throws: RegionCode.Invalid.notDigits) { try RegionCode("43052A") }
        #expect(throws: RegionCode.Invalid.townshipRange(400)) { try RegionCode("430524400") }
        #expect(throws: RegionCode.Invalid.zeroPart(.community)) { try RegionCode("430524001000") }
        #expect(throws: RegionCode.Invalid.length(0)) { try RegionCode("") }
    }
}
