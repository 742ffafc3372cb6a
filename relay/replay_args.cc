// `streamshift replay`'s command line; see replay_args.h.
#include "relay/replay_args.h"

#include <charconv>
#include <limits>

#include "core/rfc3339.h"
#include "core/stream_id.h"

namespace streamshift {

const std::string_view kReplayUsage =
    "usage: streamshift replay --stream S --from <id|time> [--to <id|time>] [--room R]\n"
    "                          [--event-type T] [--rate N] [--dry-run] [--skip-delivered]\n"
    "\n"
    "Delivers the entries of a range of stream S again to STREAMSHIFT_RELAY_TARGET_URL,\n"
    "with the relay's own request and retry rules. Configuration comes from the relay's\n"
    "environment (REDIS_URL, STREAMSHIFT_STREAMS, EVENT_TRANSPORT_STREAM_SHARDS, ...).\n"
    "\n"
    "  --stream S        a stream of STREAMSHIFT_STREAMS (all its shards), or one shard\n"
    "                    (events:chat:{s2})\n"
    "  --from X          first entry: a stream id (1764504000000-0) or an RFC 3339 time\n"
    "                    (2026-11-30T12:00:00Z, 2026-11-30T13:00:00.5+01:00)\n"
    "  --to X            last entry, inclusive (default: now)\n"
    "  --room R          only entries whose room_id is R\n"
    "  --event-type T    only entries whose event_type is T\n"
    "  --rate N          start at most N deliveries per second\n"
    "  --dry-run         list what would be delivered (id, room, event type); send nothing\n"
    "  --skip-delivered  skip entries the relay marked delivered (needs dedup marks:\n"
    "                    STREAMSHIFT_DEDUP_TTL_S > 0)\n"
    "  --help            print this help\n"
    "\n"
    "The consumer group is never touched, and replay sets no delivered marks.\n"
    "Rooms are delivered in stream order, different rooms in parallel up to\n"
    "STREAMSHIFT_RELAY_CONCURRENCY. Prints progress on a terminal (stderr) and a summary\n"
    "line on stdout.\n"
    "Exit status: 0 all delivered (or skipped), 1 a delivery failed, 2 bad arguments or\n"
    "configuration, 3 Redis unreachable or failing.\n";

bool ReplayArgs::selects(const EventEntry& entry) const {
  return (!room || entry.room_id == *room) && (!event_type || entry.event_type == *event_type);
}

std::optional<std::string> range_bound_id(std::string_view text, RangeEnd end) {
  constexpr uint64_t kLastSeq = std::numeric_limits<uint64_t>::max();
  if (std::optional<StreamId> id = StreamId::parse(text)) {
    // A bare millisecond covers all of it, as XRANGE reads it.
    if (end == RangeEnd::kTo && text.find('-') == std::string_view::npos) id->seq = kLastSeq;
    return id->to_string();
  }
  std::optional<int64_t> ms = parse_rfc3339_ms(text);
  if (!ms) return std::nullopt;
  return StreamId{static_cast<uint64_t>(*ms), end == RangeEnd::kFrom ? 0 : kLastSeq}.to_string();
}

std::string parse_replay_args(const std::vector<std::string_view>& args, int64_t now_ms,
                              ReplayArgs* out) {
  *out = ReplayArgs{};
  std::optional<std::string_view> from, to, rate;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string_view a = args[i];
    if (a == "--help" || a == "-h") {
      out->help = true;
      return {};
    }
    if (a == "--dry-run") {
      out->dry_run = true;
      continue;
    }
    if (a == "--skip-delivered") {
      out->skip_delivered = true;
      continue;
    }
    // --name value, or --name=value.
    std::string_view name = a, value;
    bool has_value = false;
    if (size_t eq = a.find('='); a.starts_with("--") && eq != std::string_view::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has_value = true;
    }
    if (name == "--stream" || name == "--room" || name == "--event-type" || name == "--from" ||
        name == "--to" || name == "--rate") {
      if (!has_value) {
        if (i + 1 >= args.size()) return std::string(name) + " needs a value";
        value = args[++i];
      }
    } else {
      return "unexpected argument '" + std::string(a) + "'";
    }
    if (value.empty()) return std::string(name) + " needs a value";
    if (name == "--stream") {
      if (!out->stream.empty()) return "--stream given twice";
      out->stream = value;
      continue;
    }
    if (name == "--room") {
      if (out->room) return "--room given twice";
      out->room = std::string(value);
      continue;
    }
    if (name == "--event-type") {
      if (out->event_type) return "--event-type given twice";
      out->event_type = std::string(value);
      continue;
    }
    std::optional<std::string_view>* slot = name == "--from" ? &from : name == "--to" ? &to : &rate;
    if (*slot) return std::string(name) + " given twice";
    *slot = value;
  }
  if (out->stream.empty()) return "--stream is required";
  if (!from) return "--from is required";
  std::optional<std::string> from_id = range_bound_id(*from, RangeEnd::kFrom);
  if (!from_id)
    return "--from '" + std::string(*from) +
           "' is neither a stream id nor an RFC 3339 time (2026-11-30T12:00:00Z)";
  std::optional<std::string> to_id =
      to ? range_bound_id(*to, RangeEnd::kTo)
         : StreamId{static_cast<uint64_t>(now_ms), std::numeric_limits<uint64_t>::max()}
               .to_string();
  if (!to_id)
    return "--to '" + std::string(*to) +
           "' is neither a stream id nor an RFC 3339 time (2026-11-30T12:00:00Z)";
  if (*StreamId::parse(*to_id) < *StreamId::parse(*from_id)) return "--to is before --from";
  if (rate) {
    uint64_t n = 0;
    auto [p, ec] = std::from_chars(rate->data(), rate->data() + rate->size(), n);
    if (ec != std::errc() || p != rate->data() + rate->size() || n == 0 || n > 1000000)
      return "--rate must be a whole number of deliveries per second, 1-1000000";
    out->rate = n;
  }
  out->from_id = std::move(*from_id);
  out->to_id = std::move(*to_id);
  return {};
}

}  // namespace streamshift
