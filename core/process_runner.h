// One program's process, the same for the sidecar and the relay:
//
//   run_process(loop, ...)
//     | watch SIGTERM and SIGINT (before anything is built: none is lost)
//     v
//   make_program() --> start() --false--> finish(kFailedStart) --> close loop --> exit 1
//                        | true
//                        v
//                  the main loop runs <-- first SIGTERM/SIGINT: log `drain_message`,
//                        |                stop watching, begin_drain()
//                        | nothing left on the loop
//                        v
//                  finish(kRan) --> close the loop --> log "stopped" --> exit 0
//
// finish() is the program's one teardown, whichever way it ends. A second
// signal after the first finds no watcher: its default action applies.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>
#include <string_view>

#include "core/log.h"

namespace streamshift {

class Program {
 public:
  enum class Ending { kFailedStart, kRan };

  virtual ~Program() = default;
  /// Listens and begins working; false after logging why not.
  virtual bool start() = 0;
  /// The first SIGTERM or SIGINT: take no new work and finish what is in
  /// flight, after which nothing may be left on the main loop.
  virtual void begin_drain() = 0;
  /// Tears down what start() began (all of it, or the part that started).
  virtual void finish(Ending ending) = 0;
};

/// The log level, and SIGPIPE ignored: set by every program before it runs.
void prepare_process(LogLevel level);

/// Runs the program `make_program` builds on `loop` as drawn above; the
/// process exit status (0 or 1).
int run_process(uv_loop_t* loop, std::string_view drain_message,
                const std::function<std::unique_ptr<Program>()>& make_program);

}  // namespace streamshift
