// One TCP connection to a Redis server, plaintext or TLS: bytes in and out,
// no RESP. The two kinds differ only inside send() and on_read(); the
// connection above (redis_connection.h) sees one interface.
//
//   open() --TCP up--> plaintext: owner.on_open()
//                      TLS: handshake (TlsSession), then owner.on_open()
//
//   read:  socket --> [TLS: decrypt] --> owner.on_bytes()
//   write: send(batch), once per loop turn:
//            plaintext: every buffer in one uv_try_write (one writev);
//            TLS: the batch encrypted (small buffers gathered into few
//                 records), the ciphertext written the same way.
//          What the kernel does not take at once is copied into a write
//          request, so a batch's borrowed bytes are never referenced
//          after send() returns.
//
// A RedisSocket owns its uv_tcp_t and is freed only in the handle's close
// callback; close() detaches it from its owner at once, and nothing is
// called back after it.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/resp_writer.h"
#include "core/tls_session.h"

namespace streamshift {

class RedisSocket {
 public:
  class Owner {
   public:
    virtual ~Owner() = default;
    /// TCP is up; TLS (if any) is next.
    virtual void on_connected() = 0;
    /// Ready for commands.
    virtual void on_open() = 0;
    /// Bytes from the server (decrypted); false: stop delivering.
    virtual bool on_bytes(const char* data, size_t len) = 0;
    /// The connection failed; the owner close()s it.
    virtual void on_failed(std::string reason) = 0;
  };

  /// Starts connecting to `address`; with `tls`, the session checks
  /// `tls_name`. Null with `*error` when the connect could not start.
  static RedisSocket* open(uv_loop_t* loop, const sockaddr* address, const RedisTlsContext* tls,
                           std::string_view tls_name, Owner* owner, std::string* error);

  /// Writes the batch (see above) and clears it; false when the write
  /// failed (then on_failed follows).
  bool send(RespWriter& batch);
  /// Bytes handed to libuv and not yet written to the kernel.
  size_t queued_bytes() const { return queued_bytes_; }

  /// Closes the socket; no callback reaches the owner after this.
  void close();

 private:
  struct Write;
  RedisSocket(uv_loop_t* loop, Owner* owner);
  ~RedisSocket() = default;

  void start_reading();
  bool write_buffers(const uv_buf_t* bufs, size_t n);
  bool write_owned(std::string bytes);
  bool flush_tls_output();
  bool encrypt(RespWriter& batch);
  void fail(std::string reason);
  std::string write_error(int status);

  static void on_connect(uv_connect_t* req, int status);
  static void on_alloc(uv_handle_t* handle, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);
  static bool on_plaintext(void* self, const char* data, size_t len);
  static void on_written(uv_write_t* req, int status);
  static void on_closed(uv_handle_t* handle);

  uv_tcp_t tcp_;
  uv_connect_t connect_req_;
  Owner* owner_;  // null once closed
  std::unique_ptr<TlsSession> tls_;
  std::string staging_;  // TLS: small buffers gathered before encryption
  size_t queued_bytes_ = 0;
};

}  // namespace streamshift
