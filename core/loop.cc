// libuv helpers; see loop.h.
#include "core/loop.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <sys/time.h>

#include <cstring>

namespace streamshift {

void ignore_sigpipe() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, nullptr);
}

bool numeric_sockaddr(const std::string& host, uint16_t port, sockaddr_storage* out) {
  std::memset(out, 0, sizeof *out);
  if (uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(out)) == 0) return true;
  return uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(out)) == 0;
}

int listen_tcp(uv_loop_t* loop, uv_tcp_t* handle, const HostPort& address, bool reuse_port,
               int backlog, uv_connection_cb on_connection) {
  sockaddr_storage addr;
  if (!numeric_sockaddr(address.host, address.port, &addr)) {
    addrinfo hints;
    std::memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* res = nullptr;
    if (getaddrinfo(address.host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) {
      return UV_EAI_NONAME;
    }
    std::memcpy(&addr, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (addr.ss_family == AF_INET)
      reinterpret_cast<sockaddr_in*>(&addr)->sin_port = htons(address.port);
    else
      reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port = htons(address.port);
  }
  int rc = uv_tcp_init_ex(loop, handle, addr.ss_family);
  if (rc != 0) return rc;
  if (reuse_port) {
    uv_os_fd_t fd;
    rc = uv_fileno(reinterpret_cast<uv_handle_t*>(handle), &fd);
    int one = 1;
    if (rc == 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
      rc = uv_translate_sys_error(errno);
    }
    if (rc != 0) return rc;
  }
  rc = uv_tcp_bind(handle, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rc != 0) return rc;
  uv_tcp_nodelay(handle, 1);
  return uv_listen(reinterpret_cast<uv_stream_t*>(handle), backlog, on_connection);
}

uint16_t bound_port(const uv_tcp_t* handle) {
  sockaddr_storage addr;
  int len = sizeof addr;
  if (uv_tcp_getsockname(handle, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  if (addr.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
}

std::string peer_ip(const uv_tcp_t* handle) {
  sockaddr_storage addr;
  int len = sizeof addr;
  if (uv_tcp_getpeername(handle, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "";
  char text[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    uv_ip4_name(reinterpret_cast<sockaddr_in*>(&addr), text, sizeof text);
  } else {
    uv_ip6_name(reinterpret_cast<sockaddr_in6*>(&addr), text, sizeof text);
  }
  return text;
}

std::string uv_error_text(int status) {
  return std::string(uv_err_name(status)) + " (" + uv_strerror(status) + ")";
}

void close_handle(uv_handle_t* handle, uv_close_cb on_closed) {
  if (!uv_is_closing(handle)) uv_close(handle, on_closed);
}

void close_loop(uv_loop_t* loop) {
  uv_walk(
      loop, [](uv_handle_t* h, void*) { close_handle(h, nullptr); }, nullptr);
  while (uv_run(loop, UV_RUN_DEFAULT) != 0) {
  }
  uv_loop_close(loop);
}

}  // namespace streamshift

namespace streamshift {

bool try_write_all(uv_stream_t* stream, uv_buf_t*& bufs, unsigned& nbufs, int* error) {
  *error = 0;
  int n = uv_try_write(stream, bufs, nbufs);
  if (n == UV_EAGAIN) return false;
  if (n < 0) {
    *error = n;
    return false;
  }
  auto left = static_cast<size_t>(n);
  while (nbufs > 0 && left >= bufs->len) {
    left -= bufs->len;
    ++bufs;
    --nbufs;
  }
  if (nbufs == 0) return true;
  bufs->base += left;
  bufs->len -= left;
  return false;
}

int64_t wall_clock_ms() {
  timeval tv;
  gettimeofday(&tv, nullptr);
  return static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
}

}  // namespace streamshift
