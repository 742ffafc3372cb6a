// streamshift: the one binary of both programs. It only dispatches; each
// program has its own main module (proxy/proxy_main.h, relay/relay_main.h).
//
//   streamshift [proxy]                 run the sidecar (the default)
//   streamshift relay                   run the relay (streams -> SignalR)
//   streamshift dlq list|show|redrive ...  the dead-letter stream (relay/dlq_main.h)
//   streamshift check-config [--strict] [proxy|relay]
//                                       validate the environment and print it
//   streamshift replay --stream S ...   deliver a range of entries again
//   streamshift --version | --help
#include <cstdio>
#include <string_view>
#include <vector>

#include "proxy/proxy_main.h"
#include "relay/dlq_main.h"
#include "relay/relay_main.h"
#include "relay/replay_main.h"

namespace streamshift {
namespace {

constexpr std::string_view kVersion = STREAMSHIFT_VERSION;
constexpr std::string_view kUsage =
    "usage: streamshift [command]\n"
    "\n"
    "commands:\n"
    "  proxy          run the sidecar (the default when no command is given)\n"
    "  relay          run the relay: consume the streams, deliver to SignalR\n"
    "  dlq list [--count N] | show <id> | redrive (--id <id> ... | --all) [--reason R]\n"
    "                 inspect the dead-letter stream, or put dead letters back into\n"
    "                 their source stream (configured like the relay)\n"
    "  check-config [--strict] [proxy|relay]\n"
    "                 validate the environment, print the effective configuration\n"
    "                 (secrets masked); exit 0, or 2 naming every invalid variable;\n"
    "                 --strict: unknown STREAMSHIFT_*/EVENT_TRANSPORT_*/EVENT_COALESCING_*\n"
    "                 variables are errors too\n"
    "  replay --stream S --from <id|time> [...]\n"
    "                 deliver a range of a stream again (streamshift replay --help)\n"
    "  --version      print the version\n"
    "  --help         print this help\n"
    "\n"
    "Configuration is by environment variable only; see README.md.\n";

int refuse(std::string_view what, std::string_view arg) {
  std::fprintf(stderr, "streamshift: %.*s '%.*s'\n%.*s", static_cast<int>(what.size()), what.data(),
               static_cast<int>(arg.size()), arg.data(), static_cast<int>(kUsage.size()),
               kUsage.data());
  return 2;
}

// check-config [--strict] [proxy|relay], in any order.
int check_config(const std::vector<std::string_view>& args) {
  bool strict = false;
  std::string_view program;
  for (std::string_view a : args) {
    if (a == "--strict" && !strict)
      strict = true;
    else if (program.empty() && (a == "proxy" || a == "relay"))
      program = a;
    else
      return refuse("unexpected argument", a);
  }
  return program == "relay" ? check_relay_config(strict) : check_proxy_config(strict);
}

}  // namespace
}  // namespace streamshift

int main(int argc, char** argv) {
  using namespace streamshift;
  std::string_view command = argc > 1 ? argv[1] : "proxy";
  if (command == "check-config") {
    return check_config(std::vector<std::string_view>(argv + 2, argv + argc));
  }
  if (command == "dlq") return run_dlq(std::vector<std::string_view>(argv + 2, argv + argc));
  if (command == "replay") return run_replay(std::vector<std::string_view>(argv + 2, argv + argc));
  if (argc > 2) return refuse("unexpected argument", argv[2]);
  if (command == "--version" || command == "version") {
    std::printf("streamshift %.*s\n", static_cast<int>(kVersion.size()), kVersion.data());
    return 0;
  }
  if (command == "--help" || command == "-h" || command == "help") {
    std::printf("%.*s", static_cast<int>(kUsage.size()), kUsage.data());
    return 0;
  }
  if (command == "proxy") return run_proxy();
  if (command == "relay") return run_relay();
  return refuse("unknown command", command);
}
