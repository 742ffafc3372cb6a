// De-duplication by event_id; see dedup.h.
#include "relay/dedup.h"

namespace streamshift {

std::string Dedup::mark_key(std::string_view event_id) const {
  std::string key = settings_.dedup_prefix;
  key += event_id;
  return key;
}

void Dedup::check(const std::vector<RelayEntry*>& entries,
                  std::function<void(const std::vector<bool>& marked)> done) {
  RedisArgs args = {"MGET"};
  args.reserve(entries.size() + 1);
  for (const RelayEntry* e : entries) args.push_back(mark_key(e->event.event_id));
  size_t count = entries.size();
  redis_.command(args, [count, done = std::move(done)](const RedisResult& r) {
    std::vector<bool> marked(count, false);
    if (r.status == RedisStatus::kOk && r.reply->type == REDIS_REPLY_ARRAY &&
        r.reply->elements == count) {
      for (size_t i = 0; i < count; ++i) marked[i] = r.reply->element[i]->type != REDIS_REPLY_NIL;
    }
    done(marked);
  });
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
