// What a Redis Cluster node's error reply asks of the client: the error
// vocabulary of the cluster specification ("Redirection and resharding",
// "Multiple keys operations"), each kind with its one action.
//
//   error reply text                           kind           action
//   MOVED <slot> <endpoint>:<port>             kMoved         kRedirect: the map says
//                                                             the slot is there now;
//                                                             send again there
//   ASK <slot> <endpoint>:<port>               kAsk           kAsking: ASKING, then the
//                                                             command, there, once; the
//                                                             map is left alone
//   TRYAGAIN ... (multi-key, slot migrating)   kTryAgain      kRetryLater
//   CLUSTERDOWN ... (slot unserved, no quorum) kClusterDown   kRetryLater
//   CROSSSLOT ... (keys in several slots)      kCrossSlot     kFail: our routing is wrong
//   MOVED or ASK that does not parse           kBadRedirect   kRefreshTopology
//   anything else, or not an error            kNone          kReturn: the command's own
//
// Redis prints the endpoint unbracketed ("MOVED 3999 ::1:7000": the port
// after the last colon); "[::1]:7000" is taken too. An empty endpoint
// (cluster-preferred-endpoint-type unknown-endpoint) is the node that
// answered; "?" (hostname type, no hostname configured) names no node and
// is kBadRedirect. Retries stay within the command's deadline (the client's
// business, not this file's).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/redis_url.h"

namespace streamshift {

enum class RedisClusterError {
  kNone,
  kMoved,
  kAsk,
  kTryAgain,
  kClusterDown,
  kCrossSlot,
  kBadRedirect
};

enum class RedisClusterAction { kReturn, kRedirect, kAsking, kRetryLater, kFail, kRefreshTopology };

/// "moved", "ask", "tryagain", ... (log fields, metric labels).
std::string_view redis_cluster_error_name(RedisClusterError error);
RedisClusterAction redis_cluster_action(RedisClusterError error);

struct RedisClusterReply {
  RedisClusterError error = RedisClusterError::kNone;
  uint16_t slot = 0;  // kMoved, kAsk
  RedisHost target;   // kMoved, kAsk
  std::string why;    // kBadRedirect: what is wrong with the text
};

/// Classifies an error reply's text (as hiredis gives it, without the
/// RESP '-'; a leading '-' is skipped too). `answered` is the node that
/// sent it: the target of a redirect with an empty endpoint.
RedisClusterReply classify_redis_cluster_error(std::string_view text, const RedisHost& answered);

}  // namespace streamshift
