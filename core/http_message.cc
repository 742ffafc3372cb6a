// HTTP message helpers; see http_message.h.
#include "core/http_message.h"

#include <algorithm>
#include <array>

namespace streamshift {
namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool is_hop_by_hop_header(std::string_view name) {
  static constexpr std::array<std::string_view, 10> kHopByHop = {
      "connection",        "keep-alive", "proxy-connection",    "te",     "trailer",
      "transfer-encoding", "upgrade",    "proxy-authorization", "expect", "proxy-authenticate"};
  for (std::string_view h : kHopByHop) {
    if (iequals(name, h)) return true;
  }
  return false;
}

std::optional<std::string_view> HeaderBlock::find(std::string_view wanted) const {
  for (size_t i = 0; i < refs_.size(); ++i) {
    if (iequals(name(i), wanted)) return value(i);
  }
  return std::nullopt;
}

size_t HeaderBlock::count(std::string_view wanted) const {
  size_t n = 0;
  for (size_t i = 0; i < refs_.size(); ++i) n += iequals(name(i), wanted) ? 1 : 0;
  return n;
}

void HeaderBlock::add(std::string_view n, std::string_view v) {
  Ref r;
  r.name_off = static_cast<uint32_t>(storage_.size());
  r.name_len = static_cast<uint32_t>(n.size());
  storage_.append(n);
  r.value_off = static_cast<uint32_t>(storage_.size());
  r.value_len = static_cast<uint32_t>(v.size());
  storage_.append(v);
  refs_.push_back(r);
  in_value_ = false;
}

void HeaderBlock::append_name_fragment(std::string_view fragment) {
  if (refs_.empty() || in_value_) {
    auto off = static_cast<uint32_t>(storage_.size());
    refs_.push_back(Ref{off, 0, off, 0});
    in_value_ = false;
  }
  storage_.append(fragment);
  refs_.back().name_len += static_cast<uint32_t>(fragment.size());
  refs_.back().value_off = static_cast<uint32_t>(storage_.size());
}

void HeaderBlock::append_value_fragment(std::string_view fragment) {
  if (refs_.empty()) return;
  in_value_ = true;
  storage_.append(fragment);
  refs_.back().value_len += static_cast<uint32_t>(fragment.size());
}

void HeaderBlock::finish_value() {
  if (refs_.empty()) return;
  in_value_ = true;
  Ref& r = refs_.back();
  while (r.value_len > 0) {
    char c = storage_[r.value_off + r.value_len - 1];
    if (c != ' ' && c != '\t') break;
    --r.value_len;
  }
}

std::string_view HeaderBlock::stash(std::string_view text, uint32_t* offset) {
  *offset = static_cast<uint32_t>(storage_.size());
  storage_.append(text);
  return view(*offset, static_cast<uint32_t>(text.size()));
}

namespace {

// Case-insensitive ordering of field names.
bool iless(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    char x = lower(a[i]), y = lower(b[i]);
    if (x != y) return x < y;
  }
  return a.size() < b.size();
}

// Calls fn(token) for each comma-separated token of every Connection field.
template <typename Fn>
void for_each_connection_token(const HeaderBlock& h, Fn fn) {
  for (size_t i = 0; i < h.size(); ++i) {
    if (!iequals(h.name(i), "connection")) continue;
    std::string_view v = h.value(i);
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view token = trim(v.substr(0, comma));
      if (!token.empty()) fn(token);
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
}

// Up to this many Connection tokens, each is looked up by a scan of the names.
constexpr size_t kFewTokens = 8;

// Tokens that name no field we would forward anyway.
bool names_nothing_new(std::string_view token) {
  return iequals(token, "close") || is_hop_by_hop_header(token);
}

}  // namespace

ForwardedFields::ForwardedFields(const HeaderBlock& headers) : headers_(headers) {
  size_t tokens = 0;
  for_each_connection_token(headers, [&](std::string_view t) { tokens += !names_nothing_new(t); });
  if (tokens == 0) return;
  listed_.assign(headers.size(), false);
  if (tokens <= kFewTokens) {  // the usual "Connection: keep-alive, X-Foo": a scan per token
    for_each_connection_token(headers, [&](std::string_view token) {
      if (names_nothing_new(token)) return;
      for (size_t i = 0; i < headers.size(); ++i) {
        if (iequals(headers.name(i), token)) listed_[i] = true;
      }
    });
    return;
  }
  std::vector<uint32_t> by_name(headers.size());
  for (size_t i = 0; i < by_name.size(); ++i) by_name[i] = static_cast<uint32_t>(i);
  std::sort(by_name.begin(), by_name.end(),
            [&](uint32_t a, uint32_t b) { return iless(headers.name(a), headers.name(b)); });
  for_each_connection_token(headers, [&](std::string_view token) {
    if (names_nothing_new(token)) return;
    auto it =
        std::lower_bound(by_name.begin(), by_name.end(), token,
                         [&](uint32_t i, std::string_view t) { return iless(headers.name(i), t); });
    for (; it != by_name.end() && iequals(headers.name(*it), token); ++it) listed_[*it] = true;
  });
}

bool is_tchar(unsigned char c) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

namespace {

// A path segment that is "." or "..", dots possibly percent-encoded (an
// upstream such as Kestrel decodes %2E before removing dot-segments).
bool is_dot_segment(std::string_view s) {
  size_t dots = 0;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == '.') {
      ++dots;
      ++i;
    } else if (s.size() - i >= 3 && s[i] == '%' && s[i + 1] == '2' &&
               (s[i + 2] == 'e' || s[i + 2] == 'E')) {
      ++dots;
      i += 3;
    } else {
      return false;
    }
  }
  return dots == 1 || dots == 2;
}

