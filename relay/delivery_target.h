// Where the relay replays entries: the SignalR internal API, behind a small
// interface so the delivery lifecycle is unit-tested with a fake target.
// The Impl is core's UpstreamPool.
#pragma once

#include <uv.h>

#include <functional>
#include <memory>

#include "core/http_client.h"
#include "relay/relay_settings.h"

namespace streamshift {

class DeliveryTarget {
 public:
  virtual ~DeliveryTarget() = default;
  /// Sends one request; its on_done runs exactly once, maybe inside send().
  virtual void send(std::unique_ptr<UpstreamRequest> request) = 0;
  /// Fails what is queued or in flight with kShutdown and closes every
  /// connection; `on_closed` runs once they are closed.
  virtual void shutdown(std::function<void()> on_closed) = 0;
};

class UpstreamTarget final : public DeliveryTarget {
 public:
  UpstreamTarget(uv_loop_t* loop, const RelaySettings& settings)
      : pool_(loop, UpstreamOptions{.host = settings.target.host,
                                    .port = settings.target.port,
                                    .connect_timeout_ms = settings.connect_timeout_ms,
                                    .request_timeout_ms = settings.delivery_timeout_ms,
                                    .max_connections = kMaxRelayConcurrency,
                                    .max_response_bytes = settings.max_response_bytes}) {}

  void send(std::unique_ptr<UpstreamRequest> request) override { pool_.send(std::move(request)); }
  void shutdown(std::function<void()> on_closed) override { pool_.shutdown(std::move(on_closed)); }

 private:
  UpstreamPool pool_;
};

}  // namespace streamshift
