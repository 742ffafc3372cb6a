// The stream inspection API's look-ups; see stream_inspection.h.
#include "proxy/stream_inspection.h"

#include <memory>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/stream_id.h"
#include "proxy/inspection_documents.h"

namespace streamshift {
namespace {

// Walks XRANGE / XREVRANGE KEYS[1] ARGV[2] ARGV[3] in chunks of ARGV[6]
// entries until ARGV[4] came, moving the first bound (XRANGE's start,
// XREVRANGE's end) past the last id each time, and answers each entry as
// [id, [name, value, ...], body size] with every name and value cut to its
// first ARGV[5] bytes: Redis never sends the sidecar a whole body, and
// holds at most a chunk of whole entries in the script at once. Once the
// entries read hold ARGV[8] bytes, the page stops: the next entry is
// answered as [id] alone, where the following page starts. ARGV[7] is the
// largest id, after which XRANGE has no exclusive start. Read-only, on the
// one key (Cluster routes it by KEYS[1]).
constexpr std::string_view kRangeScript = R"lua(
local key, cmd, first, last = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local want, cap, chunk = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local budget = tonumber(ARGV[8])
local out, read = {}, 0
while #out < want do
  local n = math.min(chunk, want - #out)
  local got = redis.call(cmd, key, first, last, 'COUNT', n)
  for _, e in ipairs(got) do
    if read >= budget then
      out[#out + 1] = {e[1]}
      return out
    end
    local fields, body = {}, 0
    local kv = e[2] or {}
    for i = 1, #kv, 2 do
      if kv[i] == 'body' then body = #kv[i + 1] end
      read = read + #kv[i] + #kv[i + 1]
      fields[i] = string.sub(kv[i], 1, cap)
      fields[i + 1] = string.sub(kv[i + 1], 1, cap)
    end
    out[#out + 1] = {e[1], fields, body}
  end
  if #got < n then break end
  local id = got[#got][1]
  if cmd == 'XRANGE' and id == ARGV[7] then break end
  first = '(' .. id
end
return out
)lua";

// Whole entries the script holds at once (each up to STREAMSHIFT_MAX_BODY_BYTES).
// One is also the fastest: 61 entries of 1 MiB took Redis 224 ms one at a
// time, 294 ms four and 432 ms sixteen at a time (Redis 7.0, measured in
// one run when this was written, under load).
constexpr std::string_view kRangeChunk = "1";
// Bytes of whole fields one page reads inside Redis before it stops early
// (with "next"): Redis runs nothing else while the script runs, the
// sidecar's own XADDs included. Measured by the LargeBodies inspection test
// in one later run (Redis 7.0, SLOWLOG): a page of 60 x 1 MiB held Redis
// 95 ms without the budget, 8 ms with it. A page that has entries to show
// shows at least one.
constexpr std::string_view kPageReadBytes = "4194304";

}  // namespace

struct StreamInspection::Lookup {
  StreamInspection* self;
  Exchange* exchange;
  InspectionQuery query;
  std::optional<PendingSummary> summary;  // pending: once the summary came
};

StreamInspection::StreamInspection(RedisCommands& redis, ReadableStreams streams, std::string group,
                                   uint64_t timeout_ms)
    : redis_(redis),
      streams_(std::move(streams)),
      group_(std::move(group)),
      timeout_ms_(timeout_ms) {}

void StreamInspection::serve(Exchange& exchange, std::string_view endpoint) {
  std::string_view target = exchange.request().target();
  size_t q = target.find('?');
  InspectionParse parse = parse_inspection(
      endpoint, q == std::string_view::npos ? std::string_view{} : target.substr(q + 1), streams_,
      group_);
  if (!parse.query) {
    exchange.respond_json(parse.refusal.status,
                          json_error_body(parse.refusal.code, parse.refusal.detail));
    return;
  }
  auto* lookup = new Lookup{this, &exchange, std::move(*parse.query), std::nullopt};
  const InspectionQuery& iq = lookup->query;
  std::string count = std::to_string(iq.count + 1);  // one more: is there a next?
  if (iq.endpoint == InspectionEndpoint::kPending) {
    send(lookup, {"XPENDING", iq.stream, iq.group});
  } else {
    // Newest first: XREVRANGE <key> <end> <start>.
    std::string cap = std::to_string(kInspectionBodyBytes);
    send(lookup, {"EVAL", kRangeScript, "1", iq.stream, iq.reverse ? "XREVRANGE" : "XRANGE",
                  iq.reverse ? iq.end : iq.start, iq.reverse ? iq.start : iq.end, count, cap,
                  kRangeChunk, kLargestStreamId, kPageReadBytes});
  }
}

void StreamInspection::send(Lookup* lookup, std::initializer_list<std::string_view> args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (std::string_view a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  redis_.command(static_cast<int>(argv.size()), argv.data(), lens.data(), timeout_ms_, on_reply,
                 lookup);
}

void StreamInspection::on_reply(void* data, const RedisResult& result) {
  std::unique_ptr<Lookup> lookup(static_cast<Lookup*>(data));
  Exchange& exchange = *lookup->exchange;
  const InspectionQuery& q = lookup->query;
  if (result.status == RedisStatus::kErrorReply) {
    if (result.error.starts_with("NOGROUP")) {
      exchange.respond_json(404, json_error_body("unknown_group", result.error));
    } else {
      exchange.respond_json(502, json_error_body("redis_error", result.error));
    }
    return;
  }
  if (result.status != RedisStatus::kOk) {
    exchange.respond_json(
        503, json_error_body("redis_unavailable",
                             "redis " + std::string(redis_status_name(result.status))));
    return;
  }
  auto unexpected = [&] {
    exchange.respond_json(502, json_error_body("redis_error", "unexpected reply from Redis"));
  };
  if (q.endpoint == InspectionEndpoint::kPending && !lookup->summary) {
    lookup->summary = read_pending_summary(result.reply);
    if (!lookup->summary) return unexpected();
    std::string count = std::to_string(q.count + 1);
    Lookup* next = lookup.release();
    if (q.consumer.empty()) {
      next->self->send(next, {"XPENDING", q.stream, q.group, q.start, q.end, count});
    } else {
      next->self->send(next, {"XPENDING", q.stream, q.group, q.start, q.end, count, q.consumer});
    }
    return;
  }
  if (q.endpoint == InspectionEndpoint::kPending) {
    std::optional<std::vector<PendingEntry>> entries = read_pending_entries(result.reply);
    if (!entries) return unexpected();
    exchange.respond_json(200, pending_document(q, *lookup->summary, *entries));
    return;
  }
  std::optional<std::vector<RangeEntry>> entries = read_range_reply(result.reply);
  if (!entries) return unexpected();
  exchange.respond_json(200, q.endpoint == InspectionEndpoint::kDlq
                                 ? dlq_document(q, *entries)
                                 : entries_document(q, *entries));
}

}  // namespace streamshift
