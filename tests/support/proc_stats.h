// What the kernel says (/proc) about the sockets of a test: the bytes
// waiting unread in a server's sockets (what its clients have sent a
// stopped server).
#pragma once

#include <cstddef>
#include <cstdint>

namespace streamshift::testing {

/// Bytes received on the IPv4 TCP connections whose local port is `port`
/// (the server's side) that the server has not read yet.
size_t unread_bytes(uint16_t port);

}  // namespace streamshift::testing
