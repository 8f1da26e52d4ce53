import COpenSSL
import Crypto
import Foundation

/// Seals personal fields (ID numbers, phones) before they reach the disk.
///
/// One master key (32 bytes, from config or a key file outside the repo)
/// derives two keys: one for AES-GCM, one for the HMAC blind index that makes
/// exact lookup possible without decrypting. The index is keyed, so a leaked
/// database alone cannot be brute-forced over the small space of ID numbers.
// SymmetricKey is immutable once made; swift-crypto 3 just does not declare it Sendable.
public struct Sealer: @unchecked Sendable {
    private let encryptionKey: SymmetricKey
    /// HMAC-SHA-256 under the index key, its pads hashed once (OpenSSL: swift-crypto hashes the key again for
    /// every value). A plain C struct: copied, never shared mutably.
    private let keyedIndex: gw_hmac_key

    public init(masterKey: SymmetricKey) {
        encryptionKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: masterKey, info: Data("gridwork seal v1".utf8), outputByteCount: 32)
        let indexKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: masterKey, info: Data("gridwork index v1".utf8), outputByteCount: 32)
        var keyed = gw_hmac_key()
        indexKey.withUnsafeBytes { gw_hmac_init(&keyed, $0.bindMemory(to: UInt8.self).baseAddress, $0.count) }
        keyedIndex = keyed
    }

    /// AES-GCM with a random nonce; base64 of nonce ‖ ciphertext ‖ tag.
    public func seal(_ plain: String) -> String {
        // AES-GCM sealing only fails for a malformed key or nonce, which we never build.
        let box = try! AES.GCM.seal(Data(plain.utf8), using: encryptionKey)
        return box.combined!.base64EncodedString()
    }

    public func open(_ sealed: String) throws -> String {
        guard let data = Data(base64Encoded: sealed) else { throw SealError.malformed }
        let box = try AES.GCM.SealedBox(combined: data)
        return String(decoding: try AES.GCM.open(box, using: encryptionKey), as: UTF8.self)
    }

    /// A deterministic keyed digest for exact-match lookup (hex, 32 chars).
    public func blindIndex(_ plain: String) -> String {
        blindIndexAndKey(plain).index
    }

    /// The blind index and its first 8 bytes as a number (a compact key for de-duplicating bulk loads):
    /// HMAC-SHA-256 under the index key, truncated to 16 bytes.
    public func blindIndexAndKey(_ plain: String) -> (index: String, key: UInt64) {
        Self.withBytes(plain) { bytes, count in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { code in
                withUnsafePointer(to: keyedIndex) { gw_hmac($0, bytes, count, code.baseAddress!) }
                var key: UInt64 = 0
                for i in 0..<8 { key = key << 8 | UInt64(code[i]) }
                return (UnsafeBufferPointer(rebasing: code[0..<16]).hex, key)
            }
        }
    }

    /// The UTF-8 bytes of `text` (a valid pointer even when empty: C wants one for zero bytes too).
    static func withBytes<R>(_ text: String, _ body: (UnsafePointer<UInt8>, Int) -> R) -> R {
        var text = text
        return text.withUTF8 { bytes in
            if let base = bytes.baseAddress { return body(base, bytes.count) }
            let zero: UInt8 = 0
            return withUnsafePointer(to: zero) { body($0, 0) }
        }
    }

    /// Standard base64 with padding, as Foundation's `base64EncodedString()` writes it.
    static func base64(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        let length = (bytes.count + 2) / 3 * 4
        return String(unsafeUninitializedCapacity: length) { out in
            alphabet.withUTF8Buffer { a in
                var i = 0, o = 0
                while i + 3 <= bytes.count {
                    let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                    out[o] = a[Int(n >> 18)]; out[o + 1] = a[Int(n >> 12 & 63)]; out[o + 2] = a[Int(n >> 6 & 63)]; out[o + 3] = a[Int(n & 63)]
                    i += 3; o += 4
                }
                let rest = bytes.count - i
                if rest > 0 {
                    let n = UInt32(bytes[i]) << 16 | (rest == 2 ? UInt32(bytes[i + 1]) << 8 : 0)
                    out[o] = a[Int(n >> 18)]; out[o + 1] = a[Int(n >> 12 & 63)]
                    out[o + 2] = rest == 2 ? a[Int(n >> 6 & 63)] : UInt8(ascii: "=")
                    out[o + 3] = UInt8(ascii: "=")
                }
            }
            return length
        }
    }

    /// A sealer for one task of a bulk load.
    public func bulk() -> Bulk { Bulk(encryptionKey: encryptionKey) }

    /// Seals like `seal(_:)` (any `Sealer` with the key opens it) for one task of a bulk load: one cipher
    /// context kept for every value, and nonces drawn from the system's CSPRNG 64 KiB at a time. swift-crypto
    /// sets up a new context per value, which was most of the cost of sealing a million-row import.
    /// Not for sharing between tasks.
    public final class Bulk {
        private let context: OpaquePointer
        private var nonces = [UInt8](repeating: 0, count: 65_532)
        private var offset = 65_532

        init(encryptionKey: SymmetricKey) {
            // Fails only when OpenSSL cannot allocate, or lacks AES-256-GCM: neither is recoverable here.
            guard let context = encryptionKey.withUnsafeBytes({ gw_gcm_new($0.bindMemory(to: UInt8.self).baseAddress) }) else {
                fatalError("OpenSSL could not set up AES-256-GCM")
            }
            self.context = context
        }

        deinit { EVP_CIPHER_CTX_free(context) }

        /// AES-GCM with a fresh random nonce; base64 of nonce ‖ ciphertext ‖ tag.
        public func seal(_ plain: String) -> String {
            if offset + 12 > nonces.count { refill() }
            defer { offset += 12 }
            return Sealer.withBytes(plain) { bytes, count in
                withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 12 + count + 16) { box in
                    nonces.withUnsafeBufferPointer { _ = box.initialize(fromContentsOf: $0[offset..<offset + 12]) }
                    guard gw_gcm_seal(context, box.baseAddress, bytes, Int32(count), box.baseAddress! + 12) == 1 else {
                        fatalError("OpenSSL failed to seal with AES-256-GCM")
                    }
                    return Sealer.base64(UnsafeBufferPointer(box))
                }
            }
        }

        private func refill() {
            let drawn = nonces.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32($0.count)) }
            if drawn != 1 { // OpenSSL's generator unavailable: the system's own, 8 bytes at a time
                var generator = SystemRandomNumberGenerator()
                for i in nonces.indices { nonces[i] = generator.next() }
            }
            offset = 0
        }
    }

    /// Stored once in the database so that a wrong key is refused at start, not discovered later.
    public var keyCheck: String { blindIndex("gridwork key check") }

    public enum SealError: Error { case malformed }
}

