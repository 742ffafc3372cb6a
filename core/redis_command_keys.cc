// The routing key of a command; see redis_command_keys.h.
#include "core/redis_command_keys.h"

#include <array>
#include <cctype>
#include <cstdlib>

namespace streamshift {
namespace {

bool same(std::string_view a, std::string_view upper) {
  if (a.size() != upper.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != upper[i]) return false;
  }
  return true;
}

enum class KeyAt { kNone, kFirst, kSecond, kScript, kStreams };

struct Entry {
  std::string_view name;
  KeyAt at;
};

constexpr std::array kTable = {
    Entry{"XADD", KeyAt::kFirst},         Entry{"XACK", KeyAt::kFirst},
    Entry{"XAUTOCLAIM", KeyAt::kFirst},   Entry{"XCLAIM", KeyAt::kFirst},
    Entry{"XPENDING", KeyAt::kFirst},     Entry{"XLEN", KeyAt::kFirst},
    Entry{"XRANGE", KeyAt::kFirst},       Entry{"XREVRANGE", KeyAt::kFirst},
    Entry{"XTRIM", KeyAt::kFirst},        Entry{"XDEL", KeyAt::kFirst},
    Entry{"XSETID", KeyAt::kFirst},       Entry{"GET", KeyAt::kFirst},
    Entry{"SET", KeyAt::kFirst},          Entry{"DEL", KeyAt::kFirst},
    Entry{"EXISTS", KeyAt::kFirst},       Entry{"EXPIRE", KeyAt::kFirst},
    Entry{"PEXPIRE", KeyAt::kFirst},      Entry{"TTL", KeyAt::kFirst},
    Entry{"TYPE", KeyAt::kFirst},         Entry{"MGET", KeyAt::kFirst},
    Entry{"XINFO", KeyAt::kSecond},       Entry{"XGROUP", KeyAt::kSecond},
    Entry{"EVAL", KeyAt::kScript},        Entry{"EVALSHA", KeyAt::kScript},
    Entry{"FCALL", KeyAt::kScript},       Entry{"XREAD", KeyAt::kStreams},
    Entry{"XREADGROUP", KeyAt::kStreams},
};

KeyAt key_at(std::string_view name) {
  for (const Entry& e : kTable) {
    if (same(name, e.name)) return e.at;
  }
  return KeyAt::kNone;
}

// numkeys > 0, as Redis reads it (digits only).
bool has_keys(std::string_view numkeys) {
  if (numkeys.empty() || numkeys.size() > 9) return false;
  int n = 0;
  for (char c : numkeys) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  return n > 0;
}

}  // namespace

std::optional<std::string_view> redis_command_key(int argc, const char* const* argv,
                                                  const size_t* lens) {
  if (argc < 1) return std::nullopt;
  auto arg = [&](int i) { return std::string_view(argv[i], lens[i]); };
  switch (key_at(arg(0))) {
    case KeyAt::kNone:
      return std::nullopt;
    case KeyAt::kFirst:
      if (argc > 1) return arg(1);
      return std::nullopt;
    case KeyAt::kSecond:
      if (argc > 2) return arg(2);
      return std::nullopt;
    case KeyAt::kScript:
      if (argc > 3 && has_keys(arg(2))) return arg(3);
      return std::nullopt;
    case KeyAt::kStreams:
      // The options' values (a group, a consumer, a count) are skipped: any
      // may be spelled "streams".
      for (int i = 1; i + 1 < argc;) {
        if (same(arg(i), "STREAMS")) return arg(i + 1);
        if (same(arg(i), "GROUP")) {
          i += 3;
        } else if (same(arg(i), "COUNT") || same(arg(i), "BLOCK")) {
          i += 2;
        } else {
          ++i;  // NOACK, or what Redis will refuse
        }
      }
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace streamshift
