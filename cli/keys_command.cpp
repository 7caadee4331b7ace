#include "cli/keys_command.h"

#include <ostream>

#include "cli/api_client.h"
#include "cli/secret_input.h"
#include "core/encrypted_key_store.h"
#include "eventstore/error.h"

namespace cairn::cli {

int keys_rewrap(const std::string& data_dir, const std::string& old_file, const std::string& new_file,
                std::ostream& out) {
  std::string old_pass = read_secret(old_file, "CAIRN_PASSPHRASE_FILE", "CAIRN_PASSPHRASE", "Current passphrase: ");
  std::string new_pass =
      read_secret(new_file, "CAIRN_NEW_PASSPHRASE_FILE", "CAIRN_NEW_PASSPHRASE", "New passphrase: ", true);
  if (old_pass.empty() || new_pass.empty())
    throw CliError("passphrase_required", "both the current and the new passphrase are needed", 2);
  try {
    EncryptedKeyStore::rewrap(data_dir + "/keys", old_pass, new_pass);
  } catch (const cairn::Error& e) {
    throw CliError(e.code(), e.what(), 1);
  }
  out << "key store passphrase changed for " << data_dir << "/keys\n";
  return 0;
}

}  // namespace cairn::cli
