#include "launch/json_config.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "launch/cli_checks.h"

namespace halo::cli {
namespace {

// A number or a boolean where the text is one, so the file reads naturally; else the string.
nlohmann::json typed(const std::string& text) {
  const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  return parsed.is_number() || parsed.is_boolean() ? parsed : nlohmann::json(text);
}

bool is_meta(const CLI::App* app, const CLI::Option* opt) {
  return opt == app->get_help_ptr() || opt == app->get_help_all_ptr() || opt == app->get_config_ptr() ||
         opt == app->get_version_ptr() || !opt->get_configurable();
}

void add_option(nlohmann::json& out, const CLI::Option* opt, bool default_also) {
  const std::string& name = opt->get_single_name();
  if (opt->get_expected_min() == 0) {  // a flag
    if (opt->count() > 0 && opt->as<bool>()) out[name] = true;
    return;
  }
  std::vector<std::string> values = opt->results();
  if (opt->count() == 0) {
    bool needs_given = true;
    for (const CLI::Option* needed : opt->get_needs()) needs_given = needs_given && needed->count() > 0;
    if (!default_also || !needs_given || opt->get_default_str().empty()) return;
    values = {opt->get_default_str()};
  }
  if (values.size() == 1) {
    out[name] = typed(values.front());
  } else {
    for (const std::string& v : values) out[name].push_back(typed(v));
  }
}

// The option a key names: "--key", or the positional "key".
const CLI::Option* find_option(const CLI::App* app, const std::string& key) {
  const CLI::Option* opt = app->get_option_no_throw("--" + key);
  if (opt == nullptr) opt = app->get_option_no_throw(key);
  return opt == nullptr || is_meta(app, opt) ? nullptr : opt;
}

}  // namespace

std::string JsonConfig::to_config(const CLI::App* app, bool default_also, bool, std::string) const {
  nlohmann::json out = nlohmann::json::object();
  if (const CLI::App* parent = app->get_parent()) {
    for (const CLI::Option* opt : parent->get_options()) {
      if (!is_meta(parent, opt) && opt->count() > 0) add_option(out, opt, false);
    }
  }
  for (const CLI::Option* opt : app->get_options()) {
    if (!is_meta(app, opt)) add_option(out, opt, default_also);
  }
  return out.dump(2) + "\n";
}

std::vector<CLI::ConfigItem> JsonConfig::from_config(std::istream& input) const {
  const CLI::Option* config = root_->get_config_ptr();
  const std::string file = config != nullptr && config->count() > 0 ? config->results().back() : "config";
  const std::vector<CLI::App*> chosen = root_->get_subcommands();
  const CLI::App* command = chosen.empty() ? nullptr : chosen.front();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(input);
  } catch (const nlohmann::json::exception& e) {  // a syntax error, or a number out of range
    const std::string what = e.what();            // "[json.exception.parse_error.101] parse error at line 3, ..."
    throw CLI::ConfigError(fmt::format("{}: not valid JSON: {}", file, what.substr(what.find("] ") + 2)));
  }
  if (!j.is_object()) {
    throw CLI::ConfigError(
        fmt::format("{}: expected a JSON object of option names and values, got {}", file, j.type_name()));
  }
  std::vector<CLI::ConfigItem> items;
  for (const auto& [key, value] : j.items()) {
    CLI::ConfigItem item;
    item.name = key;
    const CLI::Option* opt = find_option(root_, key);
    if (opt == nullptr) {
      opt = command == nullptr ? nullptr : find_option(command, key);
      if (opt == nullptr) {
        const std::string name = command == nullptr ? "" : " " + command->get_name();
        throw CLI::ConfigError(
            fmt::format("{}: \"{}\" is not an option of `halo{}` (see halo{} --help)", file, key, name, name));
      }
      item.parents = {command->get_name()};
    }
    for (const nlohmann::json& v : value.is_array() ? value : nlohmann::json::array({value})) {
      if (v.is_string()) {
        item.inputs.push_back(v.get<std::string>());
      } else if (v.is_number() || v.is_boolean()) {
        item.inputs.push_back(v.dump());
      } else {
        throw CLI::ConfigError(fmt::format("{}: \"{}\": expected a string, number, boolean or array of them, got {}",
                                           file, key, v.type_name()));
      }
    }
    try {
      for (const std::string& input : item.inputs) check_value(opt, input);
    } catch (const UsageError& e) {
      throw CLI::ConfigError(fmt::format("{}: \"{}\": {}", file, key, e.what()));
    }
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace halo::cli
