#include "core/runtime_dir.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
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

RuntimeDir::RuntimeDir(uv_loop_t* loop, Options options, OnChange on_change, OnError on_error)
    : path_(options.path),
      on_change_(std::move(on_change)),
      on_error_(std::move(on_error)),
      watch_(
          loop, std::move(options), [this] { read_ = read_runtime_dir(path_); },
          [this] { read_done(); }, [this](const std::string& error) { on_error_(error); }) {}

void RuntimeDir::read_done() {
  RuntimeDirRead read = std::move(read_);
  read_ = {};
  if (!read.error.empty()) {
    report_error(std::move(read.error));
    return;
  }
  last_error_.clear();
  if (!handed_ || *handed_ != read.values) {
    handed_ = std::move(read.values);
    on_change_(*handed_);
  }
}

void RuntimeDir::report_error(std::string error) {
  if (error == last_error_) return;
  last_error_ = std::move(error);
  on_error_(last_error_);
}

}  // namespace streamshift
