// streamshift-load: the load generator. Sends the support-center event mix
// to a target (the sidecar, a peer proxy, Webdis, or the sink directly) in
// an open loop at a fixed rate or a closed loop at maximum throughput,
// optionally runs its own sink to time delivery end to end, and prints one
// JSON report. See loadtest/README.md.
#include <uv.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

#include "core/loop.h"
#include "core/net_address.h"
#include "loadtest/load_client.h"
#include "loadtest/sink.h"
#include "loadtest/workload.h"

namespace streamshift {
namespace {

constexpr std::string_view kUsage =
    "usage: streamshift-load --target HOST:PORT [options]\n"
    "  --target HOST:PORT     where requests go (an IP address)\n"
    "  --connections N        keep-alive connections (50)\n"
    "  --rate R               requests/s, open loop; 0 = closed loop, maximum throughput (0)\n"
    "  --duration-ms MS       measured period (5000)\n"
    "  --warmup-ms MS         unrecorded warm-up before it (1000)\n"
    "  --workload KIND        chat | typing | mixed (mixed: 50% typing, 40% chat, 10% tickets)\n"
    "  --format FORMAT        events (POST /internal/broadcast/...) | webdis (PUT /XADD/...)\n"
    "  --users N              distinct users, i.e. typing keys (200); rooms: --rooms, else N/4\n"
    "  --rooms N\n"
    "  --sink HOST:PORT       run the sink there and time each event's arrival\n"
    "  --sink-wait-ms MS      after the run, wait this long at most for stragglers (5000)\n"
    "  --sink-delay-ms MS     the sink answers each request this late (0): a slow target\n"
    "  --record FILE          write every request's outcome there, one line each:\n"
    "                         <event id> <status, 0 failed, -1 unanswered> <sent ns> <done ns>\n";

struct Args {
  LoadOptions load;
  WorkloadOptions workload;
  std::string sink;
  uint64_t sink_wait_ms = 5000;
  uint64_t sink_delay_ms = 0;
  std::string record;
};

[[noreturn]] void usage_error(const std::string& why) {
  std::fprintf(stderr, "streamshift-load: %s\n%.*s", why.c_str(), static_cast<int>(kUsage.size()),
               kUsage.data());
  std::exit(2);
}

uint64_t number(const char* flag, const char* value) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(value, &end, 10);
  if (end == value || *end != '\0') usage_error(std::string(flag) + " wants a number");
  return v;
}

HostPort address(const char* flag, const char* value) {
  std::optional<HostPort> hp = parse_host_port(value);
  if (!hp) usage_error(std::string(flag) + ": HOST:PORT");
  return *hp;
}

Args parse_args(int argc, char** argv) {
  Args a;
  bool has_target = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::printf("%.*s", static_cast<int>(kUsage.size()), kUsage.data());
      std::exit(0);
    }
    if (i + 1 >= argc) usage_error("missing value for " + std::string(flag));
    const char* v = argv[++i];
    if (flag == "--target") {
      a.load.target = address(argv[i - 1], v);
      has_target = true;
    } else if (flag == "--connections") {
      a.load.connections = number(argv[i - 1], v);
    } else if (flag == "--rate") {
      a.load.rate = static_cast<double>(number(argv[i - 1], v));
    } else if (flag == "--duration-ms") {
      a.load.duration_ms = number(argv[i - 1], v);
    } else if (flag == "--warmup-ms") {
      a.load.warmup_ms = number(argv[i - 1], v);
    } else if (flag == "--workload") {
      std::string_view k = v;
      if (k == "chat")
        a.workload.kind = WorkloadKind::kChat;
      else if (k == "typing")
        a.workload.kind = WorkloadKind::kTyping;
      else if (k == "mixed")
        a.workload.kind = WorkloadKind::kMixed;
      else
        usage_error("--workload: chat, typing or mixed");
    } else if (flag == "--format") {
      std::string_view f = v;
      if (f == "events")
        a.workload.format = RequestFormat::kEvents;
      else if (f == "webdis")
        a.workload.format = RequestFormat::kWebdis;
      else
        usage_error("--format: events or webdis");
    } else if (flag == "--users") {
      a.workload.users = static_cast<uint32_t>(number(argv[i - 1], v));
    } else if (flag == "--rooms") {
      a.workload.rooms = static_cast<uint32_t>(number(argv[i - 1], v));
    } else if (flag == "--sink") {
      a.sink = v;
    } else if (flag == "--sink-wait-ms") {
      a.sink_wait_ms = number(argv[i - 1], v);
    } else if (flag == "--sink-delay-ms") {
      a.sink_delay_ms = number(argv[i - 1], v);
    } else if (flag == "--record") {
      a.record = v;
    } else {
      usage_error("unknown option " + std::string(flag));
    }
  }
  if (!has_target) usage_error("--target is required");
  if (a.load.connections == 0 || a.workload.users == 0) usage_error("connections and users > 0");
  a.workload.host = a.load.target.host;
  return a;
}

