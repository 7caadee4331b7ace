// Subject names: parse "CN=Example Root,O=Example,C=NL" (or the OpenSSL
// "/CN=.../O=..." form) into an X509_NAME, and print names back in that
// comma form, in the order they appear in the certificate.
// Values are UTF-8; "\," escapes a comma. Unknown attributes, empty values
// and values over 64 characters are rejected with "invalid_subject".
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/openssl_types.h"

namespace cairn {

X509NamePtr parse_subject(std::string_view text);
std::string format_name(const X509_NAME* name);
// The first commonName, or "" if there is none.
std::string common_name(const X509_NAME* name);

}  // namespace cairn
