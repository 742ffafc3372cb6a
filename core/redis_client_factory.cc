// Picks the Redis client for an endpoint; see redis_client_factory.h.
#include "core/redis_client_factory.h"

#include "core/redis_cluster_client.h"

namespace streamshift {

std::unique_ptr<RedisCommands> make_redis_client(uv_loop_t* loop, RedisOptions options) {
  if (options.endpoint.mode() == RedisMode::kCluster) {
    return std::make_unique<RedisClusterClient>(loop, std::move(options));
  }
  return std::make_unique<RedisClient>(loop, std::move(options));
}

}  // namespace streamshift
