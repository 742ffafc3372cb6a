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
// RuntimeDir reads it off the loop (uv_queue_work) and hands the set to
// on_change, on the loop thread, only when it differs from the last set
// handed (the first successful read is always handed):
//
//   uv_fs_event on the DIRECTORY (a file's watch follows its inode and goes
//     | quiet after the symlink swap; the directory itself moved or removed:
//     | watched again by path at the next read)
//     v
//   debounce: 100 ms after the last event of a burst, at most 1 s after its first
//     |                    every 3 s (a missed event, a watch that failed)
//     v                              |
//   read queued --one in flight; more asked meanwhile: one more after it
//     v
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
  struct Options {
    std::string path = {};
    uint64_t debounce_ms = 100;
    uint64_t max_debounce_ms = 1000;
    uint64_t reread_ms = 3000;
    bool watch = true;  // false: the periodic re-read only (tests; a failed watch is the same)
  };
  using OnChange = std::function<void(const RuntimeValues& values)>;
  using OnError = std::function<void(const std::string& error)>;

  RuntimeDir(uv_loop_t* loop, Options options, OnChange on_change, OnError on_error);
  ~RuntimeDir();
  RuntimeDir(const RuntimeDir&) = delete;
  RuntimeDir& operator=(const RuntimeDir&) = delete;

  /// Reads at once, then watches and re-reads. A watch that cannot start
  /// (inotify limits) is reported through on_error and retried at each
  /// periodic re-read.
  void start();
  /// Stops for good; `on_closed` runs once nothing of this object is left
  /// on the loop or in the thread pool.
  void close(std::function<void()> on_closed);

  /// Reads done so far (each periodic, watched or first read counts once).
  uint64_t reads() const { return reads_; }

 private:
  struct ReadJob;

  void start_watch();
  void stop_watch();
  static void on_fs_event(uv_fs_event_t* handle, const char* filename, int events, int status);
  static void on_debounce(uv_timer_t* timer);
  static void on_reread(uv_timer_t* timer);
  void queue_read();
  void read_done(RuntimeDirRead read);
  void report_error(std::string error);
  void handle_closed();
  void maybe_closed();

  uv_loop_t* loop_;
  Options options_;
  std::string directory_name_;  // the path's last component
  OnChange on_change_;
  OnError on_error_;
  std::function<void()> on_closed_;
  uv_fs_event_t watch_;
  uv_timer_t debounce_;
  uv_timer_t reread_;
  int open_handles_ = 0;
  bool watching_ = false;
  bool watch_error_reported_ = false;
  bool read_in_flight_ = false;
  bool read_again_ = false;  // asked while a read was in flight
  bool closing_ = false;
  uint64_t burst_start_ms_ = 0;
  uint64_t reads_ = 0;
  std::optional<RuntimeValues> handed_;  // the last set given to on_change
  std::string last_error_;               // the last error given to on_error
};

}  // namespace streamshift
