// Model presets: YAML files with the fields of config.json (configs/models/NAME.yaml). yaml-cpp
// reads them; the tree becomes JSON so one parser checks presets and config.json alike.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "kiln/models/config.h"

namespace kiln::models {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

json scalar_to_json(const YAML::Node& n) {
  const std::string& s = n.Scalar();
  if (n.Tag() == "!") return s;  // quoted: always a string
  if (s.empty() || s == "~" || s == "null") return nullptr;
  if (s == "true") return true;
  if (s == "false") return false;
  int64_t i;
  if (YAML::convert<int64_t>::decode(n, i)) return i;
  double d;
  if (YAML::convert<double>::decode(n, d)) return d;
  return s;
}

json to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json j = json::object();
      for (const auto& kv : n) j[kv.first.as<std::string>()] = to_json(kv.second);
      return j;
    }
    case YAML::NodeType::Sequence: {
      json j = json::array();
      for (const auto& e : n) j.push_back(to_json(e));
      return j;
    }
    case YAML::NodeType::Scalar:
      return scalar_to_json(n);
    default:
      return nullptr;
  }
}

std::vector<fs::path> preset_dirs() {
  std::vector<fs::path> d;
  if (const char* env = std::getenv("KILN_PRESETS")) d.emplace_back(env);
  d.emplace_back(KILN_PRESET_DIR);
  return d;
}

}  // namespace

ModelConfig load_preset(const std::string& name_or_path) {
  fs::path path(name_or_path);
  bool is_path = path.extension() == ".yaml" || name_or_path.find('/') != std::string::npos;
  if (!is_path) {
    path.clear();
    for (const fs::path& dir : preset_dirs())
      if (fs::exists(dir / (name_or_path + ".yaml"))) {
        path = dir / (name_or_path + ".yaml");
        break;
      }
    std::string known;
    for (const std::string& n : preset_names()) known += (known.empty() ? "" : ", ") + n;
    KILN_REQUIRE(!path.empty(), "model preset \"", name_or_path, "\" not found, expected one of ",
                 known);
  }
  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::Exception& e) {
    throw Error(str(path.string(), ": not valid YAML: ", e.what()));
  }
  json j = to_json(root);
  KILN_REQUIRE(j.is_object(), path.string(), ": expected a mapping of config fields");
  j.erase("description");
  return parse_hf_config(j, path.string());
}

std::vector<std::string> preset_names() {
  std::vector<std::string> names;
  for (const fs::path& dir : preset_dirs()) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".yaml") names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace kiln::models
