// What the kernel says (/proc) about the processes and sockets of a test:
// CPU time and peak memory of a child process, and the bytes waiting unread
// in a server's sockets (what its clients have sent a stopped server).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace streamshift::testing {

/// User + system CPU seconds `pid` has used.
double cpu_seconds(pid_t pid);

/// Peak resident memory of `pid` in MiB (VmHWM); -1 when unknown.
long peak_rss_mib(pid_t pid);

/// Bytes received on the IPv4 TCP connections whose local port is `port`
/// (the server's side) that the server has not read yet.
size_t unread_bytes(uint16_t port);

}  // namespace streamshift::testing
