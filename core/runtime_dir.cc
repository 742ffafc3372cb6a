#include "core/runtime_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <utility>

#include "core/loop.h"

namespace streamshift {

namespace {

std::string sys_error(int err) {
  return uv_error_text(uv_translate_sys_error(err));
}

// One value file; false with `error` set. `vanished` when it was removed
// between listing and opening (a ..data swap under the read).
bool read_value(const std::string& file, const std::string& name, std::string* value, bool* include,
                bool* vanished, std::string* error) {
  // O_NONBLOCK: a FIFO under the name must not hold a pool thread (it is skipped).
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    *vanished = err == ENOENT;
    *error = name + ": cannot open: " + sys_error(err);
    return false;
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    *include = false;  // a subdirectory, FIFO or device: not a variable
    return true;
  }
  // Room for the longest value, a trailing "\r\n" and one byte that says "longer".
  char buffer[kRuntimeDirMaxValueBytes + 3];
  size_t used = 0;
  while (used < sizeof(buffer)) {
    ssize_t n = ::read(fd, buffer + used, sizeof(buffer) - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      *error = name + ": cannot read: " + sys_error(err);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  ::close(fd);
  size_t length = used;
  while (length > 0 && (buffer[length - 1] == '\n' || buffer[length - 1] == '\r')) --length;
  if (used == sizeof(buffer) || length > kRuntimeDirMaxValueBytes) {
    *error = name + ": value longer than " + std::to_string(kRuntimeDirMaxValueBytes) + " bytes";
    return false;
  }
  value->assign(buffer, length);
  *include = true;
  return true;
}

// One attempt; `vanished` when the version being read was swapped away.
RuntimeDirRead read_once(const std::string& path, bool* vanished) {
  RuntimeDirRead out;
  std::string dir = path;
  std::string data_link = path + "/..data";
  struct stat st;
  if (::lstat(data_link.c_str(), &st) == 0) {
    char resolved[PATH_MAX];
    if (::realpath(data_link.c_str(), resolved) == nullptr) {
      int err = errno;
      *vanished = err == ENOENT;
      out.error = path + ": cannot resolve ..data: " + sys_error(err);
      return out;
    }
    dir = resolved;
  }
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    int err = errno;
    *vanished = err == ENOENT && dir != path;
    out.error = path + ": cannot open: " + sys_error(err);
    return out;
  }
  while (dirent* entry = ::readdir(d)) {
    std::string name = entry->d_name;
    if (name.empty() || name[0] == '.') continue;
    if (out.values.size() == kRuntimeDirMaxFiles) {
      out.error = path + ": more than " + std::to_string(kRuntimeDirMaxFiles) + " files";
      break;
    }
    std::string value;
    bool include = false;
    std::string error;
    if (!read_value(dir + "/" + name, name, &value, &include, vanished, &error)) {
      out.error = path + ": " + error;
      break;
    }
    if (include) out.values.emplace(std::move(name), std::move(value));
  }
  ::closedir(d);
  if (!out.error.empty()) out.values.clear();
  return out;
}

}  // namespace

RuntimeDirRead read_runtime_dir(const std::string& path) {
  RuntimeDirRead read;
  for (int attempt = 0; attempt < 3; ++attempt) {
    bool vanished = false;
    read = read_once(path, &vanished);
    if (read.error.empty() || !vanished) break;
  }
  return read;
}

struct RuntimeDir::ReadJob {
  uv_work_t req;
  RuntimeDir* owner;
  std::string path;
  RuntimeDirRead read;
};

RuntimeDir::RuntimeDir(uv_loop_t* loop, Options options, OnChange on_change, OnError on_error)
    : loop_(loop),
      options_(std::move(options)),
      on_change_(std::move(on_change)),
      on_error_(std::move(on_error)) {
  std::string_view path = options_.path;
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  directory_name_ = path.substr(path.rfind('/') + 1);
  uv_fs_event_init(loop_, &watch_);
  uv_timer_init(loop_, &debounce_);
  uv_timer_init(loop_, &reread_);
  watch_.data = debounce_.data = reread_.data = this;
  open_handles_ = 3;
}

RuntimeDir::~RuntimeDir() = default;

void RuntimeDir::start() {
  if (closing_) return;
  start_watch();
  uv_timer_start(&reread_, on_reread, options_.reread_ms, options_.reread_ms);
  queue_read();
}

void RuntimeDir::start_watch() {
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

void RuntimeDir::on_fs_event(uv_fs_event_t* handle, const char* filename, int events, int status) {
  auto* self = static_cast<RuntimeDir*>(handle->data);
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

void RuntimeDir::on_debounce(uv_timer_t* timer) {
  auto* self = static_cast<RuntimeDir*>(timer->data);
  self->start_watch();
  self->queue_read();
}

void RuntimeDir::stop_watch() {
  uv_fs_event_stop(&watch_);
  watching_ = false;
}

void RuntimeDir::on_reread(uv_timer_t* timer) {
  auto* self = static_cast<RuntimeDir*>(timer->data);
  self->start_watch();
  self->queue_read();
}

void RuntimeDir::queue_read() {
  if (closing_) return;
  if (read_in_flight_) {
    read_again_ = true;
    return;
  }
  auto* job = new ReadJob{{}, this, options_.path, {}};
  job->req.data = job;
  int rc = uv_queue_work(
      loop_, &job->req,
      [](uv_work_t* req) {
        auto* j = static_cast<ReadJob*>(req->data);
        j->read = read_runtime_dir(j->path);
      },
      [](uv_work_t* req, int) {
        std::unique_ptr<ReadJob> j(static_cast<ReadJob*>(req->data));
        j->owner->read_done(std::move(j->read));
      });
  if (rc != 0) {
    delete job;
    report_error(options_.path + ": cannot queue a read: " + uv_error_text(rc));
    return;
  }
  read_in_flight_ = true;
}

void RuntimeDir::read_done(RuntimeDirRead read) {
  read_in_flight_ = false;
  ++reads_;
  if (closing_) {
    maybe_closed();
    return;
  }
  if (!read.error.empty()) {
    report_error(std::move(read.error));
  } else {
    last_error_.clear();
    if (!handed_ || *handed_ != read.values) {
      handed_ = std::move(read.values);
      on_change_(*handed_);
    }
  }
  if (read_again_ && !closing_) {
    read_again_ = false;
    queue_read();
  }
}

void RuntimeDir::report_error(std::string error) {
  if (error == last_error_) return;
  last_error_ = std::move(error);
  on_error_(last_error_);
}

void RuntimeDir::close(std::function<void()> on_closed) {
  if (closing_) return;
  closing_ = true;
  on_closed_ = std::move(on_closed);
  auto closed = [](uv_handle_t* h) { static_cast<RuntimeDir*>(h->data)->handle_closed(); };
  close_handle(reinterpret_cast<uv_handle_t*>(&watch_), closed);
  close_handle(reinterpret_cast<uv_handle_t*>(&debounce_), closed);
  close_handle(reinterpret_cast<uv_handle_t*>(&reread_), closed);
}

void RuntimeDir::handle_closed() {
  --open_handles_;
  maybe_closed();
}

void RuntimeDir::maybe_closed() {
  if (open_handles_ > 0 || read_in_flight_ || !on_closed_) return;
  auto on_closed = std::move(on_closed_);
  on_closed_ = nullptr;
  on_closed();  // may free this object
}

}  // namespace streamshift
