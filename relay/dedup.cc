// De-duplication by event_id; see dedup.h.
#include "relay/dedup.h"

#include <map>
#include <memory>

#include "core/redis_key_slot.h"

namespace streamshift {

std::string delivered_mark_key(const RelaySettings& settings, std::string_view stream,
                               std::string_view event_id) {
  std::string key = settings.dedup_prefix;
  if (settings.tagged_marks()) {
    key += '{';
    key += redis_hash_tag(stream);
    key += "}:";
  }
  key += event_id;
  return key;
}

std::string Dedup::mark_key(size_t stream, std::string_view event_id) const {
  return delivered_mark_key(settings_, settings_.streams[stream], event_id);
}

void Dedup::check(const std::vector<RelayEntry*>& entries,
                  std::function<void(const std::vector<bool>& marked)> done) {
  if (entries.empty()) {
    done({});
    return;
  }
  // One MGET per hash tag (a single one when the marks are untagged), in
  // order of first appearance; `done` once all have answered.
  std::map<std::string_view, std::vector<size_t>> by_tag;
  std::vector<std::string_view> order;
  for (size_t i = 0; i < entries.size(); ++i) {
    std::string_view tag =
        settings_.tagged_marks() ? redis_hash_tag(settings_.streams[entries[i]->stream_index]) : "";
    auto [it, fresh] = by_tag.try_emplace(tag);
    if (fresh) order.push_back(tag);
    it->second.push_back(i);
  }
  struct Batch {
    std::vector<bool> marked;
    size_t waiting;
    std::function<void(const std::vector<bool>&)> done;
  };
  auto batch = std::make_shared<Batch>(
      Batch{std::vector<bool>(entries.size(), false), order.size(), std::move(done)});
  for (std::string_view tag : order) {
    std::vector<size_t>& members = by_tag[tag];
    RedisArgs args = {"MGET"};
    args.reserve(members.size() + 1);
    for (size_t i : members)
      args.push_back(mark_key(entries[i]->stream_index, entries[i]->event.event_id));
    redis_.command(args, [batch, members = std::move(members)](const RedisResult& r) {
      if (r.status == RedisStatus::kOk && r.reply->type == REDIS_REPLY_ARRAY &&
          r.reply->elements == members.size()) {
        for (size_t j = 0; j < members.size(); ++j)
          batch->marked[members[j]] = r.reply->element[j]->type != REDIS_REPLY_NIL;
      }
      if (--batch->waiting == 0) batch->done(batch->marked);
    });
  }
}

void Dedup::remember(std::string_view event_id) {
  if (!enabled()) return;
  if (!recent_.emplace(event_id).second) return;
  recent_order_.emplace_back(event_id);
  if (recent_order_.size() > kRecentlyDelivered) {
    recent_.erase(recent_order_.front());
    recent_order_.pop_front();
  }
}

bool Dedup::recently_delivered(std::string_view event_id) const {
  return enabled() && recent_.count(std::string(event_id)) != 0;
}

}  // namespace streamshift
