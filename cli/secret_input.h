// Reading secrets (key store passphrases) for the CLI: from a file (its
// first line), else from an environment variable, else typed at a terminal
// prompt with echo off. Returns "" when none of them is available.
// Thread-safety: touches the terminal; call from the main thread only.
#pragma once

#include <string>

namespace cairn::cli {

std::string read_secret(const std::string& file, const char* file_env, const char* value_env,
                        const std::string& prompt, bool confirm = false);

}  // namespace cairn::cli
