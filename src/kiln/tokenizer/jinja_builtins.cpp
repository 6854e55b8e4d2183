// The chat-template built-ins: Jinja2's filters and tests that chat templates use, Python's
// str / list / dict methods, the operators, and the globals transformers provides (range,
// namespace, raise_exception, strftime_now). Strings index and slice by code point, as Python's.
#include <algorithm>
#include <cmath>
#include <ctime>
#include <unordered_map>

#include "kiln/core/error.h"
#include "kiln/tokenizer/jinja_ast.h"
#include "kiln/tokenizer/unicode.h"
#include "kiln/tokenizer/utf8.h"

namespace kiln::tokenizer::jinja {

namespace {

std::u32string to_u32(const std::string& s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) out += next_code_point(s, i);
  return out;
}

std::string from_u32(std::u32string_view s) {
  std::string out;
  for (char32_t c : s) append_utf8(out, c);
  return out;
}

bool py_space(char32_t c) {
  return is_white_space(c) || (c >= 0x1C && c <= 0x1F);
}

// Copies: the default is often a temporary.
Value arg(CallArgs& a, size_t i, const char* name, const Value& dflt) {
  if (i < a.positional.size()) return a.positional[i];
  if (const Value* v = a.kw(name)) return *v;
  return dflt;
}

const std::string& need_string(const Value& v, const char* what) {
  KILN_REQUIRE(v.is_string(), what, ": expected a string, found ", v.type_name());
  return v.as_string();
}

int64_t need_int(const Value& v, const char* what) {
  KILN_REQUIRE(v.is_int() || v.is_bool(), what, ": expected an integer, found ", v.type_name());
  return v.as_int();
}

// str.strip / lstrip / rstrip with Python's rules: whitespace, or any of `chars`.
std::string strip(const std::string& s, const Value& chars, bool left, bool right) {
  std::u32string u = to_u32(s);
  std::u32string set = chars.is_string() ? to_u32(chars.as_string()) : U"";
  auto drop = [&](char32_t c) {
    return chars.is_string() ? set.find(c) != std::u32string::npos : py_space(c);
  };
  size_t b = 0, e = u.size();
  if (left)
    while (b < e && drop(u[b])) ++b;
  if (right)
    while (e > b && drop(u[e - 1])) --e;
  return from_u32(std::u32string_view(u).substr(b, e - b));
}

List split(const std::string& s, const Value& sep, int64_t maxsplit) {
  List out;
  if (!sep.is_string()) {  // runs of whitespace, none at the ends
    std::u32string u = to_u32(s);
    size_t i = 0;
    while (true) {
      while (i < u.size() && py_space(u[i])) ++i;
      if (i >= u.size()) break;
      if (maxsplit >= 0 && int64_t(out.size()) == maxsplit) {
        size_t e = u.size();
        while (e > i && py_space(u[e - 1])) --e;
        out.emplace_back(from_u32(std::u32string_view(u).substr(i, e - i)));
        break;
      }
      size_t j = i;
      while (j < u.size() && !py_space(u[j])) ++j;
      out.emplace_back(from_u32(std::u32string_view(u).substr(i, j - i)));
      i = j;
    }
    return out;
  }
  const std::string& d = sep.as_string();
  KILN_REQUIRE(!d.empty(), "str.split: empty separator");
  size_t i = 0;
  while (maxsplit < 0 || int64_t(out.size()) < maxsplit) {
    size_t at = s.find(d, i);
    if (at == std::string::npos) break;
    out.emplace_back(s.substr(i, at - i));
    i = at + d.size();
  }
  out.emplace_back(s.substr(i));
  return out;
}

std::string title_case(const std::string& s, bool only_first) {
  std::u32string u = to_u32(s);
  bool start = true;
  std::string out;
  for (size_t i = 0; i < u.size(); ++i) {
    std::string c = from_u32(std::u32string_view(u).substr(i, 1));
    bool cased = char_class(u[i]) == CharClass::kLetter;
    out += (only_first ? i == 0 : start) ? to_upper(c) : to_lower(c);
    if (!only_first) start = !cased;
  }
  return out;
}

bool starts_or_ends(const std::string& s, const Value& what, bool start) {
  auto one = [&](const std::string& p) {
    return s.size() >= p.size() && s.compare(start ? 0 : s.size() - p.size(), p.size(), p) == 0;
  };
  if (what.is_list()) {
    for (const Value& p : what.list())
      if (one(need_string(p, "startswith/endswith"))) return true;
    return false;
  }
  return one(need_string(what, "startswith/endswith"));
}

int64_t count_of(const std::string& s, const std::string& sub) {
  if (sub.empty()) return int64_t(to_u32(s).size()) + 1;
  int64_t n = 0;
  for (size_t i = s.find(sub); i != std::string::npos; i = s.find(sub, i + sub.size())) ++n;
  return n;
}

std::string replace(const std::string& s, const std::string& from, const std::string& to,
                    int64_t count) {
  std::string out;
  size_t i = 0;
  int64_t done = 0;
  if (from.empty()) return s;
  while (count < 0 || done < count) {
    size_t at = s.find(from, i);
    if (at == std::string::npos) break;
    out += s.substr(i, at - i) + to;
    i = at + from.size();
    ++done;
  }
  return out + s.substr(i);
}

template <class Pred>
bool all_chars(const std::string& s, Pred p) {
  std::u32string u = to_u32(s);
  return !u.empty() && std::all_of(u.begin(), u.end(), p);
}

Value string_method(const std::string& s, const std::string& name) {
  auto f = [](auto fn) { return Value::function(fn); };
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    bool l = name != "rstrip", r = name != "lstrip";
    return f([s, l, r](CallArgs& a) {
      return Value(strip(s, arg(a, 0, "chars", Value::none()), l, r));
    });
  }
  if (name == "split")
    return f([s](CallArgs& a) {
      return Value(split(s, arg(a, 0, "sep", Value::none()),
                         need_int(arg(a, 1, "maxsplit", Value(-1)), "split")));
    });
  if (name == "startswith" || name == "endswith") {
    bool start = name == "startswith";
    return f([s, start](CallArgs& a) {
      return Value(starts_or_ends(s, arg(a, 0, "prefix", Value::none()), start));
    });
  }
  if (name == "upper") return f([s](CallArgs&) { return Value(to_upper(s)); });
  if (name == "lower") return f([s](CallArgs&) { return Value(to_lower(s)); });
  if (name == "title") return f([s](CallArgs&) { return Value(title_case(s, false)); });
  if (name == "capitalize") return f([s](CallArgs&) { return Value(title_case(s, true)); });
  if (name == "replace")
    return f([s](CallArgs& a) {
      return Value(replace(s, need_string(arg(a, 0, "old", Value::none()), "replace"),
                           need_string(arg(a, 1, "new", Value::none()), "replace"),
                           need_int(arg(a, 2, "count", Value(-1)), "replace")));
    });
  if (name == "find" || name == "index" || name == "rfind")
    return f([s, name](CallArgs& a) {
      std::string sub = need_string(  // a copy: arg() returns a temporary
          arg(a, 0, "sub", Value::none()), "find");
      size_t at = name == "rfind" ? s.rfind(sub) : s.find(sub);
      KILN_REQUIRE(at != std::string::npos || name != "index", "str.index: substring not found");
      return Value(at == std::string::npos ? int64_t(-1) : int64_t(to_u32(s.substr(0, at)).size()));
    });
  if (name == "count")
    return f([s](CallArgs& a) {
      return Value(count_of(s, need_string(arg(a, 0, "sub", Value::none()), "count")));
    });
  if (name == "join")
    return f([s](CallArgs& a) {
      std::string out;
      List items = iterate(arg(a, 0, "iterable", Value::none()));
      for (size_t i = 0; i < items.size(); ++i)
        out += (i ? s : "") + need_string(items[i], "str.join");
      return Value(out);
    });
  if (name == "splitlines")
    return f([s](CallArgs&) {
      List out;
      size_t i = 0;
      while (i < s.size()) {
        size_t j = s.find_first_of("\r\n", i);
        if (j == std::string::npos) j = s.size();
        out.emplace_back(s.substr(i, j - i));
        i = j + (s.compare(j, 2, "\r\n") == 0 ? 2 : 1);
      }
      return Value(out);
    });
  if (name == "isdigit")
    return f([s](CallArgs&) {
      return Value(all_chars(s, [](char32_t c) { return char_class(c) == CharClass::kNumber; }));
    });
  if (name == "isalpha")
    return f([s](CallArgs&) {
      return Value(all_chars(s, [](char32_t c) { return char_class(c) == CharClass::kLetter; }));
    });
  if (name == "isspace") return f([s](CallArgs&) { return Value(all_chars(s, py_space)); });
  if (name == "isupper")
    return f([s](CallArgs&) { return Value(to_upper(s) == s && to_lower(s) != s); });
  if (name == "islower")
    return f([s](CallArgs&) { return Value(to_lower(s) == s && to_upper(s) != s); });
  return Value::undefined(name);
}

