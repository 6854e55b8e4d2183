// Jinja2's filters and tests, with Jinja2's argument names and defaults.
#include <algorithm>
#include <cmath>
#include <functional>
#include <unordered_map>

#include "kiln/core/error.h"
#include "kiln/tokenizer/jinja_ast.h"
#include "kiln/tokenizer/unicode.h"
#include "kiln/tokenizer/utf8.h"

namespace kiln::tokenizer::jinja {

namespace {

using FilterFn = std::function<Value(const Value&, CallArgs&)>;
using TestFn = std::function<bool(const Value&, CallArgs&)>;

// Copies: the default is often a temporary.
Value arg(CallArgs& a, size_t i, const char* name, const Value& dflt) {
  if (i < a.positional.size()) return a.positional[i];
  if (const Value* v = a.kw(name)) return *v;
  return dflt;
}

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

Value call_method(const Value& obj, const char* name, CallArgs a = {}) {
  return get_attribute(obj, name).fn()(a);
}

// Jinja's attribute getter: "a.b.0" looks up a, then b, then item 0.
Value attr_path(const Value& v, const std::string& path) {
  Value cur = v;
  size_t i = 0;
  while (i <= path.size()) {
    size_t dot = path.find('.', i);
    std::string part = path.substr(i, dot == std::string::npos ? std::string::npos : dot - i);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), ::isdigit);
    cur = digits ? get_item(cur, Value(int64_t(std::stoll(part)))) : get_item(cur, Value(part));
    if (dot == std::string::npos) break;
    i = dot + 1;
  }
  return cur;
}

