// The inspection API's answers; see inspection_documents.h.
#include "proxy/inspection_documents.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>

#include "core/json_writer.h"

namespace streamshift {
namespace {

constexpr std::string_view kDlqPrefix = "dlq_";

std::string_view text(const redisReply* r) {
  return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS
             ? std::string_view(r->str, r->len)
             : std::string_view{};
}

bool is_text(const redisReply* r) {
  return r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS;
}

std::optional<int64_t> integer(const redisReply* r) {
  if (r->type == REDIS_REPLY_INTEGER) return r->integer;
  if (!is_text(r)) return std::nullopt;
  int64_t n = 0;
  std::string_view s = text(r);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return n;
}

// Whole-document validation (simdjson's DOM parser checks everything,
// UTF-8 and nesting included); the body is small here (truncated first).
bool is_json(std::string_view body) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element element;
  return parser.parse(body.data(), body.size()).get(element) == simdjson::SUCCESS;
}

// `whole`: the body's size in Redis, which may have sent only its start.
void write_body(JsonWriter& json, std::string_view body, size_t whole) {
  bool truncated = whole > kInspectionBodyBytes;
  std::string_view shown = truncated ? body.substr(0, kInspectionBodyBytes) : body;
  bool as_json = !truncated && is_json(shown);
  json.key("body");
  if (as_json) {
    json.json(shown);
  } else {
    json.string(shown);
  }
  json.key("body_format").string(as_json ? "json" : "text");
  json.key("body_bytes").number(whole);
  json.key("body_truncated").boolean(truncated);
}

// A number when the text is one, else the text (a dead letter's fields are
// written by the relay as decimal text).
void write_number_text(JsonWriter& json, std::string_view value) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec == std::errc() && p == value.data() + value.size() && !value.empty()) {
    json.number(n);
  } else {
    json.string(value);
  }
}

// "fields" (all but the body and, for a dead letter, the dlq_* ones), then the body.
void write_fields_and_body(JsonWriter& json, const RangeEntry& e, bool dead_letter) {
  std::optional<std::string_view> body;
  json.key("fields").begin_object();
  for (const auto& [name, value] : e.fields) {
    if (name == "body") {
      body = value;
    } else if (!(dead_letter && name.starts_with(kDlqPrefix))) {
      json.key(name).string(value);
    }
  }
  json.end_object();
  if (body) write_body(json, *body, std::max(body->size(), e.body_bytes.value_or(0)));
}

void write_dead_letter(JsonWriter& json, const RangeEntry& e) {
  constexpr std::pair<std::string_view, std::string_view> kMembers[] = {
      {"dlq_error", "error"},         {"dlq_source_stream", "source_stream"},
      {"dlq_source_id", "source_id"}, {"dlq_deliveries", "deliveries"},
      {"dlq_consumer", "consumer"},   {"dlq_ts_ms", "ts_ms"}};
  json.begin_object().key("id").string(e.id);
  for (const auto& [field_name, member] : kMembers) {
    json.key(member);
    // A copy of the binding: clang 14 (the fuzz build) cannot capture one.
    std::string_view field = field_name;
    auto it = std::find_if(e.fields.begin(), e.fields.end(),
                           [field](const auto& f) { return f.first == field; });
    if (it == e.fields.end()) {
      json.null();
    } else if (member == "deliveries" || member == "ts_ms") {
      write_number_text(json, it->second);
    } else {
      json.string(it->second);
    }
  }
  write_fields_and_body(json, e, true);
  json.end_object();
}

// A string member, null when empty.
void write_text_or_null(JsonWriter& json, std::string_view name, std::string_view value) {
  json.key(name);
  if (value.empty()) {
    json.null();
  } else {
    json.string(value);
  }
}

// How many entries a page may show: all but an id-only last one.
size_t showable(const std::vector<RangeEntry>& entries) {
  return entries.empty() || !entries.back().id_only ? entries.size() : entries.size() - 1;
}
size_t showable(const std::vector<PendingEntry>& entries) {
  return entries.size();
}

template <typename Entry, typename Write>
void write_page(JsonWriter& json, std::string_view name, const std::vector<Entry>& entries,
                int count, Write write) {
  size_t shown = std::min(showable(entries), static_cast<size_t>(count));
  json.key(name).begin_array();
  for (size_t i = 0; i < shown; ++i) write(entries[i]);
  json.end_array();
  // "next": the count + 1th id, or the id-only one, when it came.
  write_text_or_null(json, "next", entries.size() > shown ? entries[shown].id : std::string_view{});
}

}  // namespace