Value dict_method(const Value& d, const std::string& name) {
  if (name == "items")
    return Value::function([d](CallArgs&) {
      List out;
      for (const auto& [k, v] : d.dict().items) out.emplace_back(List{Value(k), v});
      return Value(out);
    });
  if (name == "keys")
    return Value::function([d](CallArgs&) {
      List out;
      for (const auto& kv : d.dict().items) out.emplace_back(kv.first);
      return Value(out);
    });
  if (name == "values")
    return Value::function([d](CallArgs&) {
      List out;
      for (const auto& kv : d.dict().items) out.push_back(kv.second);
      return Value(out);
    });
  if (name == "get")
    return Value::function([d](CallArgs& a) {
      const Value* v = d.dict().find(need_string(arg(a, 0, "key", Value::none()), "dict.get"));
      return v ? *v : arg(a, 1, "default", Value::none());
    });
  return Value::undefined(name);
}

int64_t py_index(int64_t i, size_t n) {
  return i < 0 ? i + int64_t(n) : i;
}

}  // namespace

Value get_attribute(const Value& obj, const std::string& name) {
  KILN_REQUIRE(!obj.is_undefined(), "'",
               obj.undefined_name().empty() ? "value" : obj.undefined_name(),
               "' is undefined (while looking up '", name, "')");
  if (obj.is_string()) return string_method(obj.as_string(), name);
  if (obj.is_dict()) {
    if (!obj.dict().is_namespace) {
      Value m = dict_method(obj, name);
      if (!m.is_undefined()) return m;
    }
    if (const Value* v = obj.dict().find(name)) return *v;
    return Value::undefined(name);
  }
  if (obj.is_list() && (name == "index" || name == "count"))
    return Value::function([obj, name](CallArgs& a) {
      Value x = arg(a, 0, "value", Value::none());
      const List& l = obj.list();
      if (name == "count") return Value(int64_t(std::count(l.begin(), l.end(), x)));
      auto it = std::find(l.begin(), l.end(), x);
      KILN_REQUIRE(it != l.end(), "list.index: value not in list");
      return Value(int64_t(it - l.begin()));
    });
  if (obj.is_list() || obj.is_dict())
    return Value::function([name](CallArgs&) -> Value {
      KILN_REQUIRE(false, "'", name, "' is not allowed: templates cannot change lists or dicts");
      return Value::none();
    });
  return Value::undefined(name);
}