// Length of a segment separator at the start of `s`: '/', '\' or their
// percent-encodings (some upstreams decode or normalise them), else 0.
size_t separator_length(std::string_view s) {
  if (s[0] == '/' || s[0] == '\\') return 1;
  if (s.size() >= 3 && s[0] == '%') {
    char a = s[1], b = static_cast<char>(s[2] | 0x20);
    if ((a == '2' && b == 'f') || (a == '5' && b == 'c')) return 3;
  }
  return 0;
}

}  // namespace

bool has_dot_segment(std::string_view target) {
  std::string_view path = target.substr(0, target.find('?'));
  size_t start = 0;
  for (size_t i = 0; i <= path.size();) {
    size_t sep = i == path.size() ? 1 : separator_length(path.substr(i));
    if (sep == 0) {
      ++i;
      continue;
    }
    if (is_dot_segment(path.substr(start, i - start))) return true;
    i += sep;
    start = i;
  }
  return false;
}

bool is_field_text(std::string_view text) {
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

std::string_view status_reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 417:
      return "Expectation Failed";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "";
  }
}

void serialize_response_head(std::string& out, int status, std::string_view reason,
                             const HeaderBlock* headers, std::string_view content_type,
                             size_t body_length, bool keep_content_length, bool close,
                             std::string_view extra_headers) {
  char status_text[4] = {static_cast<char>('0' + status / 100 % 10),
                         static_cast<char>('0' + status / 10 % 10),
                         static_cast<char>('0' + status % 10), 0};
  out += "HTTP/1.1 ";
  out.append(status_text, 3);
  out += ' ';
  out += reason;
  out += "\r\n";
  if (headers != nullptr) {
    ForwardedFields forwarded(*headers);
    for (size_t i = 0; i < headers->size(); ++i) {
      if (!forwarded.forwarded(i)) continue;
      std::string_view n = headers->name(i);
      if (!keep_content_length && iequals(n, "content-length")) continue;
      out += n;
      out += ": ";
      out += headers->value(i);
      out += "\r\n";
    }
  }
  out += extra_headers;
  if (!content_type.empty()) {
    out += "Content-Type: ";
    out += content_type;
    out += "\r\n";
  }
  if (!keep_content_length) {
    out += "Content-Length: ";
    out += std::to_string(body_length);
    out += "\r\n";
  }
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
}

}  // namespace streamshift
