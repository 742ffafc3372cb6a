// The one place that picks a RedisCommands Impl for an endpoint, so the
// programs never name one.
#pragma once

#include <uv.h>

#include <memory>

#include "core/redis_client.h"

namespace streamshift {

std::unique_ptr<RedisCommands> make_redis_client(uv_loop_t* loop, RedisOptions options);

}  // namespace streamshift