Value get_item(const Value& obj, const Value& key) {
  KILN_REQUIRE(!obj.is_undefined(), "'",
               obj.undefined_name().empty() ? "value" : obj.undefined_name(),
               "' is undefined (while looking up an item)");
  if (obj.is_dict()) {
    if (key.is_string()) {
      if (const Value* v = obj.dict().find(key.as_string())) return *v;
      return get_attribute(obj, key.as_string());
    }
    return Value::undefined();
  }
  if ((obj.is_list() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    if (obj.is_list()) {
      int64_t i = py_index(key.as_int(), obj.list().size());
      if (i < 0 || i >= int64_t(obj.list().size())) return Value::undefined();
      return obj.list()[size_t(i)];
    }
    std::u32string u = to_u32(obj.as_string());
    int64_t i = py_index(key.as_int(), u.size());
    if (i < 0 || i >= int64_t(u.size())) return Value::undefined();
    return Value(from_u32(std::u32string_view(u).substr(size_t(i), 1)));
  }
  if (key.is_string()) return get_attribute(obj, key.as_string());
  return Value::undefined();
}

Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  int64_t st = step.is_none() ? 1 : need_int(step, "slice step");
  KILN_REQUIRE(st != 0, "slice step cannot be zero");
  KILN_REQUIRE(obj.is_list() || obj.is_string(), "cannot slice a ", obj.type_name());
  std::u32string u;
  size_t n = obj.is_list() ? obj.list().size() : (u = to_u32(obj.as_string())).size();
  auto bound = [&](const Value& v, int64_t dflt) {
    if (v.is_none()) return dflt;
    int64_t i = need_int(v, "slice index");
    if (i < 0) i += int64_t(n);
    if (st > 0) return std::clamp<int64_t>(i, 0, int64_t(n));
    return std::clamp<int64_t>(i, -1, int64_t(n) - 1);
  };
  int64_t b = bound(start, st > 0 ? 0 : int64_t(n) - 1);
  int64_t e = bound(stop, st > 0 ? int64_t(n) : -1);
  List items;
  std::u32string chars;
  for (int64_t i = b; st > 0 ? i < e : i > e; i += st) {
    if (obj.is_list())
      items.push_back(obj.list()[size_t(i)]);
    else
      chars += u[size_t(i)];
  }
  return obj.is_list() ? Value(std::move(items)) : Value(from_u32(chars));
}