// Runs the test named by args[first] with the arguments after it; no name means truthiness.
bool run_test(const Value& v, CallArgs& a, size_t first) {
  if (a.positional.size() <= first) return v.truthy();
  CallArgs rest;
  rest.positional.assign(a.positional.begin() + std::ptrdiff_t(first) + 1, a.positional.end());
  return apply_test(a.positional[first].str(), v, rest);
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Value sort_key(const Value& v, const Value& attribute, bool case_sensitive) {
  Value k = attribute.is_string() ? attr_path(v, attribute.as_string()) : v;
  if (!case_sensitive && k.is_string()) return Value(to_lower(k.as_string()));
  return k;
}

const std::unordered_map<std::string, FilterFn>& filters() {
  static const std::unordered_map<std::string, FilterFn> f = [] {
    std::unordered_map<std::string, FilterFn> m;
    m["length"] = [](const Value& v, CallArgs&) -> Value {
      if (v.is_undefined()) return Value(int64_t(0));
      if (v.is_string()) return Value(int64_t(code_points(v.as_string())));
      if (v.is_list()) return Value(int64_t(v.list().size()));
      if (v.is_dict()) return Value(int64_t(v.dict().items.size()));
      KILN_REQUIRE(false, "object of type '", v.type_name(), "' has no len()");
      return Value();
    };
    m["count"] = m["length"];
    m["tojson"] = [](const Value& v, CallArgs& a) {
      Value indent = arg(a, 0, "indent", Value::none());
      Value sort = arg(a, 3, "sort_keys", Value(false));
      KILN_REQUIRE(!a.kw("separators"), "tojson: separators= is not supported");
      return Value(v.to_json(indent.is_none() ? -1 : int(indent.as_int()), sort.truthy()));
    };
    m["trim"] = [](const Value& v, CallArgs& a) {
      CallArgs b;
      b.positional.push_back(arg(a, 0, "chars", Value::none()));
      return call_method(Value(v.str()), "strip", b);
    };
    m["upper"] = [](const Value& v, CallArgs&) { return Value(to_upper(v.str())); };
    m["lower"] = [](const Value& v, CallArgs&) { return Value(to_lower(v.str())); };
    m["title"] = [](const Value& v, CallArgs&) { return call_method(Value(v.str()), "title"); };
    m["capitalize"] = [](const Value& v, CallArgs&) {
      return call_method(Value(v.str()), "capitalize");
    };
    m["default"] = [](const Value& v, CallArgs& a) {
      bool boolean = arg(a, 1, "boolean", Value(false)).truthy();
      if (v.is_undefined() || (boolean && !v.truthy()))
        return arg(a, 0, "default_value", Value(""));
      return v;
    };
    m["d"] = m["default"];
    m["first"] = [](const Value& v, CallArgs&) {
      List l = iterate(v);
      return l.empty() ? Value::undefined("first") : l.front();
    };
    m["last"] = [](const Value& v, CallArgs&) {
      List l = iterate(v);
      return l.empty() ? Value::undefined("last") : l.back();
    };
    m["join"] = [](const Value& v, CallArgs& a) {
      std::string sep = arg(a, 0, "d", Value("")).str(), out;
      Value attribute = arg(a, 1, "attribute", Value::none());
      List l = iterate(v);
      for (size_t i = 0; i < l.size(); ++i)
        out += (i ? sep : "") +
               (attribute.is_string() ? attr_path(l[i], attribute.as_string()) : l[i]).str();
      return Value(out);
    };
    m["list"] = [](const Value& v, CallArgs&) { return Value(iterate(v)); };
    m["string"] = [](const Value& v, CallArgs&) { return Value(v.str()); };
    m["safe"] = [](const Value& v, CallArgs&) { return v; };
    m["escape"] = [](const Value& v, CallArgs&) { return Value(html_escape(v.str())); };
    m["e"] = m["escape"];
    m["int"] = [](const Value& v, CallArgs& a) -> Value {
      if (v.is_int() || v.is_bool()) return Value(v.as_int());
      if (v.is_float()) return Value(int64_t(v.as_number()));
      if (v.is_string()) {
        try {
          size_t used = 0;
          std::string s = v.as_string();
          int64_t r = std::stoll(s, &used, int(arg(a, 1, "base", Value(10)).as_int()));
          if (used == s.size()) return Value(r);
        } catch (const std::exception&) {
        }
      }
      return arg(a, 0, "default", Value(int64_t(0)));
    };
    m["float"] = [](const Value& v, CallArgs& a) -> Value {
      if (v.is_number() || v.is_bool()) return Value(v.as_number());
      if (v.is_string()) {
        try {
          size_t used = 0;
          double r = std::stod(v.as_string(), &used);
          if (used == v.as_string().size()) return Value(r);
        } catch (const std::exception&) {
        }
      }
      return arg(a, 0, "default", Value(0.0));
    };
    m["abs"] = [](const Value& v, CallArgs&) {
      return v.is_float() ? Value(std::fabs(v.as_number()))
                          : Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
    };
    m["round"] = [](const Value& v, CallArgs& a) {
      int64_t p = arg(a, 0, "precision", Value(0)).as_int();
      std::string method = arg(a, 1, "method", Value("common")).str();
      double scale = std::pow(10.0, double(p)), x = v.as_number() * scale;
      double r = method == "ceil"    ? std::ceil(x)
                 : method == "floor" ? std::floor(x)
                                     : std::round(x);
      return Value(r / scale);
    };
    m["replace"] = [](const Value& v, CallArgs& a) {
      CallArgs b;
      b.positional = {arg(a, 0, "old", Value("")), arg(a, 1, "new", Value("")),
                      arg(a, 2, "count", Value(-1))};
      if (b.positional[2].is_none()) b.positional[2] = Value(-1);
      return call_method(Value(v.str()), "replace", b);
    };
    m["reverse"] = [](const Value& v, CallArgs&) {
      List l = iterate(v);
      std::reverse(l.begin(), l.end());
      if (!v.is_string()) return Value(l);
      std::string s;
      for (const Value& c : l) s += c.as_string();
      return Value(s);
    };
    m["items"] = [](const Value& v, CallArgs&) {
      if (v.is_undefined()) return Value(List{});
      KILN_REQUIRE(v.is_dict(), "items: expected a mapping, found ", v.type_name());
      return call_method(v, "items");
    };
    m["attr"] = [](const Value& v, CallArgs& a) {
      return get_attribute(v, arg(a, 0, "name", Value("")).str());
    };
    m["map"] = [](const Value& v, CallArgs& a) {
      List out;
      const Value* attribute = a.kw("attribute");
      for (const Value& x : iterate(v)) {
        if (attribute) {
          Value r = attr_path(x, attribute->str());
          const Value* dflt = a.kw("default");
          out.push_back(r.is_undefined() && dflt ? *dflt : r);
        } else {
          KILN_REQUIRE(!a.positional.empty(), "map: expected a filter name or attribute=");
          CallArgs rest;
          rest.positional.assign(a.positional.begin() + 1, a.positional.end());
          out.push_back(apply_filter(a.positional[0].str(), x, rest));
        }
      }
      return Value(out);
    };
    auto select = [](bool keep, bool by_attr) {
      return [keep, by_attr](const Value& v, CallArgs& a) {
        List out;
        for (const Value& x : iterate(v)) {
          Value subject = by_attr ? attr_path(x, arg(a, 0, "attribute", Value("")).str()) : x;
          if (run_test(subject, a, by_attr ? 1 : 0) == keep) out.push_back(x);
        }
        return Value(out);
      };
    };
    m["select"] = select(true, false);
    m["reject"] = select(false, false);
    m["selectattr"] = select(true, true);
    m["rejectattr"] = select(false, true);
    m["unique"] = [](const Value& v, CallArgs& a) {
      bool cs = arg(a, 0, "case_sensitive", Value(false)).truthy();
      Value attribute = arg(a, 1, "attribute", Value::none());
      List out, keys;
      for (const Value& x : iterate(v)) {
        Value k = sort_key(x, attribute, cs);
        if (std::find(keys.begin(), keys.end(), k) != keys.end()) continue;
        keys.push_back(k);
        out.push_back(x);
      }
      return Value(out);
    };
    m["sort"] = [](const Value& v, CallArgs& a) {
      bool reverse = arg(a, 0, "reverse", Value(false)).truthy();
      bool cs = arg(a, 1, "case_sensitive", Value(false)).truthy();
      Value attribute = arg(a, 2, "attribute", Value::none());
      List l = iterate(v);
      std::stable_sort(l.begin(), l.end(), [&](const Value& x, const Value& y) {
        return reverse ? less(sort_key(y, attribute, cs), sort_key(x, attribute, cs))
                       : less(sort_key(x, attribute, cs), sort_key(y, attribute, cs));
      });
      return Value(l);
    };
    m["sum"] = [](const Value& v, CallArgs& a) {
      Value attribute = arg(a, 0, "attribute", Value::none());
      Value total = arg(a, 1, "start", Value(0));
      for (const Value& x : iterate(v))
        total =
            binary_op("+", total, attribute.is_string() ? attr_path(x, attribute.as_string()) : x);
      return total;
    };
    auto extreme = [](bool want_max) {
      return [want_max](const Value& v, CallArgs& a) {
        bool cs = arg(a, 0, "case_sensitive", Value(false)).truthy();
        Value attribute = arg(a, 1, "attribute", Value::none());
        List l = iterate(v);
        if (l.empty()) return Value::undefined();
        Value best = l[0];
        for (const Value& x : l) {
          bool better = want_max ? less(sort_key(best, attribute, cs), sort_key(x, attribute, cs))
                                 : less(sort_key(x, attribute, cs), sort_key(best, attribute, cs));
          if (better) best = x;
        }
        return best;
      };
    };
    m["max"] = extreme(true);
    m["min"] = extreme(false);
    m["indent"] = [](const Value& v, CallArgs& a) {
      Value w = arg(a, 0, "width", Value(4));
      std::string pad = w.is_string() ? w.as_string() : std::string(size_t(w.as_int()), ' ');
      bool first = arg(a, 1, "first", Value(false)).truthy();
      bool blank = arg(a, 2, "blank", Value(false)).truthy();
      std::string s = v.str(), out;
      size_t i = 0;
      bool first_line = true;
      while (true) {
        size_t nl = s.find('\n', i);
        std::string line = s.substr(i, nl == std::string::npos ? std::string::npos : nl - i);
        bool indent = (first_line ? first : true) && (blank || !line.empty());
        out += (indent ? pad : "") + line;
        if (nl == std::string::npos) break;
        out += '\n';
        i = nl + 1;
        first_line = false;
      }
      return Value(out);
    };
    m["wordcount"] = [](const Value& v, CallArgs&) {
      return Value(int64_t(call_method(Value(v.str()), "split").list().size()));
    };
    return m;
  }();
  return f;
}

const std::unordered_map<std::string, TestFn>& tests() {
  static const std::unordered_map<std::string, TestFn> t = [] {
    std::unordered_map<std::string, TestFn> m;
    auto other = [](CallArgs& a) { return arg(a, 0, "other", Value::none()); };
    m["defined"] = [](const Value& v, CallArgs&) { return !v.is_undefined(); };
    m["undefined"] = [](const Value& v, CallArgs&) { return v.is_undefined(); };
    m["none"] = [](const Value& v, CallArgs&) { return v.is_none(); };
    m["boolean"] = [](const Value& v, CallArgs&) { return v.is_bool(); };
    m["true"] = [](const Value& v, CallArgs&) { return v.is_bool() && v.as_bool(); };
    m["false"] = [](const Value& v, CallArgs&) { return v.is_bool() && !v.as_bool(); };
    m["integer"] = [](const Value& v, CallArgs&) { return v.is_int(); };
    m["float"] = [](const Value& v, CallArgs&) { return v.is_float(); };
    m["number"] = [](const Value& v, CallArgs&) { return v.is_number() || v.is_bool(); };
    m["string"] = [](const Value& v, CallArgs&) { return v.is_string(); };
    m["mapping"] = [](const Value& v, CallArgs&) { return v.is_dict(); };
    m["iterable"] = [](const Value& v, CallArgs&) {
      return v.is_list() || v.is_dict() || v.is_string() || v.is_undefined();
    };
    m["sequence"] = [](const Value& v, CallArgs&) {
      return v.is_list() || v.is_dict() || v.is_string();
    };
    m["callable"] = [](const Value& v, CallArgs&) { return v.is_function(); };
    m["odd"] = [](const Value& v, CallArgs&) { return v.is_int() && v.as_int() % 2 != 0; };
    m["even"] = [](const Value& v, CallArgs&) { return v.is_int() && v.as_int() % 2 == 0; };
    m["divisibleby"] = [](const Value& v, CallArgs& a) {
      int64_t n = arg(a, 0, "num", Value(1)).as_int();
      return n != 0 && v.as_int() % n == 0;
    };
    m["eq"] = [other](const Value& v, CallArgs& a) { return v == other(a); };
    m["equalto"] = m["=="] = m["eq"];
    m["ne"] = [other](const Value& v, CallArgs& a) { return !(v == other(a)); };
    m["!="] = m["ne"];
    m["lt"] = [other](const Value& v, CallArgs& a) { return less(v, other(a)); };
    m["lessthan"] = m["<"] = m["lt"];
    m["gt"] = [other](const Value& v, CallArgs& a) { return less(other(a), v); };
    m["greaterthan"] = m[">"] = m["gt"];
    m["le"] = [other](const Value& v, CallArgs& a) { return !less(other(a), v); };
    m["<="] = m["le"];
    m["ge"] = [other](const Value& v, CallArgs& a) { return !less(v, other(a)); };
    m[">="] = m["ge"];
    m["in"] = [](const Value& v, CallArgs& a) {
      return contains(arg(a, 0, "seq", Value::none()), v);
    };
    m["sameas"] = [other](const Value& v, CallArgs& a) {
      Value o = other(a);
      if (v.kind() != o.kind()) return false;
      if (v.is_list()) return &v.list() == &o.list();
      if (v.is_dict()) return &v.dict() == &o.dict();
      return v == o;
    };
    m["lower"] = [](const Value& v, CallArgs&) {
      return v.is_string() && to_lower(v.as_string()) == v.as_string();
    };
    m["upper"] = [](const Value& v, CallArgs&) {
      return v.is_string() && to_upper(v.as_string()) == v.as_string();
    };
    return m;
  }();
  return t;
}

}  // namespace

Value apply_filter(const std::string& name, const Value& subject, CallArgs& args) {
  auto it = filters().find(name);
  KILN_REQUIRE(it != filters().end(), "no filter named '", name, "'");
  return it->second(subject, args);
}

bool apply_test(const std::string& name, const Value& subject, CallArgs& args) {
  auto it = tests().find(name);
  KILN_REQUIRE(it != tests().end(), "no test named '", name, "'");
  return it->second(subject, args);
}

}  // namespace kiln::tokenizer::jinja
