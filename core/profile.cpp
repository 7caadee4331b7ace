#include "core/profile.h"

#include <algorithm>

#include "eventstore/aggregate_log.h"
#include "eventstore/error.h"

namespace cairn {

const std::vector<Profile>& builtin_profiles() {
  static const std::vector<Profile> profiles = [] {
    std::vector<Profile> v;
    Profile server;
    server.name = "server";
    server.description = "TLS server: DNS and IP names, serverAuth";
    server.extended_key_usage = "serverAuth";
    server.key_encipherment_for_rsa = true;
    server.allow_dns = server.allow_ip = server.allow_wildcard = true;
    server.require_san = true;
    v.push_back(server);

    Profile client;
    client.name = "client";
    client.description = "TLS client: any name type, clientAuth";
    client.extended_key_usage = "clientAuth";
    client.allow_dns = client.allow_ip = client.allow_email = client.allow_uri = true;
    v.push_back(client);

    Profile peer;
    peer.name = "peer";
    peer.description = "TLS server and client (service mesh): DNS, IP and URI names";
    peer.extended_key_usage = "serverAuth,clientAuth";
    peer.key_encipherment_for_rsa = true;
    peer.allow_dns = peer.allow_ip = peer.allow_uri = true;
    peer.require_san = true;
    v.push_back(peer);

    Profile email;
    email.name = "email";
    email.description = "S/MIME: email names, emailProtection";
    email.extended_key_usage = "emailProtection";
    email.key_encipherment_for_rsa = true;
    email.content_commitment = true;
    email.allow_email = true;
    email.require_san = true;
    email.default_validity_days = 365;
    email.max_validity_days = 825;
    v.push_back(email);
    return v;
  }();
  return profiles;
}

ProfileCatalog::ProfileCatalog(std::vector<Profile> configured) : profiles_(builtin_profiles()) {
  auto bad = [](const std::string& why) { throw Error(ErrorKind::InvalidInput, "invalid_profile", why); };
  for (auto& p : configured) {
    try {
      validate_aggregate_id(p.name);
    } catch (const Error&) {
      bad("profile name '" + p.name + "' must be 1-64 characters of a-z 0-9 . _ -");
    }
    for (const auto& existing : profiles_)
      if (existing.name == p.name) bad("profile '" + p.name + "' is defined twice or shadows a built-in");
    if (p.max_validity_days < 1 || p.max_validity_days > 36500)
      bad("profile '" + p.name + "': max_validity_days must be 1-36500");
    if (p.default_validity_days < 1 || p.default_validity_days > p.max_validity_days)
      bad("profile '" + p.name + "': default_validity_days must be 1..max_validity_days");
    if (p.max_certificates_per_requester < 0)
      bad("profile '" + p.name + "': max_certificates_per_requester must be >= 0");
    for (const auto& k : p.key_types) {
      static const std::vector<std::string> known = {"ec-p256", "ec-p384", "ec-p521", "rsa-2048",
                                                     "rsa-3072", "rsa-4096", "ed25519"};
      bool rsa_size = k.size() > 4 && k.starts_with("rsa-") &&
                      std::all_of(k.begin() + 4, k.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!rsa_size && std::find(known.begin(), known.end(), k) == known.end())
        bad("profile '" + p.name + "': unknown key type '" + k + "'");
    }
    profiles_.push_back(std::move(p));
  }
}

const Profile& ProfileCatalog::find(const std::string& name) const {
  for (const auto& p : profiles_)
    if (p.name == name) return p;
  std::string names;
  for (const auto& p : profiles_) names += (names.empty() ? "" : ", ") + p.name;
  throw Error(ErrorKind::InvalidInput, "unknown_profile", "unknown profile '" + name + "'; use " + names);
}

void Profile::check(const SubjectAltNames& sans, const std::string& common_name,
                    const std::string& key_type, int validity_days) const {
  auto deny = [&](const char* type) {
    throw Error(ErrorKind::PolicyViolation, "san_not_allowed",
                std::string("profile '") + name + "' does not allow " + type + " names");
  };
  if (!allow_dns && !sans.dns.empty()) deny("DNS");
  if (!allow_ip && !sans.ip.empty()) deny("IP address");
  if (!allow_email && !sans.email.empty()) deny("email");
  if (!allow_uri && !sans.uri.empty()) deny("URI");
  if (!allow_wildcard)
    for (const auto& d : sans.dns)
      if (d.starts_with("*."))
        throw Error(ErrorKind::PolicyViolation, "san_not_allowed",
                    "profile '" + name + "' does not allow wildcard names");
  if (require_san && sans.empty())
    throw Error(ErrorKind::PolicyViolation, "san_required",
                "profile '" + name + "' needs at least one subject alternative name");
  if (!allowed_names.empty()) {
    std::string denied = first_name_not_allowed(allowed_names, sans, common_name);
    if (!denied.empty())
      throw Error(ErrorKind::PolicyViolation, "name_not_allowed",
                  "profile '" + name + "' does not allow the name '" + denied + "'");
  }
  if (!key_types.empty() && std::find(key_types.begin(), key_types.end(), key_type) == key_types.end())
    throw Error(ErrorKind::PolicyViolation, "key_type_not_allowed",
                "profile '" + name + "' does not allow " + key_type + " keys");
  if (validity_days < 1)
    throw Error(ErrorKind::InvalidInput, "invalid_validity", "validity must be at least 1 day");
  if (validity_days > max_validity_days)
    throw Error(ErrorKind::PolicyViolation, "validity_too_long",
                "profile '" + name + "' allows at most " + std::to_string(max_validity_days) +
                    " days");
}

std::string Profile::key_usage(bool subject_key_is_rsa) const {
  std::string ku = "critical,digitalSignature";
  if (content_commitment) ku += ",nonRepudiation";
  if (key_encipherment_for_rsa && subject_key_is_rsa) ku += ",keyEncipherment";
  return ku;
}

}  // namespace cairn