std::optional<std::vector<RangeEntry>> read_range_reply(const redisReply* reply) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return std::nullopt;
  std::vector<RangeEntry> entries;
  entries.reserve(reply->elements);
  for (size_t i = 0; i < reply->elements; ++i) {
    const redisReply* e = reply->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 || e->elements > 3 ||
        !is_text(e->element[0]))
      return std::nullopt;
    RangeEntry entry{text(e->element[0]), {}, std::nullopt};
    if (e->elements == 1) {
      if (i + 1 != reply->elements) return std::nullopt;  // only the last
      entry.id_only = true;
      entries.push_back(std::move(entry));
      break;
    }
    if (e->elements == 3) {
      std::optional<int64_t> whole = integer(e->element[2]);
      if (!whole || *whole < 0) return std::nullopt;
      entry.body_bytes = static_cast<size_t>(*whole);
    }
    const redisReply* fields = e->element[1];
    if (fields->type == REDIS_REPLY_ARRAY) {
      if (fields->elements % 2 != 0) return std::nullopt;
      for (size_t f = 0; f + 1 < fields->elements; f += 2) {
        if (!is_text(fields->element[f]) || !is_text(fields->element[f + 1])) return std::nullopt;
        entry.fields.emplace_back(text(fields->element[f]), text(fields->element[f + 1]));
      }
    } else if (fields->type != REDIS_REPLY_NIL) {
      return std::nullopt;
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::optional<PendingSummary> read_pending_summary(const redisReply* reply) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY || reply->elements != 4)
    return std::nullopt;
  PendingSummary s;
  std::optional<int64_t> count = integer(reply->element[0]);
  if (!count) return std::nullopt;
  s.count = *count;
  s.smallest_id = text(reply->element[1]);
  s.largest_id = text(reply->element[2]);
  const redisReply* consumers = reply->element[3];
  if (consumers->type == REDIS_REPLY_NIL) return s;
  if (consumers->type != REDIS_REPLY_ARRAY) return std::nullopt;
  for (size_t i = 0; i < consumers->elements; ++i) {
    const redisReply* c = consumers->element[i];
    if (c->type != REDIS_REPLY_ARRAY || c->elements != 2 || !is_text(c->element[0]))
      return std::nullopt;
    std::optional<int64_t> n = integer(c->element[1]);
    if (!n) return std::nullopt;
    s.consumers.emplace_back(text(c->element[0]), *n);
  }
  return s;
}

std::optional<std::vector<PendingEntry>> read_pending_entries(const redisReply* reply) {
  if (reply == nullptr || reply->type != REDIS_REPLY_ARRAY) return std::nullopt;
  std::vector<PendingEntry> entries;
  entries.reserve(reply->elements);
  for (size_t i = 0; i < reply->elements; ++i) {
    const redisReply* e = reply->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 4 || !is_text(e->element[0]) ||
        !is_text(e->element[1]))
      return std::nullopt;
    std::optional<int64_t> idle = integer(e->element[2]);
    std::optional<int64_t> deliveries = integer(e->element[3]);
    if (!idle || !deliveries) return std::nullopt;
    entries.push_back({text(e->element[0]), text(e->element[1]), *idle, *deliveries});
  }
  return entries;
}

std::string entries_document(const InspectionQuery& q, const std::vector<RangeEntry>& entries) {
  JsonWriter json;
  json.begin_object().key("stream").string(q.stream).key("reverse").boolean(q.reverse);
  write_page(json, "entries", entries, q.count, [&](const RangeEntry& e) {
    json.begin_object().key("id").string(e.id);
    write_fields_and_body(json, e, false);
    json.end_object();
  });
  return json.end_object().take();
}

std::string dlq_document(const InspectionQuery& q, const std::vector<RangeEntry>& entries) {
  JsonWriter json;
  json.begin_object().key("stream").string(q.stream);
  write_page(json, "dead_letters", entries, q.count,
             [&](const RangeEntry& e) { write_dead_letter(json, e); });
  return json.end_object().take();
}

std::string pending_document(const InspectionQuery& q, const PendingSummary& summary,
                             const std::vector<PendingEntry>& entries) {
  JsonWriter json;
  json.begin_object().key("stream").string(q.stream).key("group").string(q.group);
  write_text_or_null(json, "consumer", q.consumer);
  json.key("summary").begin_object().key("count").number(summary.count);
  write_text_or_null(json, "smallest_id", summary.smallest_id);
  write_text_or_null(json, "largest_id", summary.largest_id);
  json.key("consumers").begin_object();
  for (const auto& [consumer, count] : summary.consumers) json.key(consumer).number(count);
  json.end_object().end_object();
  write_page(json, "entries", entries, q.count, [&](const PendingEntry& e) {
    json.begin_object().key("id").string(e.id).key("consumer").string(e.consumer);
    json.key("idle_ms").number(e.idle_ms).key("deliveries").number(e.deliveries).end_object();
  });
  return json.end_object().take();
}

}  // namespace streamshift
