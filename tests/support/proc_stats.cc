// Readings from /proc; see proc_stats.h.
#include "tests/support/proc_stats.h"

#include <fstream>
#include <sstream>
#include <string>

namespace streamshift::testing {

size_t unread_bytes(uint16_t port) {
  // Lines: "sl local_address rem_address st tx_queue:rx_queue ...", in hex.
  constexpr unsigned long kListen = 0x0A;  // a listener's rx_queue is its backlog
  std::ifstream tcp("/proc/net/tcp");
  std::string line;
  std::getline(tcp, line);  // the header
  size_t total = 0;
  while (std::getline(tcp, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues;
    if (!(fields >> slot >> local >> remote >> state >> queues)) continue;
    size_t colon = local.find(':');
    if (colon == std::string::npos || std::stoul(local.substr(colon + 1), nullptr, 16) != port)
      continue;
    if (std::stoul(state, nullptr, 16) == kListen) continue;
    total += std::stoul(queues.substr(queues.find(':') + 1), nullptr, 16);
  }
  return total;
}

}  // namespace streamshift::testing
