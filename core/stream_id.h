// Redis stream entry ids, "<ms>-<seq>" with two 64-bit parts: parsed,
// ordered, printed, and the id just before one (XREADGROUP from an id and
// XPENDING's exclusive ranges start after a given id).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace streamshift {

/// The largest id Redis accepts: "(" cannot exclude it (there is nothing
/// after it), so a walk by exclusive starts ends there.
inline constexpr std::string_view kLargestStreamId = "18446744073709551615-18446744073709551615";

struct StreamId {
  uint64_t ms = 0;
  uint64_t seq = 0;

  /// "1700000000000-5", or "1700000000000" (seq 0); nullopt otherwise.
  static std::optional<StreamId> parse(std::string_view text);
  std::string to_string() const;
  /// The greatest id below this one; 0-0 for 0-0.
  StreamId before() const;

  friend auto operator<=>(const StreamId&, const StreamId&) = default;
};

}  // namespace streamshift
