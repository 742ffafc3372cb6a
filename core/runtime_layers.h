// Runtime values (issue 19): the few variables a program lets change while it
// runs, layered as in Envoy's runtime, lowest first:
//
//   env   (the process environment, fixed at start)
//   file  (STREAMSHIFT_RUNTIME_DIR, re-read by core/runtime_dir.h)
//   admin (POST /runtime_modify, lost at restart)
//
// A name set in no layer is "default": the program's own default applies.
// Pure: no loop, no clock, no I/O. Each new layer set is merged over the
// others and the merge validated as a whole by the caller's Validator (the
// program's settings loader, so the rules and messages are those of the
// start):
//
//   apply_file(set) / apply_admin(set)
//     | merge with the other layers
//     v
//   validate(merged) --error--> rejected: the layers in force stay, the
//     | ok                      error is kept for GET /runtime and the
//     v                         caller counts result="rejected"
//   accepted: the layer replaced, generation()+1 when a value in force
//   changed, one RuntimeChange (old, new, layer) per such value for the
//   audit log
//
// Names in the file layer that are not runtime-capable are ignored and
// reported in the outcome the first time they are seen only (logged once,
// not on every re-read). In the admin layer they make the set rejected: the
// caller of /runtime_modify is answered at once.
//
// Values are shown as given (GET /runtime, audit lines): no secret may be
// runtime-capable.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace streamshift {

enum class RuntimeLayer { kDefault, kEnv, kFile, kAdmin };

/// "default", "env", "file", "admin".
std::string_view runtime_layer_name(RuntimeLayer layer);

/// Name to value, one layer's set or a merge.
using RuntimeValues = std::map<std::string, std::string>;

struct RuntimeValueInForce {
  std::optional<std::string> value;  // nullopt: set in no layer
  RuntimeLayer layer = RuntimeLayer::kDefault;
  bool operator==(const RuntimeValueInForce&) const = default;
};

/// One value in force that an accepted reload changed.
struct RuntimeChange {
  std::string name;
  RuntimeValueInForce before;
  RuntimeValueInForce after;
};

/// `runtime: NAME "old" (env) -> "new" (file)`; a value set in no layer
/// reads `unset (default)`.
std::string runtime_audit_line(const RuntimeChange& change);

enum class RuntimeReloadResult { kAccepted, kRejected };

/// "accepted", "rejected": the `result` label of streamshift_runtime_reloads_total.
std::string_view runtime_reload_result_name(RuntimeReloadResult result);

struct RuntimeReload {
  RuntimeLayer layer = RuntimeLayer::kFile;  // the layer the set was for
  RuntimeReloadResult result = RuntimeReloadResult::kAccepted;
  std::string error;                       // why rejected; empty when accepted
  std::vector<RuntimeChange> changes;      // accepted: the values in force that changed
  std::vector<std::string> newly_ignored;  // file names not runtime-capable, first seen now
};

class RuntimeLayers {
 public:
  /// "" when `merged` is a valid configuration, else the error report (the
  /// start's, e.g. EnvReader::error_report()). `merged` holds the
  /// runtime-capable names set in some layer; the validator reads any other
  /// variable where the program reads it at start (the environment).
  using Validator = std::function<std::string(const RuntimeValues& merged)>;

  /// `capable`: the runtime-capable names. `env`: their values in the
  /// environment (other names are dropped); it was validated at start.
  RuntimeLayers(std::vector<std::string> capable, const RuntimeValues& env, Validator validate);

  /// The directory's whole set, replacing the file layer.
  RuntimeReload apply_file(const RuntimeValues& file);
  /// Overrides merged into the admin layer; an empty value removes that
  /// name's override (as Envoy's runtime_modify).
  RuntimeReload apply_admin(const RuntimeValues& overrides);

  /// Every runtime-capable name with its value in force and its layer.
  std::map<std::string, RuntimeValueInForce> in_force() const;
  /// The values in force, name to value (names set in no layer absent): what
  /// the program's settings are loaded from.
  RuntimeValues merged() const { return merge(file_, admin_); }
  /// Counts accepted reloads that changed a value in force (0 at start).
  uint64_t generation() const { return generation_; }
  /// The last reload, nullopt before the first.
  const std::optional<RuntimeReload>& last_reload() const { return last_; }
  bool capable(std::string_view name) const;

  /// The GET /runtime document:
  ///   {"variables":{"NAME":{"value":"..."|null,"layer":"env"},...},
  ///    "generation":N,
  ///    "last_reload":null|{"layer":"file","result":"rejected","error":"..."}}
  std::string render() const;

 private:
  RuntimeValues merge(const RuntimeValues& file, const RuntimeValues& admin) const;
  RuntimeValueInForce value_in_force(const std::string& name, const RuntimeValues& file,
                                     const RuntimeValues& admin) const;
  RuntimeReload adopt(RuntimeLayer layer, RuntimeValues file, RuntimeValues admin,
                      std::string error);

  std::set<std::string, std::less<>> capable_;
  RuntimeValues env_;
  RuntimeValues file_;
  RuntimeValues admin_;
  Validator validate_;
  std::set<std::string> ignored_seen_;
  std::optional<RuntimeReload> last_;
  uint64_t generation_ = 0;
};

}  // namespace streamshift
