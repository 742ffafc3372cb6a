// Percent-encoded parts of a request target, for the admin endpoints: a
// path segment (a stream name holding ':', '{', '}') and a query string's
// NAME=VALUE pairs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace streamshift {

/// `in` with each %XX replaced by its byte and, when `plus_is_space` (a
/// query string), '+' by a space; nullopt for a bad escape.
std::optional<std::string> percent_decoded(std::string_view in, bool plus_is_space);

/// The NAME=VALUE pairs of a query string, percent-decoded ('+' is a
/// space; a repeated name keeps its last value); nullopt, with `why`, for a
/// malformed one (no '=', an empty name, a bad escape).
std::optional<std::map<std::string, std::string>> parse_query_string(std::string_view query,
                                                                     std::string* why);

}  // namespace streamshift
