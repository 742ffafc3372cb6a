// An event on its way through the sidecar: what intake read from a request.
//
//   fresh: views the request it came with; its client waits for the answer, and the
//          exchange (with its request) outlives the send
//   held:  the coalescer's copy (hold()): owns its request and the client's address; its
//          client was answered 202 coalesced long ago, nobody waits
//
// Both go through the same sender (proxy/event_sender.h); only the end differs: a fresh
// event's outcome is answered, a held one's is counted (and logged when lost).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/http_message.h"
#include "proxy/capture_headers.h"
#include "proxy/event_fields.h"
#include "proxy/stream_entry.h"

namespace streamshift {

class Exchange;
struct EventTypeMetrics;

class Event {
 public:
  Event() = default;
  /// A fresh event of `request`; `waiting` is its client (tests may pass a stand-in that the
  /// fakes never touch).
  Event(Exchange* waiting, const HttpRequest& request, std::string_view client_ip)
      : client(waiting), request_(&request), client_ip_(client_ip) {}
  Event(Event&&) = default;
  Event& operator=(Event&&) = default;

  std::string_view stream;                  // the route's (the route table outlives every event)
  EventFields fields;                       // event_id, event_type, room_id, user_id
  int64_t ts_ms = 0;                        // wall clock at intake: the entry's ts_ms
  EventTypeMetrics* type = nullptr;         // this event_type's series
  Exchange* client = nullptr;               // fresh: who waits for the answer; held: none
  const CaptureHeaders* capture = nullptr;  // the headers its entry stores (the settings')

  bool held() const { return client == nullptr; }
  const HttpRequest& request() const { return *request_; }
  std::string_view client_ip() const { return client_ip_; }
  std::string_view content_type() const {
    return request_->headers.find("content-type").value_or("");
  }
  /// The stream entry it becomes (views into this event).
  StreamEntry entry() const;

  /// The copy the coalescer keeps: the request's bytes once, nobody to answer.
  Event hold() const;
  /// A held event's body, moved out for its one send over HTTP.
  std::string take_body();

 private:
  struct Copy {
    HttpRequest request;
    std::string client_ip;
  };
  const HttpRequest* request_ = nullptr;
  std::string_view client_ip_;
  std::unique_ptr<Copy> copy_;  // held only; request_ and client_ip_ point into it
};

}  // namespace streamshift
