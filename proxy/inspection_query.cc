// Reading inspection requests; see inspection_query.h.
#include "proxy/inspection_query.h"

#include <algorithm>
#include <initializer_list>
#include <map>
#include <utility>

#include "core/decimal.h"
#include "core/query_string.h"
#include "core/stream_id.h"

namespace streamshift {
namespace {

constexpr std::string_view kStreamsPrefix = "streams/";

InspectionParse refused(int status, std::string code, std::string detail) {
  return {std::nullopt, {status, std::move(code), std::move(detail)}};
}

bool allowed(std::string_view name, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

ReadableStreams::ReadableStreams(StreamShards layout, std::string dlq)
    : layout_(std::move(layout)), dlq_(std::move(dlq)) {}

std::optional<InspectionRefusal> ReadableStreams::check(std::string_view name) const {
  if (name == dlq_) return std::nullopt;
  const std::vector<std::string>& physical = layout_.physical();
  if (std::find(physical.begin(), physical.end(), name) != physical.end()) return std::nullopt;
  const std::vector<std::string>& logical = layout_.logical();
  if (layout_.count() > 1 && std::find(logical.begin(), logical.end(), name) != logical.end()) {
    std::string shards;
    for (int k = 0; k < layout_.count(); ++k) {
      if (k > 0) shards += ", ";
      shards += shard_stream_name(name, layout_.count(), k);
    }
    return InspectionRefusal{400, "sharded_stream",
                             std::string(name) + " is sharded: read one of its shards: " + shards};
  }
  return InspectionRefusal{
      404, "unknown_stream",
      "not a stream of STREAMSHIFT_STREAMS, nor the DLQ: \"" + std::string(name) + "\""};
}

bool is_inspection_endpoint(std::string_view endpoint) {
  return endpoint == "dlq" || endpoint.starts_with(kStreamsPrefix);
}

bool valid_range_id(std::string_view id) {
  if (id == "-" || id == "+") return true;
  if (id.starts_with('(')) id.remove_prefix(1);
  return StreamId::parse(id).has_value();
}

InspectionParse parse_inspection(std::string_view endpoint, std::string_view query,
                                 const ReadableStreams& streams, std::string_view group) {
  InspectionQuery q;
  if (endpoint == "dlq") {
    q.endpoint = InspectionEndpoint::kDlq;
    q.stream = streams.dlq();
    q.reverse = true;
  } else {
    std::string_view rest = endpoint.substr(kStreamsPrefix.size());
    size_t slash = rest.find('/');
    std::string_view action = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
    if (action == "entries") {
      q.endpoint = InspectionEndpoint::kEntries;
    } else if (action == "pending") {
      q.endpoint = InspectionEndpoint::kPending;
    } else {
      return refused(404, "not_found",
                     "no such events endpoint (streams/{stream}/entries or "
                     "streams/{stream}/pending)");
    }
    std::optional<std::string> name = percent_decoded(rest.substr(0, slash), false);
    if (!name || name->empty())
      return refused(400, "invalid_stream", "the stream name is empty or badly percent-encoded");
    if (std::optional<InspectionRefusal> no = streams.check(*name)) return {std::nullopt, *no};
    q.stream = std::move(*name);
    q.group = std::string(group);
  }
  std::string why;
  std::optional<std::map<std::string, std::string>> params = parse_query_string(query, &why);
  if (!params) return refused(400, "invalid_query", why);
  for (const auto& [name, value] : *params) {
    bool known =
        allowed(name, {"start", "end", "count"}) ||
        (q.endpoint == InspectionEndpoint::kEntries && name == "reverse") ||
        (q.endpoint == InspectionEndpoint::kPending && allowed(name, {"group", "consumer"}));
    if (!known) return refused(400, "invalid_query", "unknown parameter \"" + name + "\"");
    if (name == "start" || name == "end") {
      if (!valid_range_id(value)) {
        return refused(400, "invalid_id",
                       name + " must be -, +, <ms> or <ms>-<seq> (after ( to exclude it), not \"" +
                           value + "\"");
      }
      (name == "start" ? q.start : q.end) = value;
    } else if (name == "count") {
      std::optional<int64_t> count = parse_decimal(value, 1, kMaxInspectionCount);
      if (!count) {
        return refused(400, "invalid_count",
                       "count must be a whole number from 1 to " +
                           std::to_string(kMaxInspectionCount) + ", not \"" + value + "\"");
      }
      q.count = static_cast<int>(*count);
    } else if (name == "reverse") {
      if (value != "0" && value != "1" && value != "true" && value != "false")
        return refused(400, "invalid_reverse", "reverse must be 1, 0, true or false");
      q.reverse = value == "1" || value == "true";
    } else if (value.empty()) {
      return refused(400, "invalid_query", name + " must not be empty");
    } else {
      (name == "group" ? q.group : q.consumer) = value;
    }
  }
  return {std::move(q), {}};
}

}  // namespace streamshift
