#pragma once
// Reading tokenizer.json objects with errors that name the field, what was found and what was
// expected, so a malformed file is reported rather than crashing.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace kiln::tokenizer {

// j[key], which must exist (null counts as present).
const nlohmann::json& json_field(const nlohmann::json& j, std::string_view key,
                                 std::string_view where);
// The object must be a JSON object; throws naming `where` otherwise.
void require_object(const nlohmann::json& j, std::string_view where);
// Typed reads; absent or null gives the default, a wrong type throws.
std::string json_string(const nlohmann::json& j, std::string_view key, std::string_view where,
                        const std::string& dflt = "");
bool json_bool(const nlohmann::json& j, std::string_view key, std::string_view where, bool dflt);
int64_t json_int(const nlohmann::json& j, std::string_view key, std::string_view where,
                 int64_t dflt);
// "String" or {"String": s} / {"Regex": r} pattern objects: true for a regex.
bool json_pattern(const nlohmann::json& j, std::string_view where, std::string& pattern);
// A short rendering of a value for messages.
std::string json_brief(const nlohmann::json& j);

}  // namespace kiln::tokenizer
