// What the load generator sends: a support center's event mix (chat
// messages, typing bursts from many users, ticket updates) with bodies of
// 200-1000 bytes across many rooms, as the app would POST them to the
// SignalR internal API, or as the same XADD through Webdis's HTTP API.
//
// Every event id is "lg-<seq>-<intended send time in ns>", so a sink in the
// same process measures delivery latency from the id alone, whichever path
// (bridge, relay) carried it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace streamshift {

enum class WorkloadKind { kChat, kTyping, kMixed };
enum class RequestFormat {
  kEvents,  // POST /internal/broadcast/{chat,typing,ticket}
  kWebdis,  // PUT /XADD/events:chat/.../body (Webdis), same entry fields
};

struct WorkloadOptions {
  WorkloadKind kind = WorkloadKind::kMixed;
  RequestFormat format = RequestFormat::kEvents;
  uint32_t users = 200;
  uint32_t rooms = 0;         // 0: users / 4
  uint32_t typing_burst = 8;  // typing_start events before a typing_stop
  uint64_t seed = 1;
  std::string host = "127.0.0.1";
};

/// Typing state of a (room, user) key: what the last typing event said.
enum class TypingState : int8_t { kNone = -1, kStop = 0, kStart = 1 };

class Workload {
 public:
  explicit Workload(WorkloadOptions options);

  /// Appends the whole request for event `seq` to `out`.
  void append_request(uint64_t seq, uint64_t intended_ns, std::string& out);

  uint64_t typing_sent() const { return typing_sent_; }
  /// The last typing state sent, per user (index = user number).
  const std::vector<TypingState>& last_typing_state() const { return last_state_; }
  uint32_t rooms() const { return rooms_; }

 private:
  uint64_t random();
  void append_body(std::string& body, std::string_view event_type, uint32_t user,
                   std::string_view event_id);

  WorkloadOptions options_;
  uint32_t rooms_;
  uint64_t state_;
  uint64_t typing_sent_ = 0;
  std::vector<uint32_t> burst_left_;  // per user: typing_start events left in the burst
  std::vector<TypingState> last_state_;
  std::string body_;
};

/// What a sink reads back from a delivered event body.
struct DeliveredEvent {
  uint64_t seq = 0;
  uint64_t intended_ns = 0;
  bool typing = false;
  TypingState state = TypingState::kNone;
  uint32_t user = 0;
};

/// Appends the event id "lg-<seq>-<intended ns>" to `out`.
void append_event_id(std::string& out, uint64_t seq, uint64_t intended_ns);
/// Parses an event id "lg-<seq>-<ns>"; false when it is not one of ours.
bool parse_event_id(std::string_view id, uint64_t* seq, uint64_t* intended_ns);
/// Reads the event id (from `header_event_id`, else the body) and the
/// typing fields; false when the body is not one of ours.
bool parse_delivered(std::string_view header_event_id, std::string_view body, DeliveredEvent* out);

}  // namespace streamshift
