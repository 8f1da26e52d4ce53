/// A QR code (ISO/IEC 18004) for a short text such as a page's address: byte mode, error
/// correction level M (15 % of the symbol may be dirty or torn — it hangs in a stairwell),
/// versions 1–10 (up to 213 bytes). Drawn as SVG for printing.
public struct QRCode: Sendable, Equatable {
    public enum Failure: Error, Equatable, Sendable { case tooLong(bytes: Int) }

    /// Modules per side: 21 for version 1, four more per version.
    public let size: Int
    public let version: Int
    public let mask: Int
    /// Row by row, true for dark.
    public let modules: [Bool]

    public subscript(x: Int, y: Int) -> Bool { modules[y * size + x] }

    // Level M, versions 1–10: error-correction codewords per block, and the data codewords of each block.
    static let eccPerBlock = [10, 16, 26, 18, 24, 16, 18, 22, 22, 26]
    static let blocks: [[Int]] = [[16], [28], [44], [32, 32], [43, 43], [27, 27, 27, 27], [31, 31, 31, 31], [38, 38, 39, 39],
                                  [36, 36, 36, 37, 37], [43, 43, 43, 43, 44]]
    static let alignment: [[Int]] = [[], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50]]

    /// Encodes `text` as UTF-8 in the smallest version that holds it; `mask` forces a mask pattern (0–7), otherwise
    /// the one with the lowest penalty is chosen, as the standard describes.
    public init(_ text: String, mask forced: Int? = nil) throws(Failure) {
        let bytes = Array(text.utf8)
        guard let version = (1...10).first(where: { v in
            let capacity = Self.blocks[v - 1].reduce(0, +) * 8
            return 4 + (v < 10 ? 8 : 16) + bytes.count * 8 <= capacity
        }) else { throw .tooLong(bytes: bytes.count) }
        self.version = version
        size = 17 + 4 * version
        let data = Self.dataCodewords(bytes, version: version)
        let codewords = Self.interleave(data, version: version)
        var grid = Grid(size: size)
        grid.drawFunctionPatterns(version: version, alignment: Self.alignment[version - 1])
        grid.place(codewords)
        var best = (penalty: Int.max, mask: 0, modules: [Bool]())
        for m in forced.map({ [$0] }) ?? Array(0..<8) {
            var g = grid
            g.applyMask(m)
            g.drawFormat(mask: m)
            let p = forced == nil ? g.penalty() : 0
            if p < best.penalty { best = (p, m, g.dark) }
        }
        mask = best.mask
        modules = best.modules
    }

    /// Mode, count, the bytes, terminator and padding, cut into codewords.
    static func dataCodewords(_ bytes: [UInt8], version: Int) -> [UInt8] {
        let capacity = blocks[version - 1].reduce(0, +)
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) { for i in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> i) & 1 == 1) } }
        append(0b0100, 4)
        append(bytes.count, version < 10 ? 8 : 16)
        for b in bytes { append(Int(b), 8) }
        append(0, min(4, capacity * 8 - bits.count))
        while bits.count % 8 != 0 { bits.append(false) }
        var out: [UInt8] = stride(from: 0, to: bits.count, by: 8).map { i in bits[i..<(i + 8)].reduce(0) { $0 << 1 | ($1 ? 1 : 0) } }
        var pad: UInt8 = 0xEC
        while out.count < capacity { out.append(pad); pad = pad == 0xEC ? 0x11 : 0xEC }
        return out
    }

    /// Splits into blocks, adds each block's Reed–Solomon codewords, and interleaves them.
    static func interleave(_ data: [UInt8], version: Int) -> [UInt8] {
        let sizes = blocks[version - 1], ecc = eccPerBlock[version - 1]
        let generator = ReedSolomon.generator(degree: ecc)
        var split: [[UInt8]] = []
        var start = 0
        for n in sizes { split.append(Array(data[start..<(start + n)])); start += n }
        let corrections = split.map { ReedSolomon.remainder($0, generator: generator) }
        var out: [UInt8] = []
        for i in 0..<(sizes.max() ?? 0) { for b in split where i < b.count { out.append(b[i]) } }
        for i in 0..<ecc { for c in corrections { out.append(c[i]) } }
        return out
    }

    /// The symbol as SVG: dark squares on white with the four-module quiet zone the standard asks for.
    public func svg(pixelsPerModule: Int = 8, label: String = "QR code") -> String {
        let side = (size + 8) * pixelsPerModule
        var path = ""
        for y in 0..<size {
            var x = 0
            while x < size {
                guard self[x, y] else { x += 1; continue }
                let start = x
                while x < size, self[x, y] { x += 1 }
                path += "M\(start + 4) \(y + 4)h\(x - start)v1h-\(x - start)z"
            }
        }
        return """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(size + 8) \(size + 8)" width="\(side)" height="\(side)" \
            shape-rendering="crispEdges" role="img" aria-label="\(label)"><rect width="100%" height="100%" fill="#fff"/>\
            <path d="\(path)" fill="#000"/></svg>
            """
    }
}

