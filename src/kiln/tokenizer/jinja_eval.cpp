// Runs a parsed chat template: scopes (a for-loop body is its own scope, as in Jinja2, which is
// why templates carry state out of loops in a namespace()), loop variables, macros, filters
// and tests.
#include <unordered_map>

#include "kiln/core/error.h"
#include "kiln/tokenizer/jinja_ast.h"

namespace kiln::tokenizer::jinja {

namespace {

enum class Flow { kNormal, kBreak, kContinue };

class Renderer {
 public:
  explicit Renderer(const Dict& vars) {
    scopes_.emplace_back();
    Dict globals;
    add_globals(globals);
    for (auto& [k, v] : globals.items) scopes_[0][k] = v;
    for (const auto& [k, v] : vars.items) scopes_[0][k] = v;
  }

  Flow exec(const Body& body, std::string& out) {
    for (const auto& s : body) {
      Flow f = exec(*s, out);
      if (f != Flow::kNormal) return f;
    }
    return Flow::kNormal;
  }

 private:
  using Scope = std::unordered_map<std::string, Value>;

  [[noreturn]] static void fail(int line, const std::string& msg) {
    throw Error(str("chat template line ", line, ": ", msg));
  }

  // Runs fn, adding the line to errors from built-ins.
  template <class Fn>
  static auto at_line(int line, Fn fn) -> decltype(fn()) {
    try {
      return fn();
    } catch (const Error& e) {
      std::string msg = e.what();
      if (msg.rfind("chat template", 0) == 0) throw;
      fail(line, msg);
    }
  }

  Value lookup(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = it->find(name);
      if (f != it->end()) return f->second;
    }
    return Value::undefined(name);
  }
  void assign(const std::string& name, Value v) { scopes_.back()[name] = std::move(v); }

  void assign_targets(const std::vector<std::string>& targets, const Value& v, int line) {
    if (targets.size() == 1) return assign(targets[0], v);
    if (!v.is_list() || v.list().size() != targets.size())
      fail(line, str("cannot unpack ", v.type_name(), " into ", targets.size(), " names"));
    for (size_t i = 0; i < targets.size(); ++i) assign(targets[i], v.list()[i]);
  }

  Flow exec(const Stmt& s, std::string& out) {
    switch (s.kind) {
      case Stmt::Kind::kText:
        out += s.text;
        return Flow::kNormal;
      case Stmt::Kind::kOutput:
        out += eval(*s.exprs[0]).str();
        return Flow::kNormal;
      case Stmt::Kind::kIf:
        for (size_t i = 0; i < s.bodies.size(); ++i)
          if (i >= s.exprs.size() || eval(*s.exprs[i]).truthy()) return exec(s.bodies[i], out);
        return Flow::kNormal;
      case Stmt::Kind::kFor:
        return exec_for(s, out);
      case Stmt::Kind::kSet: {
        Value v = eval(*s.exprs[0]);
        if (s.attr.empty()) {
          assign_targets(s.targets, v, s.line);
        } else {
          Value ns = lookup(s.targets[0]);
          if (!ns.is_dict() || !ns.dict().is_namespace)
            fail(s.line, str("cannot set '", s.attr, "' on ", ns.type_name(), " '", s.targets[0],
                             "' (only a namespace() takes attributes)"));
          ns.dict().set(s.attr, std::move(v));
        }
        return Flow::kNormal;
      }
      case Stmt::Kind::kSetBlock: {
        std::string text;
        exec(s.bodies[0], text);
        assign(s.targets[0], Value(std::move(text)));
        return Flow::kNormal;
      }
      case Stmt::Kind::kMacro:
        assign(s.name, macro(s));
        return Flow::kNormal;
      case Stmt::Kind::kBreak:
        return Flow::kBreak;
      case Stmt::Kind::kContinue:
        return Flow::kContinue;
      case Stmt::Kind::kFilterBlock: {
        std::string text;
        exec(s.bodies[0], text);
        scopes_.emplace_back();
        assign(" filter body", Value(std::move(text)));
        Value r = eval(*s.filter);
        scopes_.pop_back();
        out += r.str();
        return Flow::kNormal;
      }
    }
    return Flow::kNormal;
  }

