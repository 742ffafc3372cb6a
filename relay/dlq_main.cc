// `streamshift dlq`; see dlq_main.h.
#include "relay/dlq_main.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "core/config_report.h"
#include "core/decimal.h"
#include "core/env_config.h"
#include "core/log.h"
#include "core/printable.h"
#include "core/stream_id.h"
#include "relay/dlq_redrive.h"
#include "relay/dlq_session.h"
#include "relay/relay_settings.h"

namespace streamshift {

const char* const kDlqUsage =
    "usage: streamshift dlq list [--count N]\n"
    "       streamshift dlq show <id>\n"
    "       streamshift dlq redrive (--id <id> ... | --all) [--reason R]\n"
    "  list     the dead letters, oldest first (N: 1-10000, default 100)\n"
    "  show     every field of one dead letter; exit 1 when absent\n"
    "  redrive  put dead letters back into their source stream (original fields\n"
    "           plus redriven_from) and delete them from the dead-letter stream,\n"
    "           atomically; R: permanent_status, max_deliveries or malformed\n"
    "Configured like the relay (REDIS_URL, STREAMSHIFT_DLQ_STREAM, STREAMSHIFT_STREAMS, ...).\n";

namespace {

constexpr int64_t kMaxCount = 10000;
constexpr int64_t kPage = 100;  // list and redrive --all read the DLQ this many at a time

bool valid_id(std::string_view id) {
  return StreamId::parse(std::string(id)).has_value();
}

void cannot_read(const RelaySettings& settings, const RedisAnswer& a) {
  std::fprintf(stderr, "streamshift dlq: cannot read %s: %s\n", settings.dlq_stream.c_str(),
               a.error.c_str());
}

// Reads the DLQ oldest first, from the start up to `last` (an id or "+"), a
// page of kPage at a time and at most `limit` in all, handing each page to
// `visit`: no more than a page of dead letters, bodies included, is ever in
// Redis's reply or in this command at once. Pages are separate reads, not
// one snapshot. False when a read failed (said on stderr).
template <typename Visit>
bool walk_dlq(DlqSession& redis, const RelaySettings& settings, const std::string& last,
              int64_t limit, Visit visit) {
  std::string from = "-";
  while (limit > 0) {
    int64_t n = std::min(limit, kPage);
    RedisAnswer page =
        redis.call({"XRANGE", settings.dlq_stream, from, last, "COUNT", std::to_string(n)});
    if (!page.ok()) {
      cannot_read(settings, page);
      return false;
    }
    std::vector<DeadLetter> letters = parse_dead_letters(page.value);
    visit(letters);
    if (letters.size() < static_cast<size_t>(n)) return true;
    limit -= n;
    // Nothing follows `last`, nor the largest id (which has no exclusive form).
    if (letters.back().id == last || letters.back().id == kLargestStreamId) return true;
    from = "(" + letters.back().id;
  }
  return true;
}

int list(DlqSession& redis, const RelaySettings& settings, int64_t count) {
  bool first = true;  // the header comes with the first page: nothing on stdout when it failed
  bool ok = walk_dlq(redis, settings, "+", count, [&first](const std::vector<DeadLetter>& letters) {
    if (std::exchange(first, false))
      std::printf("id\treason\tsource_stream\tsource_id\tevent_id\troom\tdeliveries\terror\n");
    for (const DeadLetter& d : letters) {
      std::printf("%s", printable(d.id).c_str());
      for (const char* name : {"dlq_reason", "dlq_source_stream", "dlq_source_id", "event_id",
                               "room_id", "dlq_deliveries", "dlq_error"})
        std::printf("\t%s", printable(d.field(name)).c_str());
      std::printf("\n");
    }
  });
  return ok ? 0 : 1;
}

int show(DlqSession& redis, const RelaySettings& settings, const std::string& id) {
  RedisAnswer a = redis.call({"XRANGE", settings.dlq_stream, id, id});
  if (!a.ok()) {
    cannot_read(settings, a);
    return 1;
  }
  std::vector<DeadLetter> found = parse_dead_letters(a.value);
  if (found.empty()) {
    std::fprintf(stderr, "streamshift dlq: no dead letter %s in %s\n", id.c_str(),
                 settings.dlq_stream.c_str());
    return 1;
  }
  std::printf("id: %s\n", printable(found[0].id).c_str());
  for (const auto& [name, value] : found[0].fields)
    std::printf("%s: %s\n", printable(name).c_str(), printable(value).c_str());
  return 0;
}

struct Tally {
  int redriven = 0, skipped = 0, failed = 0;
  RedrivenSources sources;

