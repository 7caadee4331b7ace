// Certificate profiles: what a certificate of a given purpose may contain.
// Built-in profiles: "server", "client", "peer" (server + client), "email";
// operators define more in the server config, each derived from a built-in
// (see ProfileCatalog). check() enforces the profile on a request and throws
// PolicyViolation with a stable code ("san_not_allowed", "san_required",
// "validity_too_long", "name_not_allowed", "key_type_not_allowed").
// Thread-safety: immutable after construction.
#pragma once

#include <string>
#include <vector>

#include "core/name_pattern.h"
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
  std::vector<NamePattern> allowed_names;  // empty: any name of an allowed type
  std::vector<std::string> key_types;      // describe_public_key() names; empty: any
  bool requires_approval = false;          // issuance waits for an operator
  int max_certificates_per_requester = 0;  // valid + pending per requester; 0: no limit

  // `common_name` may be empty; `key_type` as describe_public_key() names it.
  void check(const SubjectAltNames& sans, const std::string& common_name, const std::string& key_type,
             int validity_days) const;
  // The keyUsage conf string for a subject key of this type.
  std::string key_usage(bool subject_key_is_rsa) const;
};

const std::vector<Profile>& builtin_profiles();

// The profiles one server offers: the built-ins, then the configured ones.
// Thread-safety: immutable after construction.
class ProfileCatalog {
 public:
  ProfileCatalog() : ProfileCatalog(std::vector<Profile>{}) {}
  // Throws InvalidInput "invalid_profile" for a bad or duplicate name or
  // limits that make no sense.
  explicit ProfileCatalog(std::vector<Profile> configured);
  // Throws InvalidInput "unknown_profile".
  const Profile& find(const std::string& name) const;
  const std::vector<Profile>& all() const { return profiles_; }

 private:
  std::vector<Profile> profiles_;
};

}  // namespace cairn
