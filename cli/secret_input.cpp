#include "cli/secret_input.h"

#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "cli/api_client.h"

namespace cairn::cli {
namespace {

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw CliError("file_unreadable", "cannot read the passphrase file " + path, 2);
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  return line;
}

std::string prompt_hidden(const std::string& prompt) {
  std::cerr << prompt << std::flush;
  termios old {};
  bool tty = ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::cerr << '\n';
  return line;
}

}  // namespace

std::string read_secret(const std::string& file, const char* file_env, const char* value_env,
                        const std::string& prompt, bool confirm) {
  if (!file.empty()) return first_line(file);
  if (const char* f = std::getenv(file_env); f && *f) return first_line(f);
  if (const char* v = std::getenv(value_env); v && *v) return v;
  if (!::isatty(STDIN_FILENO)) return "";
  std::string secret = prompt_hidden(prompt);
  if (confirm && prompt_hidden("Again: ") != secret)
    throw CliError("passphrase_mismatch", "the two passphrases differ", 2);
  return secret;
}

}  // namespace cairn::cli
