// Shell commands and source files for tests that check the repository's
// deployment files against the tools that read them (kubectl, promtool,
// readelf) and against the binary.
#pragma once

#include <string>

namespace streamshift::testing {

struct CommandOutput {
  int status = -1;  // exit code; -1 when it could not run or was killed
  std::string text;
};

/// Runs `command` with /bin/sh; stdout only (redirect stderr in the command
/// to see it).
CommandOutput run_command(const std::string& command);

/// True when `tool` is on the PATH.
bool have_command(const std::string& tool);

/// A path inside the source tree, from its top.
std::string source_path(const std::string& relative);

/// The content of a file of the source tree ("" when it cannot be read).
std::string read_source(const std::string& relative);

}  // namespace streamshift::testing