  Flow exec_for(const Stmt& s, std::string& out) {
    Value seq = eval(*s.exprs[0]);
    List all = at_line(s.line, [&] { return iterate(seq); });
    List items;
    if (s.exprs[1]) {
      for (const Value& v : all) {
        scopes_.emplace_back();
        assign_targets(s.targets, v, s.line);
        bool keep = eval(*s.exprs[1]).truthy();
        scopes_.pop_back();
        if (keep) items.push_back(v);
      }
    } else {
      items = std::move(all);
    }
    if (items.empty()) {
      if (s.bodies.size() > 1) return exec(s.bodies[1], out);
      return Flow::kNormal;
    }
    int64_t n = int64_t(items.size());
    for (int64_t i = 0; i < n; ++i) {
      scopes_.emplace_back();
      Dict loop;
      loop.set("index", Value(i + 1));
      loop.set("index0", Value(i));
      loop.set("revindex", Value(n - i));
      loop.set("revindex0", Value(n - i - 1));
      loop.set("first", Value(i == 0));
      loop.set("last", Value(i == n - 1));
      loop.set("length", Value(n));
      loop.set("depth", Value(1));
      loop.set("depth0", Value(0));
      loop.set("previtem", i > 0 ? items[size_t(i - 1)] : Value::undefined("previtem"));
      loop.set("nextitem", i + 1 < n ? items[size_t(i + 1)] : Value::undefined("nextitem"));
      loop.set("cycle", Value::function([i](CallArgs& a) -> Value {
                 KILN_REQUIRE(!a.positional.empty(), "loop.cycle() needs at least one value");
                 return a.positional[size_t(i) % a.positional.size()];
               }));
      assign("loop", Value(std::move(loop)));
      assign_targets(s.targets, items[size_t(i)], s.line);
      Flow f = exec(s.bodies[0], out);
      scopes_.pop_back();
      if (f == Flow::kBreak) break;
    }
    return Flow::kNormal;
  }

  Value macro(const Stmt& s) {
    const Stmt* def = &s;
    return Value::function([this, def](CallArgs& a) -> Value {
      if (a.positional.size() > def->targets.size())
        fail(def->line, str("macro '", def->name, "' takes ", def->targets.size(),
                            " arguments, got ", a.positional.size()));
      scopes_.emplace_back();
      for (size_t i = 0; i < def->targets.size(); ++i) {
        const Value* kw = a.kw(def->targets[i]);
        if (i < a.positional.size())
          assign(def->targets[i], a.positional[i]);
        else if (kw)
          assign(def->targets[i], *kw);
        else if (def->defaults[i])
          assign(def->targets[i], eval(*def->defaults[i]));
        else
          assign(def->targets[i], Value::undefined(def->targets[i]));
      }
      std::string text;
      exec(def->bodies[0], text);
      scopes_.pop_back();
      return Value(std::move(text));
    });
  }

  CallArgs args_of(const Expr& e, size_t first) {
    CallArgs a;
    for (size_t i = first; i < e.args.size(); ++i) a.positional.push_back(eval(*e.args[i]));
    for (const auto& [k, x] : e.kwargs) a.keyword.emplace_back(k, eval(*x));
    return a;
  }

