// Stream ids; see stream_id.h.
#include "core/stream_id.h"

#include <charconv>
#include <limits>

namespace streamshift {

std::optional<StreamId> StreamId::parse(std::string_view text) {
  StreamId id;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, id.ms);
  if (ec != std::errc() || p == text.data()) return std::nullopt;
  if (p == end) return id;
  if (*p != '-') return std::nullopt;
  const char* seq = p + 1;
  auto [q, ec2] = std::from_chars(seq, end, id.seq);
  if (ec2 != std::errc() || q == seq || q != end) return std::nullopt;
  return id;
}

std::string StreamId::to_string() const {
  return std::to_string(ms) + "-" + std::to_string(seq);
}

StreamId StreamId::before() const {
  if (seq > 0) return {ms, seq - 1};
  if (ms > 0) return {ms - 1, std::numeric_limits<uint64_t>::max()};
  return {};
}

}  // namespace streamshift
