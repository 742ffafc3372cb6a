// Picks the Redis client for an endpoint; see redis_client_factory.h.
#include "core/redis_client_factory.h"

namespace streamshift {

std::unique_ptr<RedisCommands> make_redis_client(uv_loop_t* loop, RedisOptions options) {
  return std::make_unique<RedisClient>(loop, std::move(options));
}

}  // namespace streamshift