  Value eval(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kLiteral:
        return e.value;
      case Expr::Kind::kName:
        return lookup(e.name);
      case Expr::Kind::kAttr: {
        Value obj = eval(*e.args[0]);
        return at_line(e.line, [&] { return get_attribute(obj, e.name); });
      }
      case Expr::Kind::kItem: {
        Value obj = eval(*e.args[0]), key = eval(*e.args[1]);
        return at_line(e.line, [&] { return get_item(obj, key); });
      }
      case Expr::Kind::kSlice: {
        Value obj = eval(*e.args[0]);
        Value p[3];
        for (int k = 0; k < 3; ++k)
          p[k] = e.args[size_t(k) + 1] ? eval(*e.args[size_t(k) + 1]) : Value::none();
        return at_line(e.line, [&] { return slice(obj, p[0], p[1], p[2]); });
      }
      case Expr::Kind::kCall: {
        Value f = eval(*e.args[0]);
        if (!f.is_function()) {
          std::string what = e.args[0]->kind == Expr::Kind::kName   ? e.args[0]->name
                             : e.args[0]->kind == Expr::Kind::kAttr ? e.args[0]->name
                                                                    : "value";
          fail(e.line, f.is_undefined()
                           ? str("'", what, "' is undefined")
                           : str("'", what, "' (", f.type_name(), ") is not callable"));
        }
        CallArgs a = args_of(e, 1);
        return at_line(e.line, [&] { return f.fn()(a); });
      }
      case Expr::Kind::kFilter: {
        Value subject = eval(*e.args[0]);
        CallArgs a = args_of(e, 1);
        return at_line(e.line, [&] { return apply_filter(e.name, subject, a); });
      }
      case Expr::Kind::kTest: {
        Value subject = e.name == "defined" || e.name == "undefined" ? eval_quiet(*e.args[0])
                                                                     : eval(*e.args[0]);
        CallArgs a = args_of(e, 1);
        bool r = at_line(e.line, [&] { return apply_test(e.name, subject, a); });
        return Value(e.negated ? !r : r);
      }
      case Expr::Kind::kNeg: {
        Value v = eval(*e.args[0]);
        if (v.is_int() || v.is_bool()) return Value(-v.as_int());
        if (v.is_float()) return Value(-v.as_number());
        fail(e.line, str("bad operand type for unary -: '", v.type_name(), "'"));
      }
      case Expr::Kind::kNot:
        return Value(!eval(*e.args[0]).truthy());
      case Expr::Kind::kAnd: {
        Value a = eval(*e.args[0]);
        return a.truthy() ? eval(*e.args[1]) : a;
      }
      case Expr::Kind::kOr: {
        Value a = eval(*e.args[0]);
        return a.truthy() ? a : eval(*e.args[1]);
      }
      case Expr::Kind::kBinary: {
        Value a = eval(*e.args[0]), b = eval(*e.args[1]);
        return at_line(e.line, [&] { return binary_op(e.name, a, b); });
      }
      case Expr::Kind::kCompare:
        return compare(e);
      case Expr::Kind::kCond:
        if (eval(*e.args[0]).truthy()) return eval(*e.args[1]);
        return e.args[2] ? eval(*e.args[2]) : Value::undefined();
      case Expr::Kind::kList:
      case Expr::Kind::kTuple: {
        List l;
        for (const auto& x : e.args) l.push_back(eval(*x));
        return Value(std::move(l));
      }
      case Expr::Kind::kDict: {
        Dict d;
        for (size_t i = 0; i + 1 < e.args.size(); i += 2) {
          Value k = eval(*e.args[i]);
          if (!k.is_string()) fail(e.line, "dict keys must be strings");
          d.set(k.as_string(), eval(*e.args[i + 1]));
        }
        return Value(std::move(d));
      }
    }
    return Value::undefined();
  }

  // For `is defined`: an attribute or item of something undefined is undefined, not an error.
  Value eval_quiet(const Expr& e) {
    if (e.kind == Expr::Kind::kAttr || e.kind == Expr::Kind::kItem) {
      Value obj = eval_quiet(*e.args[0]);
      if (obj.is_undefined()) return obj;
    }
    return eval(e);
  }

  Value compare(const Expr& e) {
    Value left = eval(*e.args[0]);
    for (size_t i = 0; i < e.ops.size(); ++i) {
      Value right = eval(*e.args[i + 1]);
      const std::string& o = e.ops[i];
      bool r = at_line(e.line, [&] {
        if (o == "==") return left == right;
        if (o == "!=") return !(left == right);
        if (o == "<") return less(left, right);
        if (o == ">") return less(right, left);
        if (o == "<=") return !less(right, left);
        if (o == ">=") return !less(left, right);
        if (o == "in") return contains(right, left);
        return !contains(right, left);
      });
      if (!r) return Value(false);
      left = std::move(right);
    }
    return Value(true);
  }

  std::vector<Scope> scopes_;
};

}  // namespace

std::string render_template(const Template& t, const Dict& vars) {
  Renderer r(vars);
  std::string out;
  r.exec(t.body, out);
  return out;
}

}  // namespace kiln::tokenizer::jinja
