// A directory of its own for one test (files the binaries read: runtime
// values, a headers file), removed with everything in it at the end.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace streamshift::testing {

class TempDir {
 public:
  /// Under the system's temporary directory, named `<prefix>-XXXXXX`.
  explicit TempDir(std::string_view prefix = "streamshift-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  /// Empty when the directory could not be made.
  const std::filesystem::path& path() const { return path_; }
  /// path() / name, as a string.
  std::string file(std::string_view name) const;

 private:
  std::filesystem::path path_;
};

/// Writes `text` to `file` in one step (a temporary file renamed over it), as
/// a careful editor or a ConfigMap update does: a reader never sees half of it.
void write_file_atomically(const std::filesystem::path& file, std::string_view text);

}  // namespace streamshift::testing
