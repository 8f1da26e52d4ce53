@testable import GridworkServer
import Testing

/// Reading `application/x-www-form-urlencoded` bodies.
@Suite struct FormTests {
    @Test func plusIsASpaceAndPercentEscapesAreUTF8Bytes() {
        let form = Form.parse("description=%E6%A5%BC%E9%81%93+%E5%A0%86%E7%89%A9&a%20b=1%2B1&empty=&flag")
        #expect(form["description"] == "楼道 堆物")
        #expect(form["a b"] == "1+1")
        #expect(form["empty"] == "" && form["flag"] == "")
        #expect(Form.parse("x=plain-text_1.2~")["x"] == "plain-text_1.2~")
    }

    @Test func brokenEscapesAndBytesThatAreNotUTF8ReadAsEmpty() {
        #expect(Form.parse("x=%E6%A5")["x"] == "")     // a character cut in half
        #expect(Form.parse("x=100%")["x"] == "")       // % at the end
        #expect(Form.parse("x=%zz1")["x"] == "")       // not hex
        #expect(Form.parse("x=%FF%FE")["x"] == "")     // not UTF-8
        #expect(Form.parse("x=1&x=2")["x"] == "2")     // the last one counts
    }
}
