// Re-reading the relay's headers file (relay/target_headers.h) when it
// changes: its directory is watched (core/dir_watch.h), as a Secret volume
// swaps `..data` under the file.
//
//   read (thread pool) --> parse (loop)
//     valid, other headers than those in force --> on_change(headers), count ok, log the names
//     valid, the same headers                  --> nothing
//     unreadable or invalid                     --> the headers in force stay; count rejected and
//                                                  log the error (path, line, never a value),
//                                                  once per distinct file content or error
//
// streamshift_relay_headers_reloads_total{result="ok|rejected"}.
#pragma once

#include <uv.h>

#include <functional>
#include <string>

#include "core/dir_watch.h"
#include "core/metrics.h"
#include "relay/target_headers.h"

namespace streamshift {

class TargetHeadersWatch {
 public:
  using OnChange = std::function<void(const TargetHeaders& headers)>;

  /// `in_force` is the block read at start (RelaySettings::target_headers);
  /// `options.path` is ignored: the file's directory is watched.
  TargetHeadersWatch(uv_loop_t* loop, Registry& registry, std::string file, std::string in_force,
                     OnChange on_change, DirWatch::Options options = {});
  TargetHeadersWatch(const TargetHeadersWatch&) = delete;
  TargetHeadersWatch& operator=(const TargetHeadersWatch&) = delete;

  void start() { watch_.start(); }
  void close(std::function<void()> on_closed) { watch_.close(std::move(on_closed)); }

 private:
  void read_done();
  void reject(std::string error, std::string text);

  std::string file_;
  std::string in_force_;  // the block in force
  OnChange on_change_;
  Family<Counter>& reloads_;
  Counter& ok_;
  Counter& rejected_;
  TargetHeadersFile read_;    // written in the thread pool, one read at a time
  std::string rejected_key_;  // the error and text last refused: refused once
  DirWatch watch_;            // last: its work and done use the members above
};

}  // namespace streamshift
