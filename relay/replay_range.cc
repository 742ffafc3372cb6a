// Paging through a replay's range; see replay_range.h.
#include "relay/replay_range.h"

#include <utility>

#include "core/stream_id.h"

namespace streamshift {

std::vector<size_t> replay_streams(const RelaySettings& settings, std::string_view name) {
  StreamShards layout = settings.shard_layout();
  std::vector<size_t> out;
  for (size_t i = 0; i < layout.physical().size(); ++i) {
    if (layout.logical()[layout.logical_index(i)] == name) out.push_back(i);
  }
  if (!out.empty()) return out;
  for (size_t i = 0; i < layout.physical().size(); ++i) {
    if (layout.physical()[i] == name) return {i};
  }
  return {};
}

void ReplayRange::next(PageDone done) {
  done_ = std::move(done);
  const char* argv[] = {"XRANGE",    stream_.c_str(), start_.c_str(),
                        to_.c_str(), "COUNT",         page_size_.c_str()};
  size_t lens[] = {6, stream_.size(), start_.size(), to_.size(), 5, page_size_.size()};
  redis_.command(6, argv, lens, timeout_ms_, &ReplayRange::on_reply, this);
}

void ReplayRange::on_reply(void* data, const RedisResult& result) {
  auto* self = static_cast<ReplayRange*>(data);
  PageDone done = std::move(self->done_);
  std::vector<std::unique_ptr<RelayEntry>> entries;
  if (result.status == RedisStatus::kOk && result.reply->type != REDIS_REPLY_ARRAY) {
    RedisResult odd{RedisStatus::kErrorReply, result.reply, "unexpected XRANGE reply"};
    done(odd, {});
    return;
  }
  if (result.status == RedisStatus::kOk) {
    parse_entries(result.reply, self->stream_index_, entries);
    if (entries.size() < self->page_ ||
        (!entries.empty() && entries.back()->id == kLargestStreamId))
      self->finished_ = true;
    if (!entries.empty()) self->start_ = "(" + entries.back()->id;
  }
  done(result, std::move(entries));
}

}  // namespace streamshift
