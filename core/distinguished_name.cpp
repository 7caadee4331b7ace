#include "core/distinguished_name.h"

#include <openssl/objects.h>

#include <vector>

namespace cairn {
namespace {

[[noreturn]] void bad(const std::string& msg) {
  throw Error(ErrorKind::InvalidInput, "invalid_subject", msg);
}

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

std::vector<std::string> split_unescaped(std::string_view text, char sep) {
  std::vector<std::string> parts;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\' && i + 1 < text.size()) {
      cur.push_back(text[++i]);
    } else if (c == sep) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  parts.push_back(cur);
  return parts;
}

}  // namespace

X509NamePtr parse_subject(std::string_view text) {
  if (text.size() > 1024) bad("subject is longer than 1024 characters");
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f) bad("subject contains control characters");
  X509NamePtr name(X509_NAME_new());
  if (!name) throw_openssl(ErrorKind::Internal, "openssl_error", "X509_NAME_new failed");
  std::string_view body = text;
  char sep = ',';
  if (!body.empty() && body.front() == '/') {
    body.remove_prefix(1);
    sep = '/';
  }
  if (trim(body).empty()) return name;
  for (const auto& part : split_unescaped(body, sep)) {
    auto eq = part.find('=');
    if (eq == std::string::npos) bad("'" + trim(part) + "' is not of the form KEY=value");
    std::string key = trim(std::string_view(part).substr(0, eq));
    std::string value = trim(std::string_view(part).substr(eq + 1));
    int nid = OBJ_txt2nid(key.c_str());
    static const int allowed[] = {NID_commonName, NID_organizationName, NID_organizationalUnitName,
                                  NID_countryName, NID_stateOrProvinceName, NID_localityName,
                                  NID_streetAddress, NID_pkcs9_emailAddress, NID_serialNumber,
                                  NID_domainComponent, NID_userId, NID_title, NID_givenName,
                                  NID_surname, NID_postalCode, NID_pseudonym};
    bool ok = false;
    for (int a : allowed) ok = ok || a == nid;
    if (!ok) bad("unsupported subject attribute '" + key + "'");
    if (value.empty()) bad("attribute '" + key + "' has an empty value");
    if (value.size() > 64) bad("attribute '" + key + "' is longer than 64 characters");
    if (nid == NID_countryName && value.size() != 2) bad("C must be a two-letter country code");
    if (X509_NAME_add_entry_by_NID(name.get(), nid, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1) {
      ERR_clear_error();
      bad("attribute '" + key + "' has a value that is not allowed");
    }
  }
  return name;
}

std::string format_name(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  unsigned long flags = (XN_FLAG_RFC2253 & ~XN_FLAG_DN_REV) & ~ASN1_STRFLGS_ESC_MSB;
  X509_NAME_print_ex(bio.get(), name, 0, flags);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string common_name(const X509_NAME* name) {
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return "";
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

}  // namespace cairn
