// The RESP encoding of the commands one Redis connection sends in one loop
// turn, as the list of buffers one writev takes (or TLS encrypts).
//
//   append(XADD s MAXLEN ~ n * f1 v1 ... body)
//
//   arena:  "*12\r\n$4\r\nXADD\r\n$1\r\ns\r\n ... $312\r\n" | "\r\n*3\r\n..."
//   buffers: [ arena 0..k ] [ body: the caller's bytes ] [ arena k.. ] ...
//
// Small arguments and the RESP framing are copied into one arena. An
// argument marked borrowed is referenced where the caller keeps it (an
// event's body, in its request's buffer): it is not copied here. The batch
// is handed to the socket once per loop turn and cleared; what the socket
// cannot send at once it copies (redis_socket.h), so a borrowed argument
// is referenced only until that flush.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace streamshift {

class RespWriter {
 public:
  /// Appends one command. Bit i of `borrowed` set: argv[i] is referenced,
  /// not copied (i < 64); it must stay valid until clear().
  void append(int argc, const char* const* argv, const size_t* lens, uint64_t borrowed = 0);

  bool empty() const { return bytes_ == 0; }
  /// Bytes of the encoded commands.
  size_t size() const { return bytes_; }
  /// The encoded commands as buffers, in order (valid until the next
  /// append or clear).
  const std::vector<uv_buf_t>& buffers();
  /// Bytes referenced rather than copied since the last clear().
  size_t borrowed_bytes() const { return borrowed_bytes_; }
  /// Forgets everything; keeps the arena's capacity.
  void clear();

 private:
  struct Segment {
    const char* borrowed;  // null: arena_[offset, offset + len)
    size_t offset;
    size_t len;
  };
  void copy(const char* data, size_t len);
  void reference(const char* data, size_t len);

  std::string arena_;
  std::vector<Segment> segments_;
  std::vector<uv_buf_t> buffers_;
  size_t bytes_ = 0;
  size_t borrowed_bytes_ = 0;
};

}  // namespace streamshift
