// A server connection's answers on their way to the client (internal to
// core): the head serialized into a reused buffer, the body moved in (never
// copied), written at once when the socket takes it all (uv_try_write: no
// epoll_ctl), else queued with uv_write and kept until its callback. Write
// requests are reused, so a keep-alive connection allocates none after its
// first answers.
#pragma once

#include <uv.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_exchange.h"

namespace streamshift {

class ResponseWriter {
 public:
  /// Told when a queued write ends: `status` 0, or a libuv error (then also
  /// when writes are cancelled because the stream closes).
  using OnWritten = void (*)(void* owner, int status);

  ResponseWriter(uv_stream_t* stream, OnWritten on_written, void* owner)
      : stream_(stream), on_written_(on_written), owner_(owner) {}
  /// No write may be in flight (closing the stream ends them first).
  ~ResponseWriter();
  ResponseWriter(const ResponseWriter&) = delete;
  ResponseWriter& operator=(const ResponseWriter&) = delete;

  /// Sends `bytes`, which must outlive the write (a constant: 100 Continue).
  /// 0, or a libuv error code.
  int write_constant(std::string_view bytes);
  /// Sends `response` (its body is moved out), with Connection: close when
  /// `close_after`. 0, or a libuv error code.
  int write(Response& response, bool close_after);

  /// Writes queued and not yet called back.
  size_t in_flight() const { return in_flight_; }
  /// Bytes queued toward the client.
  size_t queued_bytes() const { return uv_stream_get_write_queue_size(stream_); }

 private:
  struct WriteReq {
    uv_write_t req;
    ResponseWriter* writer;
    std::string head;
    std::string body;
  };
  WriteReq* take_request();
  void recycle(WriteReq* w);
  int send(WriteReq* w, uv_buf_t* bufs, unsigned nbufs);
  static void on_write(uv_write_t* req, int status);

  uv_stream_t* stream_;
  OnWritten on_written_;
  void* owner_;
  std::vector<WriteReq*> spare_;
  size_t in_flight_ = 0;
};

}  // namespace streamshift
