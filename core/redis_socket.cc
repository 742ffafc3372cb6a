// One TCP connection to Redis, plaintext or TLS; see redis_socket.h.
#include "core/redis_socket.h"

#include <limits.h>
#include <sys/socket.h>

#include <algorithm>

#include "core/loop.h"

namespace streamshift {
namespace {

constexpr size_t kReadBytes = 64 * 1024;
// TLS: buffers up to this size are gathered before they are encrypted, so
// that a batch of small commands leaves in a few full records.
constexpr size_t kGatherBytes = 2048;
constexpr size_t kRecordBytes = 16 * 1024;

// Every read is consumed inside on_read (the reply reader and the TLS
// session copy what they keep), so one buffer per thread serves every
// socket of its loop.
char* read_buffer() {
  thread_local char buffer[kReadBytes];
  return buffer;
}

}  // namespace

struct RedisSocket::Write {
  uv_write_t req;
  std::string bytes;
  RedisSocket* socket;
};

RedisSocket::RedisSocket(uv_loop_t* loop, Owner* owner) : owner_(owner) {
  uv_tcp_init(loop, &tcp_);
  tcp_.data = this;
  connect_req_.data = this;
}

RedisSocket* RedisSocket::open(uv_loop_t* loop, const sockaddr* address, const RedisTlsContext* tls,
                               std::string_view tls_name, Owner* owner, std::string* error) {
  auto* s = new RedisSocket(loop, owner);
  if (tls != nullptr) s->tls_ = std::make_unique<TlsSession>(*tls, tls_name);
  uv_tcp_nodelay(&s->tcp_, 1);
  int rc = uv_tcp_connect(&s->connect_req_, &s->tcp_, address, on_connect);
  if (rc != 0) {
    *error = "connect: " + uv_error_text(rc);
    s->close();
    return nullptr;
  }
  return s;
}

void RedisSocket::close() {
  owner_ = nullptr;
  auto* handle = reinterpret_cast<uv_handle_t*>(&tcp_);
  if (uv_is_closing(handle)) return;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&tcp_));
  // The connect request and write requests are called back (cancelled)
  // before on_closed.
  close_handle(handle, on_closed);
}

void RedisSocket::on_closed(uv_handle_t* handle) {
  delete static_cast<RedisSocket*>(handle->data);
}

void RedisSocket::fail(std::string reason) {
  if (Owner* o = owner_) o->on_failed(std::move(reason));
}

void RedisSocket::on_connect(uv_connect_t* req, int status) {
  auto* s = static_cast<RedisSocket*>(req->data);
  if (s->owner_ == nullptr) return;
  if (status < 0) {
    s->fail("connect: " + uv_error_text(status));
    return;
  }
  s->owner_->on_connected();
  if (s->owner_ == nullptr) return;
  s->start_reading();
  if (s->owner_ == nullptr) return;
  if (s->tls_ == nullptr) {
    s->owner_->on_open();
  } else if (!s->tls_->start()) {
    s->fail(s->tls_->error());
  } else {
    s->flush_tls_output();  // the ClientHello
  }
}

void RedisSocket::start_reading() {
  int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&tcp_), on_alloc, on_read);
  if (rc != 0) fail("read: " + uv_error_text(rc));
}

void RedisSocket::on_alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  *buf = uv_buf_init(read_buffer(), kReadBytes);
}

void RedisSocket::on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* s = static_cast<RedisSocket*>(stream->data);
  if (s->owner_ == nullptr || nread == 0) return;
  if (nread < 0) {
    s->fail(nread == UV_EOF ? "the server closed the connection"
                            : "read: " + uv_error_text(static_cast<int>(nread)));
    return;
  }
  auto len = static_cast<size_t>(nread);
  if (s->tls_ == nullptr) {
    s->owner_->on_bytes(buf->base, len);
    return;
  }
  bool was_open = s->tls_->handshake_done();
  bool ok = s->tls_->feed(buf->base, len, on_plaintext, s);
  if (s->owner_ == nullptr) return;  // the owner closed us while taking bytes
  // Whatever TLS has to say goes out, an alert on failure included.
  if (!s->flush_tls_output() || s->owner_ == nullptr) return;
  if (!ok) {
    s->fail(s->tls_->error());
  } else if (!was_open && s->tls_->handshake_done()) {
    s->owner_->on_open();
  }
}

bool RedisSocket::on_plaintext(void* self, const char* data, size_t len) {
  auto* s = static_cast<RedisSocket*>(self);
  return s->owner_ != nullptr && s->owner_->on_bytes(data, len) && s->owner_ != nullptr;
}

bool RedisSocket::send(RespWriter& batch) {
  if (batch.empty()) return true;
  const std::vector<uv_buf_t>& bufs = batch.buffers();
  bool ok = tls_ == nullptr ? write_buffers(bufs.data(), bufs.size())
                            : encrypt(batch) && flush_tls_output();
  batch.clear();
  return ok;
}