/// Reed–Solomon over GF(256) with the QR code's polynomial x⁸ + x⁴ + x³ + x² + 1.
enum ReedSolomon {
    static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        var result = 0, x = Int(a)
        var y = Int(b)
        while y > 0 {
            if y & 1 == 1 { result ^= x }
            x <<= 1
            if x & 0x100 != 0 { x ^= 0x11D }
            y >>= 1
        }
        return UInt8(result)
    }

    /// The generator polynomial (x − α⁰)(x − α¹)…(x − α^(degree−1)), leading coefficient dropped.
    static func generator(degree: Int) -> [UInt8] {
        var poly = [UInt8](repeating: 0, count: degree)
        poly[degree - 1] = 1
        var root: UInt8 = 1
        for _ in 0..<degree {
            for j in 0..<degree {
                poly[j] = multiply(poly[j], root)
                if j + 1 < degree { poly[j] ^= poly[j + 1] }
            }
            root = multiply(root, 0x02)
        }
        return poly
    }

    static func remainder(_ data: [UInt8], generator: [UInt8]) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: generator.count)
        for b in data {
            let factor = b ^ result.removeFirst()
            result.append(0)
            for i in result.indices { result[i] ^= multiply(generator[i], factor) }
        }
        return result
    }
}

/// The symbol being drawn: which modules are dark and which belong to function patterns.
private struct Grid {
    let size: Int
    var dark: [Bool]
    var function: [Bool]

    init(size: Int) {
        self.size = size
        dark = Array(repeating: false, count: size * size)
        function = Array(repeating: false, count: size * size)
    }

    mutating func set(_ x: Int, _ y: Int, _ on: Bool) {
        dark[y * size + x] = on
        function[y * size + x] = true
    }

    mutating func drawFunctionPatterns(version: Int, alignment: [Int]) {
        for i in 0..<size { set(6, i, i % 2 == 0); set(i, 6, i % 2 == 0) }   // timing
        for (cx, cy) in [(3, 3), (size - 4, 3), (3, size - 4)] {              // finders with separators
            for dy in -4...4 {
                for dx in -4...4 {
                    let x = cx + dx, y = cy + dy
                    guard (0..<size).contains(x), (0..<size).contains(y) else { continue }
                    let d = max(abs(dx), abs(dy))
                    set(x, y, d != 2 && d != 4)
                }
            }
        }
        let n = alignment.count
        for i in 0..<n {
            for j in 0..<n where !((i == 0 && j == 0) || (i == 0 && j == n - 1) || (i == n - 1 && j == 0)) {
                for dy in -2...2 { for dx in -2...2 { set(alignment[i] + dx, alignment[j] + dy, max(abs(dx), abs(dy)) != 1) } }
            }
        }
        drawFormat(mask: 0)   // reserves the format areas; drawn again with the chosen mask
        if version >= 7 {
            var rem = version
            for _ in 0..<12 { rem = (rem << 1) ^ ((rem >> 11) * 0x1F25) }
            let bits = version << 12 | rem
            for i in 0..<18 {
                let on = (bits >> i) & 1 == 1
                let a = size - 11 + i % 3, b = i / 3
                set(a, b, on)
                set(b, a, on)
            }
        }
    }

