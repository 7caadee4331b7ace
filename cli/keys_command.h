// `cairn keys rewrap`: changes the passphrase of a data directory's key
// store. Works offline on the files; safe while a server runs, which keeps
// using the data key it already unwrapped.
#pragma once

#include <iosfwd>
#include <string>

namespace cairn::cli {

int keys_rewrap(const std::string& data_dir, const std::string& old_file, const std::string& new_file,
                std::ostream& out);

}  // namespace cairn::cli
