// The sidecar's configuration, read from the environment once at start.
// Names and defaults are documented in README.md; `streamshift check-config`
// prints the effective values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/env_config.h"
#include "core/log.h"
#include "core/net_address.h"
#include "proxy/admin_settings.h"
#include "proxy/capture_headers.h"
#include "proxy/transport_settings.h"

namespace streamshift {

struct ProxySettings {
  HostPort listen;
  int workers = 1;
  HttpUrl upstream;
  uint64_t upstream_connect_timeout_ms = 1000;
  uint64_t upstream_timeout_ms = 10000;
  size_t upstream_pool_size = 64;
  size_t max_response_bytes = 8 * 1024 * 1024;
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 1024 * 1024;
  uint64_t client_timeout_ms = 10000;
  uint64_t idle_timeout_ms = 60000;
  uint64_t drain_timeout_ms = 15000;
  uint64_t max_connections = 10000;        // 0: no limit
  uint64_t body_budget_bytes = 256 << 20;  // 0: no limit
  LogLevel log_level = LogLevel::kInfo;
  TransportSettings transport;
  AdminSettings admin;
  std::string runtime_dir;         // STREAMSHIFT_RUNTIME_DIR (core/runtime_control.h)
  CaptureHeaders capture_headers;  // STREAMSHIFT_CAPTURE_HEADERS
};

/// Reads every variable through `env`; invalid values are recorded in
/// env.errors() (the returned settings then hold defaults for them).
ProxySettings load_proxy_settings(EnvReader& env);

}  // namespace streamshift
