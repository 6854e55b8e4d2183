#pragma once
// Values of the chat-template interpreter, with Python's semantics (chat templates are Jinja2
// run by Python): None, bool, int, float, str, list, dict (insertion-ordered), callables, and
// Jinja's Undefined. Lists and dicts are shared by reference, as in Python; a namespace() is a
// dict whose attributes `set` may assign.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace kiln::tokenizer::jinja {

class Value;
using List = std::vector<Value>;

struct Dict {
  std::vector<std::pair<std::string, Value>> items;
  bool is_namespace = false;
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  void set(const std::string& key, Value v);
};

struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
  const Value* kw(std::string_view name) const;
};

using Function = std::function<Value(CallArgs&)>;

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kDict, kFunction };

  Value() = default;  // Undefined
  static Value undefined(std::string name = "") {
    Value v;
    v.str_ = std::move(name);
    return v;
  }
  static Value none() { return Value(Kind::kNone); }
  Value(bool b) : kind_(Kind::kBool), int_(b) {}                                      // NOLINT
  Value(int64_t i) : kind_(Kind::kInt), int_(i) {}                                    // NOLINT
  Value(int i) : kind_(Kind::kInt), int_(i) {}                                        // NOLINT
  Value(double d) : kind_(Kind::kFloat), float_(d) {}                                 // NOLINT
  Value(std::string s) : kind_(Kind::kString), str_(std::move(s)) {}                  // NOLINT
  Value(const char* s) : kind_(Kind::kString), str_(s) {}                             // NOLINT
  Value(List l) : kind_(Kind::kList), list_(std::make_shared<List>(std::move(l))) {}  // NOLINT
  Value(Dict d) : kind_(Kind::kDict), dict_(std::make_shared<Dict>(std::move(d))) {}  // NOLINT
  static Value function(Function f);
  static Value from_json(const nlohmann::ordered_json& j);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_function() const { return kind_ == Kind::kFunction; }

  bool as_bool() const { return int_ != 0; }
  int64_t as_int() const { return int_; }
  double as_number() const { return kind_ == Kind::kFloat ? float_ : double(int_); }
  const std::string& as_string() const { return str_; }
  const std::string& undefined_name() const { return str_; }
  List& list() const { return *list_; }
  Dict& dict() const { return *dict_; }
  const Function& fn() const { return *fn_; }

  bool truthy() const;
  // str(x) as Python prints it (None -> "None", True -> "True", 1.0 -> "1.0", lists as repr);
  // Undefined prints as "".
  std::string str() const;
  std::string repr() const;  // repr(x)
  // json.dumps(x, ensure_ascii=False, indent=indent, sort_keys=...) as transformers' tojson.
  std::string to_json(int indent, bool sort_keys) const;
  const char* type_name() const;

 private:
  explicit Value(Kind k) : kind_(k) {}
  Kind kind_ = Kind::kUndefined;
  int64_t int_ = 0;
  double float_ = 0;
  std::string str_;
  std::shared_ptr<List> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Function> fn_;
};

bool operator==(const Value& a, const Value& b);
// Python's <, for numbers, strings and lists; throws kiln::Error for other types.
bool less(const Value& a, const Value& b);

// Python's float repr: the shortest string that reads back as the same double.
std::string python_float(double d);

}  // namespace kiln::tokenizer::jinja
