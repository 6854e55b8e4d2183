#include "kiln/tokenizer/json_fields.h"

#include "kiln/core/error.h"

namespace kiln::tokenizer {

std::string json_brief(const nlohmann::json& j) {
  std::string s = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

void require_object(const nlohmann::json& j, std::string_view where) {
  KILN_REQUIRE(j.is_object(), where, ": expected a JSON object, found ", j.type_name(), " ",
               json_brief(j));
}

const nlohmann::json& json_field(const nlohmann::json& j, std::string_view key,
                                 std::string_view where) {
  require_object(j, where);
  auto it = j.find(key);
  KILN_REQUIRE(it != j.end(), where, ": missing field \"", key, "\"");
  return *it;
}

namespace {
const nlohmann::json* optional_field(const nlohmann::json& j, std::string_view key,
                                     std::string_view where) {
  require_object(j, where);
  auto it = j.find(key);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}
}  // namespace

std::string json_string(const nlohmann::json& j, std::string_view key, std::string_view where,
                        const std::string& dflt) {
  const nlohmann::json* v = optional_field(j, key, where);
  if (!v) return dflt;
  KILN_REQUIRE(v->is_string(), where, ".", key, ": expected a string, found ", v->type_name(), " ",
               json_brief(*v));
  return v->get<std::string>();
}

bool json_bool(const nlohmann::json& j, std::string_view key, std::string_view where, bool dflt) {
  const nlohmann::json* v = optional_field(j, key, where);
  if (!v) return dflt;
  KILN_REQUIRE(v->is_boolean(), where, ".", key, ": expected true or false, found ", v->type_name(),
               " ", json_brief(*v));
  return v->get<bool>();
}

int64_t json_int(const nlohmann::json& j, std::string_view key, std::string_view where,
                 int64_t dflt) {
  const nlohmann::json* v = optional_field(j, key, where);
  if (!v) return dflt;
  KILN_REQUIRE(v->is_number_integer(), where, ".", key, ": expected an integer, found ",
               v->type_name(), " ", json_brief(*v));
  return v->get<int64_t>();
}

bool json_pattern(const nlohmann::json& j, std::string_view where, std::string& pattern) {
  if (j.is_string()) {
    pattern = j.get<std::string>();
    return false;
  }
  require_object(j, where);
  if (j.contains("Regex")) {
    pattern = json_string(j, "Regex", where);
    return true;
  }
  KILN_REQUIRE(j.contains("String"), where,
               ": expected {\"String\": ...} or {\"Regex\": ...}, found ", json_brief(j));
  pattern = json_string(j, "String", where);
  return false;
}

}  // namespace kiln::tokenizer
