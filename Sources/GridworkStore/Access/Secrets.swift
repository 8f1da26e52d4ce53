import Crypto
import Foundation

/// Random tokens and their stored digests.
enum Secrets {
    /// 32 random bytes, URL-safe base64 without padding.
    static func token() -> String {
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        return bytes.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// What the database keeps of a session or API token: a leaked table cannot be replayed.
    static func digest(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).hex
    }

    /// A TOTP secret: 20 random letters and digits (the authenticator app receives it base32-encoded).
    static func totpSecret() -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        var rng = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
    }
}

extension Sequence<UInt8> {
    /// Lowercase hex, two digits a byte: digests, blind indexes, file hashes. Written straight into the
    /// string's storage (a million-row import makes two a row); bytes not stored contiguously are gathered first.
    var hex: String {
        if let direct = withContiguousStorageIfAvailable(hexDigits) { return direct }
        return Array(self).withUnsafeBufferPointer(hexDigits)
    }
}

private func hexDigits(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
    let digits: StaticString = "0123456789abcdef"
    return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
        digits.withUTF8Buffer { d in
            for (i, b) in bytes.enumerated() { out[2 * i] = d[Int(b >> 4)]; out[2 * i + 1] = d[Int(b & 15)] }
        }
        return bytes.count * 2
    }
}
