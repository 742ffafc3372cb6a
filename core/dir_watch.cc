// Watching a directory, reading off the loop; see dir_watch.h.
#include "core/dir_watch.h"

#include <string_view>
#include <utility>

#include "core/loop.h"

namespace streamshift {

DirWatch::DirWatch(uv_loop_t* loop, Options options, Work work, Done done, OnError on_error)
    : loop_(loop),
      options_(std::move(options)),
      work_(std::move(work)),
      done_(std::move(done)),
      on_error_(std::move(on_error)) {
  std::string_view path = options_.path;
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  directory_name_ = path.substr(path.rfind('/') + 1);
  uv_fs_event_init(loop_, &watch_);
  uv_timer_init(loop_, &debounce_);
  uv_timer_init(loop_, &reread_);
  watch_.data = debounce_.data = reread_.data = job_.data = this;
  open_handles_ = 3;
}

DirWatch::~DirWatch() = default;

void DirWatch::start() {
  if (closing_) return;
  start_watch();
  uv_timer_start(&reread_, on_reread, options_.reread_ms, options_.reread_ms);
  queue_read();
}

void DirWatch::start_watch() {
  if (!options_.watch || watching_) return;
  int rc = uv_fs_event_start(&watch_, on_fs_event, options_.path.c_str(), 0);
  if (rc == 0) {
    watching_ = true;
  } else if (!watch_error_reported_) {
    watch_error_reported_ = true;
    on_error_(options_.path + ": cannot watch (re-read every " +
              std::to_string(options_.reread_ms) + " ms only): " + uv_error_text(rc));
  }
}

void DirWatch::on_fs_event(uv_fs_event_t* handle, const char* filename, int events, int status) {
  auto* self = static_cast<DirWatch*>(handle->data);
  if (self->closing_) return;
  if (status < 0) {  // the watch broke: the periodic re-read starts it again
    self->stop_watch();
    return;
  }
  // The directory itself moved or was removed (libuv names it by its own
  // base name): the watch follows the old inode, so it starts again on the
  // path at the read this event brings.
  if ((events & UV_RENAME) != 0 && filename != nullptr && self->directory_name_ == filename) {
    self->stop_watch();
  }
  uint64_t now = uv_now(self->loop_);
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(&self->debounce_))) {
    self->burst_start_ms_ = now;
  } else if (now - self->burst_start_ms_ + self->options_.debounce_ms >
             self->options_.max_debounce_ms) {
    return;  // a burst that goes on: its read fires at the bound
  }
  uv_timer_start(&self->debounce_, on_debounce, self->options_.debounce_ms, 0);
}

void DirWatch::on_debounce(uv_timer_t* timer) {
  auto* self = static_cast<DirWatch*>(timer->data);
  self->start_watch();
  self->queue_read();
}

void DirWatch::stop_watch() {
  uv_fs_event_stop(&watch_);
  watching_ = false;
}

void DirWatch::on_reread(uv_timer_t* timer) {
  auto* self = static_cast<DirWatch*>(timer->data);
  self->start_watch();
  self->queue_read();
}

void DirWatch::queue_read() {
  if (closing_) return;
  if (read_in_flight_) {
    read_again_ = true;
    return;
  }
  int rc = uv_queue_work(
      loop_, &job_, [](uv_work_t* req) { static_cast<DirWatch*>(req->data)->work_(); },
      [](uv_work_t* req, int) { static_cast<DirWatch*>(req->data)->read_done(); });
  if (rc != 0) {
    on_error_(options_.path + ": cannot queue a read: " + uv_error_text(rc));
    return;
  }
  read_in_flight_ = true;
}

void DirWatch::read_done() {
  read_in_flight_ = false;
  ++reads_;
  if (closing_) {
    maybe_closed();
    return;
  }
  done_();
  if (read_again_ && !closing_) {
    read_again_ = false;
    queue_read();
  }
}

void DirWatch::close(std::function<void()> on_closed) {
  if (closing_) return;
  closing_ = true;
  on_closed_ = std::move(on_closed);
  auto closed = [](uv_handle_t* h) { static_cast<DirWatch*>(h->data)->handle_closed(); };
  close_handle(reinterpret_cast<uv_handle_t*>(&watch_), closed);
  close_handle(reinterpret_cast<uv_handle_t*>(&debounce_), closed);
  close_handle(reinterpret_cast<uv_handle_t*>(&reread_), closed);
}

void DirWatch::handle_closed() {
  --open_handles_;
  maybe_closed();
}

void DirWatch::maybe_closed() {
  if (open_handles_ > 0 || read_in_flight_ || !on_closed_) return;
  auto on_closed = std::move(on_closed_);
  on_closed_ = nullptr;
  on_closed();  // may free this object
}

}  // namespace streamshift
