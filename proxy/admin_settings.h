// The admin listener's configuration.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/env_config.h"
#include "core/net_address.h"

namespace streamshift {

struct AdminSettings {
  HostPort listen;
  std::string token;  // empty: the events API answers 403
  uint64_t cache_ms = 2000;
  std::vector<std::string> streams;  // core/stream_settings.h: the logical streams
  int stream_shards = 1;             // the transport's, each reported with its shards
  std::string consumer_group;
  std::string dlq_stream = "events:dlq";  // readable by the inspection API
};

AdminSettings load_admin_settings(EnvReader& env);

}  // namespace streamshift
