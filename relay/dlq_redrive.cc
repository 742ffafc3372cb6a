// Dead letters and their redrive; see dlq_redrive.h.
#include "relay/dlq_redrive.h"

#include <algorithm>

#include "core/redis_key_slot.h"

namespace streamshift {

// unpack() takes about 8000 values: an entry that wide fails the XADD's
// argument building, before anything is written.
const char* const kRedriveScript =
    "local e = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) "
    "if #e == 0 then return false end "
    "local f = e[1][2] "
    "local out = {} "
    "local source = nil "
    "for i = 1, #f, 2 do "
    "  local name = f[i] "
    "  if name == 'dlq_source_stream' then source = f[i + 1] end "
    "  if string.sub(name, 1, 4) ~= 'dlq_' and name ~= 'redriven_from' then "
    "    out[#out + 1] = name; out[#out + 1] = f[i + 1] "
    "  end "
    "end "
    "if source ~= KEYS[2] then "
    "  return redis.error_reply('ERR dead letter ' .. ARGV[1] .. ' is not from ' .. KEYS[2]) "
    "end "
    "out[#out + 1] = 'redriven_from'; out[#out + 1] = ARGV[1] "
    "local id = redis.call('XADD', KEYS[2], '*', unpack(out)) "
    "redis.call('XDEL', KEYS[1], ARGV[1]) "
    "return id";

const std::string& DeadLetter::field(std::string_view name) const {
  static const std::string kNone;
  for (const auto& [n, v] : fields)
    if (n == name) return v;
  return kNone;
}

std::vector<DeadLetter> parse_dead_letters(const OwnedReply& reply) {
  std::vector<DeadLetter> letters;
  for (const OwnedReply& e : reply.elements) {
    if (e.elements.size() != 2) continue;
    DeadLetter d{.id = e.elements[0].str, .fields = {}};
    const std::vector<OwnedReply>& f = e.elements[1].elements;
    for (size_t i = 0; i + 1 < f.size(); i += 2) d.fields.emplace_back(f[i].str, f[i + 1].str);
    letters.push_back(std::move(d));
  }
  return letters;
}

std::optional<std::string> check_redrive_source(const RelaySettings& settings,
                                                const std::string& source) {
  if (source.empty()) return "it has no dlq_source_stream";
  if (std::find(settings.streams.begin(), settings.streams.end(), source) ==
      settings.streams.end()) {
    return "its source stream " + source +
           " is not one the relays consume (STREAMSHIFT_STREAMS with "
           "EVENT_TRANSPORT_STREAM_SHARDS): it would never be delivered";
  }
  if (settings.redis.mode() == RedisMode::kCluster &&
      redis_key_slot(source) != redis_key_slot(settings.dlq_stream)) {
    return "on Redis Cluster the dead-letter stream " + settings.dlq_stream +
           " and the source stream " + source +
           " are in different slots, so one script cannot move the entry atomically; give "
           "STREAMSHIFT_DLQ_STREAM the source's hash tag (e.g. events:{chat}:dlq for "
           "events:{chat}) to redrive";
  }
  return std::nullopt;
}

RedriveResult redrive_one(DlqSession& redis, const RelaySettings& settings, const std::string& id,
                          std::optional<DeadLetterReason> reason, RedrivenSources& redriven) {
  RedisAnswer read = redis.call({"XRANGE", settings.dlq_stream, id, id});
  if (!read.ok()) return {RedriveOutcome::kFailed, "cannot read it: " + read.error};
  std::vector<DeadLetter> found = parse_dead_letters(read.value);
  if (found.empty()) return {RedriveOutcome::kSkipped, "not in " + settings.dlq_stream};
  const DeadLetter& letter = found[0];
  if (reason && letter.field("dlq_reason") != dead_letter_reason_name(*reason)) {
    return {RedriveOutcome::kSkipped, "dlq_reason is '" + letter.field("dlq_reason") + "', not " +
                                          std::string(dead_letter_reason_name(*reason))};
  }
  const std::string& source = letter.field("dlq_source_stream");
  if (auto refused = check_redrive_source(settings, source))
    return {RedriveOutcome::kFailed, *refused};
  std::pair<std::string, std::string> origin{source, letter.field("dlq_source_id")};
  auto earlier = origin.second.empty() ? redriven.end() : redriven.find(origin);
  if (earlier != redriven.end())
    return {RedriveOutcome::kSkipped, "duplicate of " + earlier->second};
  RedisAnswer moved = redis.call({"EVAL", kRedriveScript, "2", settings.dlq_stream, source, id});
  if (!moved.ok()) return {RedriveOutcome::kFailed, moved.error};
  if (moved.value.type == REDIS_REPLY_NIL)
    return {RedriveOutcome::kSkipped, "gone from " + settings.dlq_stream};
  if (!origin.second.empty()) redriven.emplace(std::move(origin), id);
  return {RedriveOutcome::kRedriven, source + " " + moved.value.str};
}

}  // namespace streamshift
