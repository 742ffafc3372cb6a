// Watching a directory and re-reading what lies in it, off the loop: the
// mechanics shared by the runtime directory (core/runtime_dir.h) and the
// relay's headers file (relay/target_headers_watch.h). A Kubernetes volume
// swaps a `..data` symlink, so the directory is watched, not a file:
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
//   work() in the thread pool, then done() on the loop
//
// The owner keeps what work() read in its own members (one read at a time)
// and judges it in done().
//
// close(on_closed): the handles close and any read in flight finishes; then
// on_closed, after which the object may be freed.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>
#include <string>

namespace streamshift {

class DirWatch {
 public:
  struct Options {
    std::string path = {};  // the directory
    uint64_t debounce_ms = 100;
    uint64_t max_debounce_ms = 1000;
    uint64_t reread_ms = 3000;
    bool watch = true;  // false: the periodic re-read only (tests; a failed watch is the same)
  };
  using Work = std::function<void()>;  // in the thread pool
  using Done = std::function<void()>;  // on the loop, after each work()
  /// A watch that cannot start, a read that cannot be queued.
  using OnError = std::function<void(const std::string& error)>;

  DirWatch(uv_loop_t* loop, Options options, Work work, Done done, OnError on_error);
  ~DirWatch();
  DirWatch(const DirWatch&) = delete;
  DirWatch& operator=(const DirWatch&) = delete;

  /// Reads at once, then watches and re-reads. A watch that cannot start
  /// (inotify limits) is reported through on_error and retried at each
  /// periodic re-read.
  void start();
  /// Stops for good; `on_closed` runs once nothing of this object is left
  /// on the loop or in the thread pool (no done() after close).
  void close(std::function<void()> on_closed);
  bool closing() const { return closing_; }

  /// Reads done so far (each periodic, watched or first read counts once).
  uint64_t reads() const { return reads_; }

 private:
  void start_watch();
  void stop_watch();
  static void on_fs_event(uv_fs_event_t* handle, const char* filename, int events, int status);
  static void on_debounce(uv_timer_t* timer);
  static void on_reread(uv_timer_t* timer);
  void queue_read();
  void read_done();
  void handle_closed();
  void maybe_closed();

  uv_loop_t* loop_;
  Options options_;
  std::string directory_name_;  // the path's last component
  Work work_;
  Done done_;
  OnError on_error_;
  std::function<void()> on_closed_;
  uv_fs_event_t watch_;
  uv_timer_t debounce_;
  uv_timer_t reread_;
  uv_work_t job_;
  int open_handles_ = 0;
  bool watching_ = false;
  bool watch_error_reported_ = false;
  bool read_in_flight_ = false;
  bool read_again_ = false;  // asked while a read was in flight
  bool closing_ = false;
  uint64_t burst_start_ms_ = 0;
  uint64_t reads_ = 0;
};

}  // namespace streamshift
