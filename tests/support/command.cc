// See command.h.
#include "tests/support/command.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>

namespace streamshift::testing {

CommandOutput run_command(const std::string& command) {
  CommandOutput out;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.text.append(buf.data(), n);
  int status = pclose(p);
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

bool have_command(const std::string& tool) {
  return run_command("command -v " + tool + " >/dev/null").status == 0;
}

std::string source_path(const std::string& relative) {
  return std::string(STREAMSHIFT_SOURCE_DIR) + "/" + relative;
}

std::string read_source(const std::string& relative) {
  std::ifstream f(source_path(relative));
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

}  // namespace streamshift::testing
