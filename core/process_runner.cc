// A program's process; see process_runner.h.
#include "core/process_runner.h"

#include <csignal>
#include <string>

#include "core/loop.h"

namespace streamshift {
namespace {

// The two signal watchers; both closed at the first signal (which stops
// them at once: no later signal reaches on_signal), or with the loop.
struct ShutdownSignals {
  std::string drain_message;
  Program* program = nullptr;
  uv_signal_t term, interrupt;
};

void on_signal(uv_signal_t* handle, int signum) {
  auto* s = static_cast<ShutdownSignals*>(handle->data);
  log_line(LogLevel::kInfo, s->drain_message,
           {{"signal", signum == SIGTERM ? "SIGTERM" : "SIGINT"}});
  uv_close(reinterpret_cast<uv_handle_t*>(&s->term), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&s->interrupt), nullptr);
  s->program->begin_drain();
}

}  // namespace

void prepare_process(LogLevel level) {
  set_log_level(level);
  ignore_sigpipe();
}

int run_process(uv_loop_t* loop, std::string_view drain_message,
                const std::function<std::unique_ptr<Program>()>& make_program) {
  ShutdownSignals signals;
  signals.drain_message = drain_message;
  uv_signal_init(loop, &signals.term);
  uv_signal_init(loop, &signals.interrupt);
  signals.term.data = signals.interrupt.data = &signals;
  uv_signal_start(&signals.term, on_signal, SIGTERM);
  uv_signal_start(&signals.interrupt, on_signal, SIGINT);

  std::unique_ptr<Program> program = make_program();
  signals.program = program.get();
  if (!program->start()) {
    program->finish(Program::Ending::kFailedStart);
    close_loop(loop);  // closes the watchers too
    return 1;
  }
  uv_run(loop, UV_RUN_DEFAULT);
  program->finish(Program::Ending::kRan);
  close_loop(loop);
  log_line(LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace streamshift
