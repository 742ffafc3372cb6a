#include "core/runtime_layers.h"

#include <utility>

#include "core/json.h"
#include "core/json_writer.h"

namespace streamshift {

std::string_view runtime_layer_name(RuntimeLayer layer) {
  switch (layer) {
    case RuntimeLayer::kDefault:
      return "default";
    case RuntimeLayer::kEnv:
      return "env";
    case RuntimeLayer::kFile:
      return "file";
    case RuntimeLayer::kAdmin:
      return "admin";
  }
  return "default";
}

std::string_view runtime_reload_result_name(RuntimeReloadResult result) {
  return result == RuntimeReloadResult::kAccepted ? "accepted" : "rejected";
}

namespace {

void append_shown(std::string& out, const RuntimeValueInForce& v) {
  if (v.value) {
    append_json_string(out, *v.value);
  } else {
    out += "unset";
  }
  out += " (";
  out += runtime_layer_name(v.layer);
  out += ')';
}

}  // namespace

std::string runtime_audit_line(const RuntimeChange& change) {
  std::string out = "runtime: " + change.name + ' ';
  append_shown(out, change.before);
  out += " -> ";
  append_shown(out, change.after);
  return out;
}

RuntimeLayers::RuntimeLayers(std::vector<std::string> capable, const RuntimeValues& env,
                             Validator validate)
    : capable_(capable.begin(), capable.end()), validate_(std::move(validate)) {
  for (const auto& [name, value] : env) {
    if (capable_.count(name) != 0) env_.emplace(name, value);
  }
}

bool RuntimeLayers::capable(std::string_view name) const {
  return capable_.count(name) != 0;
}

RuntimeValueInForce RuntimeLayers::value_in_force(const std::string& name,
                                                  const RuntimeValues& file,
                                                  const RuntimeValues& admin) const {
  const std::pair<const RuntimeValues*, RuntimeLayer> highest_first[] = {
      {&admin, RuntimeLayer::kAdmin}, {&file, RuntimeLayer::kFile}, {&env_, RuntimeLayer::kEnv}};
  for (const auto& [values, layer] : highest_first) {
    auto it = values->find(name);
    if (it != values->end()) return {it->second, layer};
  }
  return {};
}

RuntimeValues RuntimeLayers::merge(const RuntimeValues& file, const RuntimeValues& admin) const {
  RuntimeValues merged;
  for (const auto& name : capable_) {
    RuntimeValueInForce v = value_in_force(name, file, admin);
    if (v.value) merged.emplace(name, std::move(*v.value));
  }
  return merged;
}

std::map<std::string, RuntimeValueInForce> RuntimeLayers::in_force() const {
  std::map<std::string, RuntimeValueInForce> out;
  for (const auto& name : capable_) out.emplace(name, value_in_force(name, file_, admin_));
  return out;
}

RuntimeReload RuntimeLayers::apply_file(const RuntimeValues& file) {
  RuntimeValues kept;
  std::vector<std::string> newly_ignored;
  for (const auto& [name, value] : file) {
    if (capable(name)) {
      kept.emplace(name, value);
    } else if (ignored_seen_.insert(name).second) {
      newly_ignored.push_back(name);
    }
  }
  std::string error = validate_(merge(kept, admin_));
  RuntimeReload reload = adopt(RuntimeLayer::kFile, std::move(kept), admin_, std::move(error));
  reload.newly_ignored = std::move(newly_ignored);
  return reload;
}

RuntimeReload RuntimeLayers::apply_admin(const RuntimeValues& overrides) {
  RuntimeValues admin = admin_;
  std::string error;
  for (const auto& [name, value] : overrides) {
    if (!capable(name)) {
      if (!error.empty()) error += '\n';
      error += name + ": not runtime-capable";
    } else if (value.empty()) {
      admin.erase(name);
    } else {
      admin[name] = value;
    }
  }
  if (error.empty()) error = validate_(merge(file_, admin));
  return adopt(RuntimeLayer::kAdmin, file_, std::move(admin), std::move(error));
}

RuntimeReload RuntimeLayers::adopt(RuntimeLayer layer, RuntimeValues file, RuntimeValues admin,
                                   std::string error) {
  RuntimeReload reload;
  reload.layer = layer;
  if (!error.empty()) {
    reload.result = RuntimeReloadResult::kRejected;
    reload.error = std::move(error);
  } else {
    for (const auto& name : capable_) {
      RuntimeValueInForce before = value_in_force(name, file_, admin_);
      RuntimeValueInForce after = value_in_force(name, file, admin);
      if (before.value != after.value || before.layer != after.layer) {
        reload.changes.push_back({name, std::move(before), std::move(after)});
      }
    }
    file_ = std::move(file);
    admin_ = std::move(admin);
    if (!reload.changes.empty()) ++generation_;
  }
  last_ = reload;
  return reload;
}

std::string RuntimeLayers::render() const {
  JsonWriter json;
  json.begin_object().key("variables").begin_object();
  for (const auto& [name, v] : in_force()) {
    json.key(name).begin_object().key("value");
    if (v.value) {
      json.string(*v.value);
    } else {
      json.null();
    }
    json.key("layer").string(runtime_layer_name(v.layer)).end_object();
  }
  json.end_object().key("generation").number(generation_).key("last_reload");
  if (!last_) {
    json.null();
  } else {
    json.begin_object()
        .key("layer")
        .string(runtime_layer_name(last_->layer))
        .key("result")
        .string(runtime_reload_result_name(last_->result))
        .key("error");
    if (last_->error.empty()) {
      json.null();
    } else {
      json.string(last_->error);
    }
    json.end_object();
  }
  return json.end_object().take();
}

}  // namespace streamshift
