// Which key routes a command in Redis Cluster: a small table over the
// commands the programs send, read from argv alone (no COMMAND INFO).
//
//   XADD XACK XAUTOCLAIM XCLAIM XPENDING XLEN XRANGE XREVRANGE XTRIM XDEL
//   XSETID GET SET DEL EXISTS EXPIRE PEXPIRE TTL TYPE
//   MGET                                                 argv[1]
//   XINFO <sub> key, XGROUP <sub> key                    argv[2]
//   EVAL EVALSHA FCALL script numkeys key...             argv[3] when numkeys > 0
//   XREAD XREADGROUP ... STREAMS key...                  the first key after STREAMS
//     (GROUP g c, COUNT n and BLOCK ms skipped whole)
//   anything else (PING WAIT INFO CLUSTER ROLE SCRIPT)   none: any primary
//
// Command names and STREAMS match case-insensitively. A command of a keyed
// kind too short to have its key is keyless (Redis answers its own error).
// Multi-key commands are routed by their first key: the caller keeps their
// keys in one slot (hash tags), or Redis answers CROSSSLOT.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace streamshift {

/// The key the command is routed by, or nullopt for a keyless one.
std::optional<std::string_view> redis_command_key(int argc, const char* const* argv,
                                                  const size_t* lens);

}  // namespace streamshift
