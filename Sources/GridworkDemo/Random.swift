/// SplitMix64: small, fast and the same on every machine, so a seed always
/// gives the same county.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func chance(_ p: Double) -> Bool { Double.random(in: 0..<1, using: &self) < p }
    mutating func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &self)] }
}

/// Picks from weighted items by binary search over cumulative weights.
struct Weighted<T: Sendable>: Sendable {
    let items: [T]
    let cumulative: [Double]

    init(_ pairs: [(T, Double)]) {
        items = pairs.map(\.0)
        var sum = 0.0
        cumulative = pairs.map { sum += $0.1; return sum }
    }

    func pick(_ rng: inout SeededRandom) -> T {
        let x = Double.random(in: 0..<cumulative.last!, using: &rng)
        var lo = 0, hi = cumulative.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid] > x { hi = mid } else { lo = mid + 1 }
        }
        return items[lo]
    }
}

/// Splits `total` over `weights` so the parts sum exactly to `total`
/// (largest remainder), each part at least `minimum`.
func apportion(_ total: Int, weights: [Double], minimum: Int = 1) -> [Int] {
    let spare = total - minimum * weights.count
    precondition(spare >= 0)
    let sum = weights.reduce(0, +)
    let exact = weights.map { Double(spare) * $0 / sum }
    var parts = exact.map { Int($0) }
    var left = spare - parts.reduce(0, +)
    let order = exact.indices.sorted { exact[$0] - Double(parts[$0]) > exact[$1] - Double(parts[$1]) }
    for i in order where left > 0 { parts[i] += 1; left -= 1 }
    return parts.map { $0 + minimum }
}