void append_latency(std::string& out, const LatencyHistogram& h) {
  auto us = [](uint64_t ns) { return std::to_string(static_cast<double>(ns) / 1000.0); };
  out += "{\"count\":" + std::to_string(h.count()) + ",\"p50\":" + us(h.percentile(50)) +
         ",\"p90\":" + us(h.percentile(90)) + ",\"p95\":" + us(h.percentile(95)) + ",\"p99\":" + us(h.percentile(99)) +
         ",\"p999\":" + us(h.percentile(99.9)) + ",\"max\":" + us(h.max()) +
         ",\"mean\":" + us(static_cast<uint64_t>(h.mean())) + "}";
}

int run(const Args& args) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  Workload workload(args.workload);
  std::unique_ptr<Sink> sink;
  if (!args.sink.empty()) {
    sink = std::make_unique<Sink>(address("--sink", args.sink.c_str()), args.workload.users,
                                  args.sink_delay_ms);
    if (int rc = sink->start(); rc != 0) {
      std::fprintf(stderr, "streamshift-load: cannot listen on %s: %s\n", args.sink.c_str(),
                   uv_error_text(rc).c_str());
      return 1;
    }
  }
  OutcomeLog outcomes;
  if (!args.record.empty() && !outcomes.open(args.record)) {
    std::fprintf(stderr, "streamshift-load: cannot write %s: %s\n", args.record.c_str(),
                 std::strerror(errno));
    return 1;
  }
  LoadClient client(&loop, args.load, workload);
  if (!args.record.empty()) client.set_outcome_log(&outcomes);
  if (sink) sink->set_measure_from(uv_hrtime() + args.load.warmup_ms * 1000000);
  client.run();
  close_loop(&loop);
  if (!outcomes.close()) {
    std::fprintf(stderr, "streamshift-load: writing %s failed\n", args.record.c_str());
    return 1;
  }
  const LoadReport& r = client.report();

  SinkReport sink_report;
  if (sink) {
    // Stragglers: events still in a proxy, a coalescing window or a relay.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(args.sink_wait_ms);
    uint64_t last = sink->received();
    auto last_change = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      uint64_t now = sink->received();
      if (now != last) {
        last = now;
        last_change = std::chrono::steady_clock::now();
      } else if (now >= r.ok ||
                 std::chrono::steady_clock::now() - last_change > std::chrono::milliseconds(1000)) {
        break;
      }
    }
    sink_report = sink->stop();
  }

  std::string out = "{";
  out +=
      "\"target\":\"" + args.load.target.host + ":" + std::to_string(args.load.target.port) + "\"";
  out += ",\"mode\":\"" + std::string(args.load.rate > 0 ? "open" : "closed") + "\"";
  out += ",\"rate\":" + std::to_string(static_cast<uint64_t>(args.load.rate));
  out += ",\"connections\":" + std::to_string(args.load.connections);
  out += ",\"users\":" + std::to_string(args.workload.users);
  out += ",\"duration_s\":" + std::to_string(r.measured_seconds);
  out += ",\"sent\":" + std::to_string(r.sent);
  out += ",\"completed\":" + std::to_string(r.completed);
  out += ",\"completed_all\":" + std::to_string(r.completed_all);
  out += ",\"ok\":" + std::to_string(r.ok);
  out += ",\"non_2xx\":" + std::to_string(r.non_2xx);
  out += ",\"errors\":" + std::to_string(r.errors);
  out += ",\"late\":" + std::to_string(r.late);
  out += ",\"throughput_rps\":" +
         std::to_string(
             r.measured_seconds > 0 ? static_cast<double>(r.completed) / r.measured_seconds : 0);
  out += ",\"latency_us\":";
  append_latency(out, r.latency);
  out += ",\"slowest_at_ms\":" + std::to_string(r.slowest_at_ms);
  out += ",\"typing_sent\":" + std::to_string(workload.typing_sent());
  if (sink) {
    uint64_t keys = 0, missing = 0;
    const auto& sent = workload.last_typing_state();
    for (size_t u = 0; u < sent.size(); ++u) {
      if (sent[u] == TypingState::kNone) continue;
      ++keys;
      if (sink_report.last_typing_state[u] != sent[u]) ++missing;
    }
    out += ",\"sink\":{\"received\":" + std::to_string(sink_report.received) +
           ",\"warmup\":" + std::to_string(sink_report.warmup) +
           ",\"foreign\":" + std::to_string(sink_report.foreign) +
           ",\"typing_received\":" + std::to_string(sink_report.typing_received) +
           ",\"typing_keys\":" + std::to_string(keys) +
           ",\"last_state_missing\":" + std::to_string(missing) + ",\"latency_us\":";
    append_latency(out, sink_report.latency);
    out += "}";
  }
  out += "}\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

}  // namespace
}  // namespace streamshift

int main(int argc, char** argv) {
  using namespace streamshift;
  ignore_sigpipe();
  return run(parse_args(argc, argv));
}
