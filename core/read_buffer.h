// Bytes read from a socket and not yet consumed. libuv reads into the free
// tail; consumed bytes leave from the front, and are compacted away only
// when the tail runs short (then the buffer grows if it must).
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstring>
#include <vector>

namespace streamshift {

class ReadBuffer {
 public:
  /// Reads of about `chunk` bytes; nothing is allocated before the first.
  explicit ReadBuffer(size_t chunk) : chunk_(chunk) {}

  /// Room for the next read: at least a quarter chunk.
  uv_buf_t prepare() {
    if (bytes_.empty()) bytes_.resize(chunk_);
    if (start_ == end_) start_ = end_ = 0;
    if (bytes_.size() - end_ < chunk_ / 4) {
      if (start_ > 0) {
        std::memmove(bytes_.data(), bytes_.data() + start_, end_ - start_);
        end_ -= start_;
        start_ = 0;
      }
      if (bytes_.size() - end_ < chunk_ / 4) bytes_.resize(bytes_.size() * 2);
    }
    return uv_buf_init(bytes_.data() + end_, static_cast<unsigned>(bytes_.size() - end_));
  }
  /// `n` bytes were read into what prepare() gave.
  void commit(size_t n) { end_ += n; }

  const char* data() const { return bytes_.data() + start_; }
  size_t size() const { return end_ - start_; }
  bool empty() const { return start_ == end_; }
  void consume(size_t n) { start_ += n; }

 private:
  size_t chunk_;
  std::vector<char> bytes_;
  size_t start_ = 0, end_ = 0;
};

}  // namespace streamshift