  void add(const std::string& id, const RedriveResult& r) {
    switch (r.outcome) {
      case RedriveOutcome::kRedriven:
        ++redriven;
        std::printf("redriven %s -> %s\n", id.c_str(), printable(r.detail).c_str());
        break;
      case RedriveOutcome::kSkipped:
        ++skipped;
        std::printf("skipped %s: %s\n", id.c_str(), printable(r.detail).c_str());
        break;
      case RedriveOutcome::kFailed:
        ++failed;
        std::fprintf(stderr, "failed %s: %s\n", id.c_str(), printable(r.detail).c_str());
        break;
    }
  }
};

// --all: the dead letters up to the newest one at the start, a page at a
// time, so the ones the relay writes meanwhile (a redriven entry failing
// again) are left for the next run rather than looping.
bool redrive_all(DlqSession& redis, const RelaySettings& settings, const DlqArgs& args,
                 Tally& tally) {
  RedisAnswer last = redis.call({"XREVRANGE", settings.dlq_stream, "+", "-", "COUNT", "1"});
  if (!last.ok()) {
    cannot_read(settings, last);
    return false;
  }
  std::vector<DeadLetter> newest = parse_dead_letters(last.value);
  if (newest.empty()) return true;
  return walk_dlq(
      redis, settings, newest[0].id, INT64_MAX, [&](const std::vector<DeadLetter>& letters) {
        for (const DeadLetter& d : letters)
          tally.add(d.id, redrive_one(redis, settings, d.id, args.reason, tally.sources));
      });
}

int redrive(DlqSession& redis, const RelaySettings& settings, const DlqArgs& args) {
  Tally tally;
  bool read_ok = true;
  if (args.all)
    read_ok = redrive_all(redis, settings, args, tally);
  else
    for (const std::string& id : args.ids)
      tally.add(id, redrive_one(redis, settings, id, args.reason, tally.sources));
  std::printf("redriven %d, skipped %d, failed %d\n", tally.redriven, tally.skipped, tally.failed);
  return read_ok && tally.failed == 0 ? 0 : 1;
}

}  // namespace

std::variant<DlqArgs, std::string> parse_dlq_args(const std::vector<std::string_view>& args) {
  if (args.empty()) return std::string("missing subcommand (list, show or redrive)");
  DlqArgs out;
  std::string_view verb = args[0];
  auto value_of = [&](size_t& i) -> std::optional<std::string_view> {
    if (i + 1 >= args.size()) return std::nullopt;
    return args[++i];
  };
  if (verb == "list") {
    out.verb = DlqArgs::Verb::kList;
    for (size_t i = 1; i < args.size(); ++i) {
      if (args[i] != "--count") return "unexpected argument '" + std::string(args[i]) + "'";
      auto v = value_of(i);
      std::optional<int64_t> n = v ? parse_decimal(*v, 1, kMaxCount) : std::nullopt;
      if (!n) return std::string("--count takes a number from 1 to 10000");
      out.count = *n;
    }
    return out;
  }
  if (verb == "show") {
    out.verb = DlqArgs::Verb::kShow;
    if (args.size() != 2) return std::string("show takes exactly one dead letter id");
    if (!valid_id(args[1])) return "not a stream id: '" + std::string(args[1]) + "'";
    out.ids.emplace_back(args[1]);
    return out;
  }
  if (verb != "redrive") return "unknown subcommand '" + std::string(verb) + "'";
  out.verb = DlqArgs::Verb::kRedrive;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--all") {
      out.all = true;
    } else if (args[i] == "--id") {
      auto v = value_of(i);
      if (!v || !valid_id(*v))
        return "--id takes a stream id, not '" + std::string(v.value_or("")) + "'";
      out.ids.emplace_back(*v);
    } else if (args[i] == "--reason") {
      auto v = value_of(i);
      out.reason = v ? parse_dead_letter_reason(*v) : std::nullopt;
      if (!out.reason)
        return "--reason is one of permanent_status, max_deliveries, malformed, not '" +
               std::string(v.value_or("")) + "'";
    } else {
      return "unexpected argument '" + std::string(args[i]) + "'";
    }
  }
  if (out.all == !out.ids.empty()) return std::string("redrive takes --id <id> ... or --all");
  return out;
}

int run_dlq(const std::vector<std::string_view>& argv) {
  auto parsed = parse_dlq_args(argv);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    std::fprintf(stderr, "streamshift dlq: %s\n%s", error->c_str(), kDlqUsage);
    return 2;
  }
  const DlqArgs& args = std::get<DlqArgs>(parsed);
  EnvReader env;
  RelaySettings settings = load_relay_settings(env);
  if (!env.ok()) return refuse_to_start(env, "streamshift dlq");
  // The clients' log lines (JSON, on stderr) only when something is wrong:
  // stdout is the answer, for people.
  set_log_output(LogOutput::kStderr);
  set_log_level(settings.log_level < LogLevel::kWarn ? LogLevel::kWarn : settings.log_level);
  DlqSession redis(settings);
  // A cluster client learns the slot map first; a Sentinel one asks for the
  // primary: a few connect timeouts.
  if (!redis.connect(5 * settings.redis_connect_timeout_ms)) {
    std::fprintf(stderr, "streamshift dlq: cannot connect to Redis: %s\n",
                 redis.last_error().c_str());
    return 1;
  }
  switch (args.verb) {
    case DlqArgs::Verb::kList:
      return list(redis, settings, args.count);
    case DlqArgs::Verb::kShow:
      return show(redis, settings, args.ids[0]);
    case DlqArgs::Verb::kRedrive:
      return redrive(redis, settings, args);
  }
  return 2;
}

}  // namespace streamshift