bool contains(const Value& c, const Value& item) {
  if (c.is_undefined()) return false;
  if (c.is_string())
    return c.as_string().find(need_string(item, "'in <string>'")) != std::string::npos;
  if (c.is_list()) return std::find(c.list().begin(), c.list().end(), item) != c.list().end();
  if (c.is_dict()) return item.is_string() && c.dict().find(item.as_string()) != nullptr;
  KILN_REQUIRE(false, "argument of type '", c.type_name(), "' is not iterable");
  return false;
}

List iterate(const Value& v) {
  if (v.is_undefined()) return {};
  if (v.is_list()) return v.list();
  if (v.is_dict()) {
    List keys;
    for (const auto& kv : v.dict().items) keys.emplace_back(kv.first);
    return keys;
  }
  if (v.is_string()) {
    List chars;
    for (char32_t c : to_u32(v.as_string()))
      chars.emplace_back(from_u32(std::u32string_view(&c, 1)));
    return chars;
  }
  KILN_REQUIRE(false, "'", v.type_name(), "' object is not iterable");
  return {};
}

Value binary_op(const std::string& op, const Value& a, const Value& b) {
  bool an = a.is_number() || a.is_bool(), bn = b.is_number() || b.is_bool();
  bool ints = (a.is_int() || a.is_bool()) && (b.is_int() || b.is_bool());
  if (op == "~") return Value(a.str() + b.str());
  if (op == "+") {
    if (a.is_string() && b.is_string()) return Value(a.as_string() + b.as_string());
    if (a.is_list() && b.is_list()) {
      List l = a.list();
      l.insert(l.end(), b.list().begin(), b.list().end());
      return Value(std::move(l));
    }
  }
  if (op == "*" && (a.is_string() || a.is_list()) && (b.is_int() || b.is_bool())) {
    if (a.is_string()) {
      std::string out;
      for (int64_t i = 0; i < b.as_int(); ++i) out += a.as_string();
      return Value(out);
    }
    List l;
    for (int64_t i = 0; i < b.as_int(); ++i) l.insert(l.end(), a.list().begin(), a.list().end());
    return Value(std::move(l));
  }
  KILN_REQUIRE(an && bn, "unsupported operand type(s) for ", op, ": '", a.type_name(), "' and '",
               b.type_name(), "'");
  double x = a.as_number(), y = b.as_number();
  if (op == "+") return ints ? Value(a.as_int() + b.as_int()) : Value(x + y);
  if (op == "-") return ints ? Value(a.as_int() - b.as_int()) : Value(x - y);
  if (op == "*") return ints ? Value(a.as_int() * b.as_int()) : Value(x * y);
  KILN_REQUIRE(op == "**" || y != 0, "division by zero");
  if (op == "/") return Value(x / y);
  if (op == "//") {
    if (!ints) return Value(std::floor(x / y));
    int64_t q = a.as_int() / b.as_int();
    if ((a.as_int() % b.as_int() != 0) && ((a.as_int() < 0) != (b.as_int() < 0))) --q;
    return Value(q);
  }
  if (op == "%") {
    if (!ints) return Value(x - y * std::floor(x / y));
    int64_t r = a.as_int() % b.as_int();
    if (r != 0 && ((r < 0) != (b.as_int() < 0))) r += b.as_int();
    return Value(r);
  }
  if (ints && b.as_int() >= 0) {
    int64_t r = 1;
    for (int64_t i = 0; i < b.as_int(); ++i) r *= a.as_int();
    return Value(r);
  }
  return Value(std::pow(x, y));
}