/// Finds or makes the master key: `GRIDWORK_SEAL_KEY` (base64 of 32 bytes) wins;
/// otherwise a key file, created with mode 0600 on first use.
public enum SealKeySource {
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment,
                            keyFile: String) throws -> SymmetricKey {
        if let text = environment["GRIDWORK_SEAL_KEY"], !text.isEmpty {
            guard let data = Data(base64Encoded: text), data.count == 32 else {
                throw StoreError.invalid(field: "GRIDWORK_SEAL_KEY", reason: "应为32字节的base64密钥 (must be base64 of 32 bytes)")
            }
            return SymmetricKey(data: data)
        }
        if let text = try? String(contentsOfFile: keyFile, encoding: .utf8) {
            guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), data.count == 32 else {
                throw StoreError.invalid(field: keyFile, reason: "密钥文件内容无效 (key file does not hold base64 of 32 bytes)")
            }
            return SymmetricKey(data: data)
        }
        let key = SymmetricKey(size: .bits256)
        let text = key.withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
        guard FileManager.default.createFile(atPath: keyFile, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw StoreError.invalid(field: keyFile, reason: "无法创建密钥文件 (cannot create the key file)")
        }
        return key
    }

    /// The key file that belongs to a database: beside the SQLite file, or `gridwork.key` in the working directory.
    public static func defaultKeyFile(for location: DatabaseLocation) -> String {
        switch location {
        case .sqlite(let path): path.hasSuffix(".sqlite") ? String(path.dropLast(7)) + ".key" : path + ".key"
        case .postgres: "gridwork.key"
        }
    }
}
