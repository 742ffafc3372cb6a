// A test's own directory; see temp_dir.h.
#include "tests/support/temp_dir.h"

#include <stdlib.h>

#include <fstream>

namespace streamshift::testing {

namespace fs = std::filesystem;

TempDir::TempDir(std::string_view prefix) {
  std::string tmpl = (fs::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
  if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty()) fs::remove_all(path_, ec);
}

std::string TempDir::file(std::string_view name) const {
  return (path_ / name).string();
}

void write_file_atomically(const fs::path& file, std::string_view text) {
  // A dot-name: the runtime directory skips it, so it is never read half written.
  fs::path tmp = file.parent_path() / ("." + file.filename().string() + ".tmp");
  std::ofstream(tmp, std::ios::binary | std::ios::trunc) << text;
  fs::rename(tmp, file);
}

}  // namespace streamshift::testing