void add_globals(Dict& g) {
  g.set("range", Value::function([](CallArgs& a) {
          KILN_REQUIRE(!a.positional.empty() && a.positional.size() <= 3,
                       "range() takes 1 to 3 integers");
          int64_t start = 0, stop, step = 1;
          if (a.positional.size() == 1) {
            stop = need_int(a.positional[0], "range");
          } else {
            start = need_int(a.positional[0], "range");
            stop = need_int(a.positional[1], "range");
            if (a.positional.size() == 3) step = need_int(a.positional[2], "range");
          }
          KILN_REQUIRE(step != 0, "range() step must not be zero");
          KILN_REQUIRE(std::abs((stop - start) / step) < 10000000, "range() too long");
          List out;
          for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.emplace_back(i);
          return Value(std::move(out));
        }));
  g.set("namespace", Value::function([](CallArgs& a) {
          Dict d;
          d.is_namespace = true;
          for (const Value& p : a.positional)
            if (p.is_dict())
              for (const auto& [k, v] : p.dict().items) d.set(k, v);
          for (const auto& [k, v] : a.keyword) d.set(k, v);
          return Value(std::move(d));
        }));
  g.set("dict", Value::function([](CallArgs& a) {
          Dict d;
          for (const auto& [k, v] : a.keyword) d.set(k, v);
          return Value(std::move(d));
        }));
  g.set("raise_exception", Value::function([](CallArgs& a) -> Value {
          throw Error("chat template raised an exception: " +
                      (a.positional.empty() ? std::string() : a.positional[0].str()));
        }));
  g.set("strftime_now", Value::function([](CallArgs& a) {
          std::time_t now = std::time(nullptr);
          std::tm tm{};
          localtime_r(&now, &tm);
          char buf[256];
          size_t n = std::strftime(
              buf, sizeof buf,
              need_string(arg(a, 0, "format", Value::none()), "strftime_now").c_str(), &tm);
          return Value(std::string(buf, n));
        }));
}

}  // namespace kiln::tokenizer::jinja