// As much as the kernel takes now, in writevs of at most IOV_MAX buffers;
// the rest copied into one write request.
bool RedisSocket::write_buffers(const uv_buf_t* bufs, size_t n) {
  auto* stream = reinterpret_cast<uv_stream_t*>(&tcp_);
  size_t done = 0;  // buffers written whole
  size_t partial = 0;
  while (done < n && queued_bytes_ == 0) {
    size_t batch = std::min<size_t>(n - done, IOV_MAX);
    int rc = uv_try_write(stream, bufs + done, static_cast<unsigned>(batch));
    if (rc == UV_EAGAIN) break;
    if (rc < 0) {
      fail(write_error(rc));
      return false;
    }
    auto written = static_cast<size_t>(rc);
    size_t end = done + batch;
    while (done < end && written >= bufs[done].len) written -= bufs[done++].len;
    if (done < end) {  // the kernel took only part
      partial = written;
      break;
    }
  }
  if (done == n) return true;
  std::string rest;
  for (size_t i = done; i < n; ++i) {
    size_t skip = i == done ? partial : 0;
    rest.append(bufs[i].base + skip, bufs[i].len - skip);
  }
  return write_owned(std::move(rest));
}

bool RedisSocket::write_owned(std::string bytes) {
  auto* w = new Write{uv_write_t{}, std::move(bytes), this};
  w->req.data = w;
  uv_buf_t buf = uv_buf_init(w->bytes.data(), static_cast<unsigned>(w->bytes.size()));
  queued_bytes_ += w->bytes.size();
  int rc = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1, on_written);
  if (rc != 0) {
    queued_bytes_ -= w->bytes.size();
    delete w;
    fail(write_error(rc));
    return false;
  }
  return true;
}

void RedisSocket::on_written(uv_write_t* req, int status) {
  auto* w = static_cast<Write*>(req->data);
  RedisSocket* s = w->socket;
  s->queued_bytes_ -= w->bytes.size();
  delete w;
  if (status < 0 && status != UV_ECANCELED && s->owner_ != nullptr) s->fail(s->write_error(status));
}

// A TLS 1.3 server checks the client's certificate after the client has
// finished its side of the handshake: it refuses with an alert and resets
// the connection, and a write of ours can meet the reset before the loop
// has read the alert. The alert is still in the socket's receive queue:
// read it, so that the failure says why rather than "ECONNRESET".
std::string RedisSocket::write_error(int status) {
  std::string reason = "write: " + uv_error_text(status);
  uv_os_fd_t fd;
  if (tls_ == nullptr || uv_fileno(reinterpret_cast<uv_handle_t*>(&tcp_), &fd) != 0) return reason;
  // The alert is in the first bytes; replies that came before it are
  // dropped, as the failing connection would drop them anyway.
  auto discard = [](void*, const char*, size_t) { return true; };
  char* buffer = read_buffer();
  ssize_t n;
  for (int reads = 0; reads < 2 && (n = ::recv(fd, buffer, kReadBytes, MSG_DONTWAIT)) > 0 &&
                      tls_->feed(buffer, static_cast<size_t>(n), discard, nullptr);
       ++reads) {
  }
  return tls_->error().empty() ? reason : tls_->error();
}

bool RedisSocket::encrypt(RespWriter& batch) {
  auto seal = [this](const char* data, size_t len) {
    if (tls_->write(data, len)) return true;
    fail(tls_->error());
    return false;
  };
  staging_.clear();
  for (const uv_buf_t& b : batch.buffers()) {
    if (b.len <= kGatherBytes && staging_.size() + b.len <= kRecordBytes) {
      staging_.append(b.base, b.len);
      continue;
    }
    if (!staging_.empty() && !seal(staging_.data(), staging_.size())) return false;
    staging_.clear();
    if (b.len <= kGatherBytes) {
      staging_.append(b.base, b.len);
    } else if (!seal(b.base, b.len)) {
      return false;
    }
  }
  return staging_.empty() || seal(staging_.data(), staging_.size());
}

bool RedisSocket::flush_tls_output() {
  const std::string& out = tls_->output();
  if (out.empty()) return true;
  size_t sent = 0;
  if (queued_bytes_ == 0) {
    uv_buf_t buf = uv_buf_init(const_cast<char*>(out.data()), static_cast<unsigned>(out.size()));
    int rc = uv_try_write(reinterpret_cast<uv_stream_t*>(&tcp_), &buf, 1);
    if (rc < 0 && rc != UV_EAGAIN) {
      fail(write_error(rc));
      return false;
    }
    if (rc > 0) sent = static_cast<size_t>(rc);
  }
  if (sent == out.size()) {
    tls_->output_sent();
    return true;
  }
  std::string rest = tls_->take_output();
  rest.erase(0, sent);
  return write_owned(std::move(rest));
}

}  // namespace streamshift
