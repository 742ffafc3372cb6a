// libuv helpers shared by the programs: listeners with SO_REUSEPORT, address
// conversion, process signal set-up, and the close-then-free rule.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <string>

#include "core/net_address.h"

namespace streamshift {

/// Ignores SIGPIPE process-wide (uv_write and hiredis write() to closed peers).
void ignore_sigpipe();

/// Fills `out` from a numeric IPv4/IPv6 host; false if `host` is not numeric.
bool numeric_sockaddr(const std::string& host, uint16_t port, sockaddr_storage* out);

/// Creates, binds and listens. With reuse_port, SO_REUSEPORT is set on the
/// socket before bind (libuv 1.44 has no flag for it), so several workers
/// each with their own loop share one port. Host names are resolved with a
/// blocking lookup: call at start-up only. Returns 0 or a libuv error code.
int listen_tcp(uv_loop_t* loop, uv_tcp_t* handle, const HostPort& address, bool reuse_port,
               int backlog, uv_connection_cb on_connection);

/// The bound port of a listening handle (for ":0" listeners), or 0.
uint16_t bound_port(const uv_tcp_t* handle);

/// The peer's IP address as text, or "" if unknown.
std::string peer_ip(const uv_tcp_t* handle);

/// "connect ECONNREFUSED" style text for a libuv error code.
std::string uv_error_text(int status);

/// Closes `handle` (if not closing already) and runs `on_closed` from its
/// close callback, the only place an owner of a handle may be freed.
void close_handle(uv_handle_t* handle, uv_close_cb on_closed);

/// Milliseconds since the Unix epoch (the wall clock, for timestamps that
/// cross processes; intervals use uv_now / uv_hrtime).
int64_t wall_clock_ms();

/// Closes every handle still open on `loop`, runs it until they are closed,
/// then closes the loop.
void close_loop(uv_loop_t* loop);

}  // namespace streamshift

namespace streamshift {

/// Writes as much of `bufs` as the socket takes now (uv_try_write) and
/// advances `bufs`/`nbufs` past what was written. Returns true when all of
/// it was written; false when the rest must be queued with uv_write, or on
/// error (then *error is set). Writing synchronously first avoids the
/// epoll_ctl that libuv 1.44 issues each time a queued write drains.
bool try_write_all(uv_stream_t* stream, uv_buf_t*& bufs, unsigned& nbufs, int* error);

}  // namespace streamshift
