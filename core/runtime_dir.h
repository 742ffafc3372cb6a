// The runtime directory (STREAMSHIFT_RUNTIME_DIR, issue 19): one file per
// variable, file name = variable name, content = value (trailing newlines
// trimmed), as a Kubernetes ConfigMap volume lays it out:
//
//   dir/NAME -> ..data/NAME     ..data -> ..2026_11_30_09_51_02.123   (swapped atomically)
//
// When `..data` exists the set is read from the directory it points to, so
// one read sees one version whole; otherwise the directory's own files are
// read. Dot-files (`..data`, `..<timestamp>`, `.hidden`) and subdirectories
// are skipped.
//
// RuntimeDir reads it off the loop (core/dir_watch.h: watched, debounced,
// re-read every 3 s) and hands the set to on_change, on the loop thread, only
// when it differs from the last set handed (the first successful read is
// always handed):
//
//   the set differs from the last handed --> on_change(set)
//   the read failed (missing dir, oversized file) --> on_error(text), once
//     per distinct error; the last set stays in force
//
// close(on_closed): the handles close and any read in flight finishes; then
// on_closed, after which the object may be freed.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "core/dir_watch.h"
#include "core/runtime_layers.h"

namespace streamshift {

struct RuntimeDirRead {
  RuntimeValues values;
  std::string error;  // empty: `values` is the directory's whole set
};

/// At most this many variables, and this many bytes per value: a directory
/// beyond either is refused (an error), never read into memory unbounded.
inline constexpr size_t kRuntimeDirMaxFiles = 256;
inline constexpr size_t kRuntimeDirMaxValueBytes = 4096;

/// Reads the directory once, blocking: call it off the loop.
RuntimeDirRead read_runtime_dir(const std::string& path);

class RuntimeDir {
 public:
  using Options = DirWatch::Options;  // path: the runtime directory
  using OnChange = std::function<void(const RuntimeValues& values)>;
  using OnError = std::function<void(const std::string& error)>;

  RuntimeDir(uv_loop_t* loop, Options options, OnChange on_change, OnError on_error);
  RuntimeDir(const RuntimeDir&) = delete;
  RuntimeDir& operator=(const RuntimeDir&) = delete;

  /// Reads at once, then watches and re-reads. A watch that cannot start
  /// (inotify limits) is reported through on_error and retried at each
  /// periodic re-read.
  void start() { watch_.start(); }
  /// Stops for good; `on_closed` runs once nothing of this object is left
  /// on the loop or in the thread pool.
  void close(std::function<void()> on_closed) { watch_.close(std::move(on_closed)); }

  /// Reads done so far (each periodic, watched or first read counts once).
  uint64_t reads() const { return watch_.reads(); }

 private:
  void read_done();
  void report_error(std::string error);

  std::string path_;
  OnChange on_change_;
  OnError on_error_;
  RuntimeDirRead read_;                  // written in the thread pool, one read at a time
  std::optional<RuntimeValues> handed_;  // the last set given to on_change
  std::string last_error_;               // the last error given to on_error
  DirWatch watch_;                       // last: its work and done use the members above
};

}  // namespace streamshift
