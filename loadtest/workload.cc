// The event mix and its wire format; see workload.h.
#include "loadtest/workload.h"

#include <charconv>

namespace streamshift {
namespace {

constexpr std::string_view kPad =
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt "
    "ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco "
    "laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in "
    "voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat "
    "cupidatat non proident, sunt in culpa qui officia deserunt mollit anim id est laborum. "
    "Sed ut perspiciatis unde omnis iste natus error sit voluptatem accusantium doloremque "
    "laudantium, totam rem aperiam, eaque ipsa quae ab illo inventore veritatis et quasi "
    "architecto beatae vitae dicta sunt explicabo. Nemo enim ipsam voluptatem quia voluptas sit "
    "aspernatur aut odit aut fugit, sed quia consequuntur magni dolores eos qui ratione.";

void append_number(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  out.append(buf, end);
}

std::string_view json_string_field(std::string_view body, std::string_view name) {
  std::string key = "\"" + std::string(name) + "\":\"";
  size_t at = body.find(key);
  if (at == std::string_view::npos) return {};
  at += key.size();
  size_t end = body.find('"', at);
  if (end == std::string_view::npos) return {};
  return body.substr(at, end - at);
}

bool parse_u64(std::string_view s, uint64_t* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

Workload::Workload(WorkloadOptions options)
    : options_(std::move(options)),
      rooms_(options_.rooms != 0 ? options_.rooms : std::max<uint32_t>(options_.users / 4, 1)),
      state_(options_.seed * 0x9E3779B97F4A7C15ull | 1),
      burst_left_(options_.users, 0),
      last_state_(options_.users, TypingState::kNone) {}

uint64_t Workload::random() {
  state_ ^= state_ << 13;
  state_ ^= state_ >> 7;
  state_ ^= state_ << 17;
  return state_;
}

void Workload::append_body(std::string& body, std::string_view event_type, uint32_t user,
                           std::string_view event_id) {
  body += "{\"event_type\":\"";
  body += event_type;
  body += "\",\"room_id\":\"room-";
  append_number(body, user % rooms_);
  body += "\",\"user_id\":\"user-";
  append_number(body, user);
  body += "\",\"event_id\":\"";
  body += event_id;
  body += "\",\"text\":\"";
  size_t target = 200 + random() % 801;  // 200-1000 bytes in all
  size_t closing = 2;
  while (body.size() + closing < target) {
    size_t n = std::min(kPad.size(), target - closing - body.size());
    body.append(kPad.substr(0, n));
  }
  body += "\"}";
}

void Workload::append_request(uint64_t seq, uint64_t intended_ns, std::string& out) {
  std::string id;
  append_event_id(id, seq, intended_ns);
  std::string_view event_id = id;

  uint32_t user = static_cast<uint32_t>(random() % options_.users);
  uint64_t draw = random() % 100;
  bool typing = options_.kind == WorkloadKind::kTyping ||
                (options_.kind == WorkloadKind::kMixed && draw < 50);
  bool ticket = !typing && options_.kind == WorkloadKind::kMixed && draw >= 90;
  std::string_view event_type = "chat_message";
  std::string_view path = "/internal/broadcast/chat";
  if (typing) {
    path = "/internal/broadcast/typing";
    if (burst_left_[user] == 0 && last_state_[user] == TypingState::kStart) {
      event_type = "typing_stop";
      last_state_[user] = TypingState::kStop;
    } else {
      if (burst_left_[user] == 0) burst_left_[user] = 1 + random() % (2 * options_.typing_burst);
      --burst_left_[user];
      event_type = "typing_start";
      last_state_[user] = TypingState::kStart;
    }
    ++typing_sent_;
  } else if (ticket) {
    event_type = "ticket_updated";
    path = "/internal/broadcast/ticket";
  }
  body_.clear();
  append_body(body_, event_type, user, event_id);

  if (options_.format == RequestFormat::kEvents) {
    out += "POST ";
    out += path;
    out += " HTTP/1.1\r\nHost: ";
    out += options_.host;
    out += "\r\nContent-Type: application/json\r\nContent-Length: ";
  } else {
    // The same entry the sidecar writes (docs/event-entry.md), through Webdis:
    // the last argument (the body) travels as the PUT body.
    out += "PUT /XADD/";
    out += typing || !ticket ? "events:chat" : "events:ticket";
    out += "/MAXLEN/~/10000/*/v/1/event_id/";
    out += event_id;
    out += "/event_type/";
    out += event_type;
    out += "/room_id/room-";
    append_number(out, user % rooms_);
    out += "/user_id/user-";
    append_number(out, user);
    out += "/ts_ms/";
    append_number(out, intended_ns / 1000000);
    out += "/method/POST/path/%2Finternal%2Fbroadcast%2F";
    out += path.substr(path.rfind('/') + 1);
    out += "/content_type/application%2Fjson/body HTTP/1.1\r\nHost: ";
    out += options_.host;
    out += "\r\nContent-Length: ";
  }
  append_number(out, body_.size());
  out += "\r\n\r\n";
  out += body_;
}

void append_event_id(std::string& out, uint64_t seq, uint64_t intended_ns) {
  out += "lg-";
  append_number(out, seq);
  out += '-';
  append_number(out, intended_ns);
}

bool parse_event_id(std::string_view id, uint64_t* seq, uint64_t* intended_ns) {
  if (id.substr(0, 3) != "lg-") return false;
  id.remove_prefix(3);
  size_t dash = id.find('-');
  if (dash == std::string_view::npos) return false;
  return parse_u64(id.substr(0, dash), seq) && parse_u64(id.substr(dash + 1), intended_ns);
}

bool parse_delivered(std::string_view header_event_id, std::string_view body, DeliveredEvent* out) {
  std::string_view id =
      header_event_id.empty() ? json_string_field(body, "event_id") : header_event_id;
  if (!parse_event_id(id, &out->seq, &out->intended_ns)) return false;
  std::string_view type = json_string_field(body, "event_type");
  out->typing = type == "typing_start" || type == "typing_stop";
  out->state = type == "typing_start"  ? TypingState::kStart
               : type == "typing_stop" ? TypingState::kStop
                                       : TypingState::kNone;
  std::string_view user = json_string_field(body, "user_id");
  uint64_t u = 0;
  if (user.substr(0, 5) == "user-" && parse_u64(user.substr(5), &u))
    out->user = static_cast<uint32_t>(u);
  return true;
}

}  // namespace streamshift
