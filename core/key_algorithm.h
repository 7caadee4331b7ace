// Key algorithms cairn generates and accepts, and how each one signs.
// Names are stable: "ec-p256", "ec-p384", "rsa-2048", "rsa-3072",
// "rsa-4096", "ed25519". Subject keys in CSRs may also be "ec-p521" or RSA
// of other sizes >= 2048 bits; describe_public_key() names those.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/openssl_types.h"

namespace cairn {

enum class KeyAlgorithm { EcP256, EcP384, Rsa2048, Rsa3072, Rsa4096, Ed25519 };

// Throws Error{InvalidInput, "unknown_key_algorithm"}.
KeyAlgorithm parse_key_algorithm(std::string_view name);
std::string key_algorithm_name(KeyAlgorithm alg);

EvpPkeyPtr generate_key(KeyAlgorithm alg);

// "ec-p256", "rsa-2048", "ed25519", ...; throws PolicyViolation "weak_key" or
// "unsupported_key" for keys cairn will not certify.
std::string describe_public_key(const EVP_PKEY* key);
// The same names for an RSA modulus size and an EC named curve (by NID);
// they throw what describe_public_key() throws. Shared with
// describe_public_key_info(), which reads keys without OpenSSL's decoder.
std::string rsa_key_name(int bits);
std::string ec_key_name(int curve_nid);
bool is_rsa(const EVP_PKEY* key);

// Checks a detached signature made by Signer::sign_bytes.
bool verify_signature(const EVP_PKEY* key, std::string_view data, std::string_view signature);

// The digest to sign with this key (nullptr for Ed25519, which has its own).
const EVP_MD* signing_digest(const EVP_PKEY* key);

// SHA-1 and SHA-2 by NID, fetched from the default provider once per
// process (OpenSSL 3 fetches again on every use of EVP_sha256() and the
// like); nullptr for other NIDs. Thread-safe; the digests are never freed
// by cairn (OpenSSL's own cleanup at exit releases their providers).
const EVP_MD* fetched_digest(int nid);

}  // namespace cairn
