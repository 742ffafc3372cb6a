// A TCP relay on 127.0.0.1 for fault injection: every connection accepted
// on port() is forwarded, both ways, to 127.0.0.1:target. freeze() holds
// every byte back without closing anything: what a peer sends stays in the
// kernel's buffers, so each side sees a peer that has gone quiet, not one
// that has gone (a stalled network path). thaw() lets the held bytes through
// in order, nothing lost.
//
//   forwarding ──freeze()──> frozen ──thaw()──> forwarding
//
// One thread per connection (ConnectionServer) moves the bytes of both
// directions; a closed side closes the other (not while frozen: a frozen
// relay does not look at its sockets at all).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "tests/support/connection_server.h"

namespace streamshift::testing {

class TcpRelay {
 public:
  explicit TcpRelay(uint16_t target_port);
  TcpRelay(const TcpRelay&) = delete;
  TcpRelay& operator=(const TcpRelay&) = delete;

  uint16_t port() const { return server_.port(); }
  /// Returns once no byte moves any more (a chunk being written finishes
  /// first).
  void freeze();
  void thaw();
  bool frozen() const;

 private:
  void forward(int client_fd);
  /// Waits while frozen; false when the relay is stopping.
  bool wait_thawed();
  /// Moves one chunk from `from` to `to`; false when `from` closed or
  /// either side failed.
  bool move_chunk(int from, int to);

  const uint16_t target_port_;
  mutable std::mutex mu_;  // held while a chunk moves
  std::condition_variable thawed_;
  bool frozen_ = false;
  ConnectionServer server_;  // last: its threads are joined first
};

}  // namespace streamshift::testing