    /// Level M (00) and the mask, with their BCH code, around the finders; and the one dark module.
    mutating func drawFormat(mask: Int) {
        let data = mask   // level M's bits are 00
        var rem = data
        for _ in 0..<10 { rem = (rem << 1) ^ ((rem >> 9) * 0x537) }
        let bits = (data << 10 | rem) ^ 0x5412
        func bit(_ i: Int) -> Bool { (bits >> i) & 1 == 1 }
        for i in 0...5 { set(8, i, bit(i)) }
        set(8, 7, bit(6)); set(8, 8, bit(7)); set(7, 8, bit(8))
        for i in 9..<15 { set(14 - i, 8, bit(i)) }
        for i in 0..<8 { set(size - 1 - i, 8, bit(i)) }
        for i in 8..<15 { set(8, size - 15 + i, bit(i)) }
        set(8, size - 8, true)
    }

    /// The codewords' bits in the zigzag of two-module columns, right to left, skipping function modules.
    mutating func place(_ codewords: [UInt8]) {
        var i = 0
        let total = codewords.count * 8
        var right = size - 1
        while right >= 1 {
            if right == 6 { right = 5 }
            for vert in 0..<size {
                for j in 0..<2 {
                    let x = right - j
                    let upward = (right + 1) & 2 == 0
                    let y = upward ? size - 1 - vert : vert
                    guard !function[y * size + x] else { continue }
                    if i < total { dark[y * size + x] = (codewords[i >> 3] >> (7 - (i & 7))) & 1 == 1; i += 1 }
                }
            }
            right -= 2
        }
    }

    mutating func applyMask(_ mask: Int) {
        for y in 0..<size {
            for x in 0..<size where !function[y * size + x] {
                let invert = switch mask {
                case 0: (x + y) % 2 == 0
                case 1: y % 2 == 0
                case 2: x % 3 == 0
                case 3: (x + y) % 3 == 0
                case 4: (x / 3 + y / 2) % 2 == 0
                case 5: x * y % 2 + x * y % 3 == 0
                case 6: (x * y % 2 + x * y % 3) % 2 == 0
                default: ((x + y) % 2 + x * y % 3) % 2 == 0
                }
                if invert { dark[y * size + x].toggle() }
            }
        }
    }

    /// The standard's four penalty rules: runs, 2×2 blocks, finder-like patterns, and dark/light balance.
    func penalty() -> Int {
        var result = 0
        func at(_ x: Int, _ y: Int) -> Bool { dark[y * size + x] }
        for horizontal in [true, false] {
            for a in 0..<size {
                var run = 1
                var line: [Bool] = []
                for b in 0..<size {
                    let v = horizontal ? at(b, a) : at(a, b)
                    line.append(v)
                    if b > 0 {
                        if v == line[b - 1] { run += 1 } else { if run >= 5 { result += run - 2 }; run = 1 }
                    }
                }
                if run >= 5 { result += run - 2 }
                // 1:1:3:1:1 with four light modules on either side (light beyond the edge counts)
                let padded = Array(repeating: false, count: 4) + line + Array(repeating: false, count: 4)
                let core: [Bool] = [true, false, true, true, true, false, true]
                for s in 0...(padded.count - 11) {
                    let window = Array(padded[s..<(s + 11)])
                    if Array(window[0..<7]) == core && window[7...].allSatisfy({ !$0 }) { result += 40 }
                    if Array(window[4..<11]) == core && window[0..<4].allSatisfy({ !$0 }) { result += 40 }
                }
            }
        }
        for y in 0..<(size - 1) {
            for x in 0..<(size - 1) {
                let c = at(x, y)
                if c == at(x + 1, y) && c == at(x, y + 1) && c == at(x + 1, y + 1) { result += 3 }
            }
        }
        let darkCount = dark.filter { $0 }.count
        let total = size * size
        let k = (abs(darkCount * 20 - total * 10) + total - 1) / total - 1
        result += max(0, k) * 10
        return result
    }
}
