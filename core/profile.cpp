#include "core/profile.h"

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

const Profile& find_profile(const std::string& name) {
  for (const auto& p : builtin_profiles())
    if (p.name == name) return p;
  throw Error(ErrorKind::InvalidInput, "unknown_profile",
              "unknown profile '" + name + "'; use server, client, peer or email");
}

void Profile::check(const SubjectAltNames& sans, int validity_days) const {
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
