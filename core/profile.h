// Certificate profiles: what a certificate of a given purpose may contain.
// Built-in profiles: "server", "client", "peer" (server + client), "email".
// check() enforces the profile on a request and throws PolicyViolation with
// a stable code ("san_not_allowed", "san_required", "validity_too_long").
// Thread-safety: immutable after construction.
#pragma once

#include <string>
#include <vector>

#include "core/subject_alt_names.h"

namespace cairn {

struct Profile {
  std::string name;
  std::string description;
  std::string extended_key_usage;  // OpenSSL conf list, e.g. "serverAuth,clientAuth"
  bool key_encipherment_for_rsa = false;
  bool content_commitment = false;
  int default_validity_days = 90;
  int max_validity_days = 397;
  bool allow_dns = false, allow_ip = false, allow_email = false, allow_uri = false;
  bool allow_wildcard = false;
  bool require_san = false;

  void check(const SubjectAltNames& sans, int validity_days) const;
  // The keyUsage conf string for a subject key of this type.
  std::string key_usage(bool subject_key_is_rsa) const;
};

// Throws InvalidInput "unknown_profile".
const Profile& find_profile(const std::string& name);
const std::vector<Profile>& builtin_profiles();

}  // namespace cairn
