// The system OpenSSL's libcrypto (Debian: libssl-dev), for blind indexes and bulk sealing.
// swift-crypto opens a new AES context and re-derives HMAC's outer key for every
// value; a million-row import seals two values a row, so the importer keeps one
// AES context per task here, and every blind index (`Sealer`) uses an HMAC key
// whose pads are hashed once. Single values are still sealed through swift-crypto.
#ifndef GRIDWORK_COPENSSL_SHIM_H
#define GRIDWORK_COPENSSL_SHIM_H

// SHA256_Init and friends are deprecated in OpenSSL 3 in favour of EVP_MD, whose
// per-call dispatch is what this module exists to avoid; they remain supported.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <string.h>

/// An AES-256-GCM context holding `key` (32 bytes); NULL on failure. Free with EVP_CIPHER_CTX_free.
static inline EVP_CIPHER_CTX *gw_gcm_new(const unsigned char *key) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) return NULL;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, NULL) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

/// Seals `len` bytes under a 12-byte nonce: writes the ciphertext (`len` bytes) then the 16-byte tag to `out`.
/// Returns 1 on success.
static inline int gw_gcm_seal(EVP_CIPHER_CTX *ctx, const unsigned char *nonce, const unsigned char *in, int len,
                              unsigned char *out) {
    int n = 0, f = 0;
    if (EVP_EncryptInit_ex(ctx, NULL, NULL, NULL, nonce) != 1) return 0;
    if (len > 0 && EVP_EncryptUpdate(ctx, out, &n, in, len) != 1) return 0;
    if (EVP_EncryptFinal_ex(ctx, out + n, &f) != 1) return 0;
    return EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out + n + f);
}

/// HMAC-SHA-256 (RFC 2104) with the key's inner and outer pads hashed once.
typedef struct {
    SHA256_CTX inner;
    SHA256_CTX outer;
} gw_hmac_key;

static inline void gw_hmac_init(gw_hmac_key *k, const unsigned char *key, size_t len) {
    unsigned char block[64], pad[64];
    memset(block, 0, sizeof block);
    if (len > sizeof block) SHA256(key, len, block); else memcpy(block, key, len);
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x36;
    SHA256_Init(&k->inner);
    SHA256_Update(&k->inner, pad, sizeof pad);
    for (int i = 0; i < 64; i++) pad[i] = block[i] ^ 0x5c;
    SHA256_Init(&k->outer);
    SHA256_Update(&k->outer, pad, sizeof pad);
    memset(block, 0, sizeof block);
    memset(pad, 0, sizeof pad);
}

static inline void gw_hmac(const gw_hmac_key *k, const unsigned char *in, size_t len, unsigned char *out) {
    unsigned char inner[32];
    SHA256_CTX c = k->inner;
    SHA256_Update(&c, in, len);
    SHA256_Final(inner, &c);
    c = k->outer;
    SHA256_Update(&c, inner, sizeof inner);
    SHA256_Final(out, &c);
}

#endif
