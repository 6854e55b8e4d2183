// Recursive-descent parser for the Jinja2 subset chat templates use, with Jinja2's operator
// precedence: conditional < or < and < not < comparison < + - < ~ < * / // % < ** < unary minus
// < primary with .attr, [item], (call), | filter and `is` test.
#include <set>

#include "kiln/core/error.h"
#include "kiln/tokenizer/jinja_ast.h"
#include "kiln/tokenizer/jinja_lexer.h"

namespace kiln::tokenizer::jinja {

namespace {

using K = Token::Kind;

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  Body parse_all() {
    std::string ended;
    Body b = body({}, ended);
    return b;
  }

 private:
  [[noreturn]] void fail(const std::string& msg) const {
    throw Error(str("chat template line ", cur().line, ": ", msg));
  }
  const Token& cur() const { return t_[i_]; }
  const Token& ahead(size_t k) const { return t_[std::min(i_ + k, t_.size() - 1)]; }
  bool op(const char* o) const { return cur().kind == K::kOp && cur().text == o; }
  bool name(const char* n) const { return cur().kind == K::kName && cur().text == n; }
  void expect_op(const char* o) {
    if (!op(o)) fail(str("expected '", o, "', found '", cur().text, "'"));
    ++i_;
  }
  void expect_name(const char* n) {
    if (!name(n)) fail(str("expected '", n, "', found '", cur().text, "'"));
    ++i_;
  }
  std::string take_name() {
    if (cur().kind != K::kName) fail(str("expected a name, found '", cur().text, "'"));
    return t_[i_++].text;
  }
  void end_tag() {
    if (cur().kind != K::kBlockEnd) fail(str("expected '%}', found '", cur().text, "'"));
    ++i_;
  }

  ExprPtr make(Expr::Kind k) {
    auto e = std::make_unique<Expr>();
    e->kind = k;
    e->line = cur().line;
    return e;
  }

  // Statements until a block tag named in `ends`; consumes `{% end-name` and reports it.
  Body body(const std::set<std::string>& ends, std::string& ended) {
    Body out;
    while (true) {
      const Token& t = cur();
      if (t.kind == K::kEnd) {
        if (!ends.empty()) fail(str("missing {% ", *ends.rbegin(), " %}"));
        return out;
      }
      if (t.kind == K::kText) {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kText;
        s->line = t.line;
        s->text = t.text;
        out.push_back(std::move(s));
        ++i_;
      } else if (t.kind == K::kVarBegin) {
        ++i_;
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kOutput;
        s->line = t.line;
        s->exprs.push_back(tuple_or_expr(true));
        if (cur().kind != K::kVarEnd) fail(str("expected '}}', found '", cur().text, "'"));
        ++i_;
        out.push_back(std::move(s));
      } else if (t.kind == K::kBlockBegin) {
        const Token& kw = ahead(1);
        if (kw.kind == K::kName && ends.count(kw.text)) {
          i_ += 2;
          ended = kw.text;
          return out;
        }
        ++i_;
        statement(out);
      } else {
        fail(str("unexpected '", t.text, "'"));
      }
    }
  }

  void statement(Body& out) {
    int line = cur().line;
    std::string kw = take_name();
    auto s = std::make_unique<Stmt>();
    s->line = line;
    std::string ended;
    if (kw == "if") {
      s->kind = Stmt::Kind::kIf;
      s->exprs.push_back(expression());
      end_tag();
      s->bodies.push_back(body({"elif", "else", "endif"}, ended));
      while (ended == "elif") {
        s->exprs.push_back(expression());
        end_tag();
        s->bodies.push_back(body({"elif", "else", "endif"}, ended));
      }
      if (ended == "else") {
        end_tag();
        s->bodies.push_back(body({"endif"}, ended));
      }
      end_tag();
    } else if (kw == "for") {
      s->kind = Stmt::Kind::kFor;
      s->targets.push_back(take_name());
      while (op(",")) {
        ++i_;
        s->targets.push_back(take_name());
      }
      expect_name("in");
      s->exprs.push_back(tuple_or_expr(false));
      s->exprs.push_back(nullptr);
      if (name("if")) {
        ++i_;
        s->exprs[1] = expression();
      }
      if (name("recursive")) fail("recursive for loops are not supported");
      end_tag();
      s->bodies.push_back(body({"else", "endfor"}, ended));
      if (ended == "else") {
        end_tag();
        s->bodies.push_back(body({"endfor"}, ended));
      }
      end_tag();
    } else if (kw == "set") {
      s->targets.push_back(take_name());
      if (op(".")) {
        ++i_;
        s->attr = take_name();
      }
      while (op(",")) {
        ++i_;
        s->targets.push_back(take_name());
      }
      if (op("=")) {
        ++i_;
        s->kind = Stmt::Kind::kSet;
        s->exprs.push_back(tuple_or_expr(true));
        end_tag();
      } else {
        if (s->targets.size() != 1 || !s->attr.empty()) fail("a block set takes one name");
        s->kind = Stmt::Kind::kSetBlock;
        end_tag();
        s->bodies.push_back(body({"endset"}, ended));
        end_tag();
      }
    } else if (kw == "macro") {
      s->kind = Stmt::Kind::kMacro;
      s->name = take_name();
      expect_op("(");
      while (!op(")")) {
        s->targets.push_back(take_name());
        if (op("=")) {
          ++i_;
          s->defaults.push_back(expression());
        } else {
          s->defaults.push_back(nullptr);
        }
        if (!op(")")) expect_op(",");
      }
      ++i_;
      end_tag();
      s->bodies.push_back(body({"endmacro"}, ended));
      end_tag();
    } else if (kw == "break" || kw == "continue") {
      s->kind = kw == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue;
      end_tag();
    } else if (kw == "filter") {
      s->kind = Stmt::Kind::kFilterBlock;
      auto placeholder = make(Expr::Kind::kName);
      placeholder->name = " filter body";
      s->filter = filter(std::move(placeholder));
      end_tag();
      s->bodies.push_back(body({"endfilter"}, ended));
      end_tag();
    } else if (kw == "generation") {
      // transformers' {% generation %} marks assistant text for masks; it renders its body.
      end_tag();
      Body inner = body({"endgeneration"}, ended);
      end_tag();
      for (auto& x : inner) out.push_back(std::move(x));
      return;
    } else {
      fail(str("unknown or unsupported tag '", kw, "'"));
    }
    out.push_back(std::move(s));
  }

  // An expression, or a tuple of them separated by commas (for loops, set, output).
  ExprPtr tuple_or_expr(bool with_cond) {
    ExprPtr first = with_cond ? expression() : or_expr();
    if (!op(",")) return first;
    auto t = make(Expr::Kind::kTuple);
    t->args.push_back(std::move(first));
    while (op(",")) {
      ++i_;
      if (cur().kind == K::kBlockEnd || cur().kind == K::kVarEnd || name("if")) break;
      t->args.push_back(with_cond ? expression() : or_expr());
    }
    return t;
  }

  ExprPtr expression() {
    ExprPtr a = or_expr();
    while (name("if")) {
      ++i_;
      auto c = make(Expr::Kind::kCond);
      c->args.push_back(or_expr());
      c->args.push_back(std::move(a));
      if (name("else")) {
        ++i_;
        c->args.push_back(expression());
      } else {
        c->args.push_back(nullptr);
      }
      a = std::move(c);
    }
    return a;
  }

  ExprPtr binary_chain(Expr::Kind k, const char* word, ExprPtr (Parser::*next)()) {
    ExprPtr a = (this->*next)();
    while (name(word)) {
      ++i_;
      auto e = make(k);
      e->args.push_back(std::move(a));
      e->args.push_back((this->*next)());
      a = std::move(e);
    }
    return a;
  }
  ExprPtr or_expr() { return binary_chain(Expr::Kind::kOr, "or", &Parser::and_expr); }
  ExprPtr and_expr() { return binary_chain(Expr::Kind::kAnd, "and", &Parser::not_expr); }

  ExprPtr not_expr() {
    if (name("not")) {
      auto e = make(Expr::Kind::kNot);
      ++i_;
      e->args.push_back(not_expr());
      return e;
    }
    return compare();
  }

  ExprPtr compare() {
    ExprPtr a = math1();
    std::unique_ptr<Expr> c;
    while (true) {
      std::string o;
      if (cur().kind == K::kOp && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                   cur().text == "<=" || cur().text == ">" || cur().text == ">=")) {
        o = cur().text;
        ++i_;
      } else if (name("in")) {
        o = "in";
        ++i_;
      } else if (name("not") && ahead(1).kind == K::kName && ahead(1).text == "in") {
        o = "not in";
        i_ += 2;
      } else {
        break;
      }
      if (!c) {
        c = make(Expr::Kind::kCompare);
        c->args.push_back(std::move(a));
      }
      c->ops.push_back(o);
      c->args.push_back(math1());
    }
    return c ? std::move(c) : std::move(a);
  }

  ExprPtr binary_ops(std::initializer_list<const char*> ops, ExprPtr (Parser::*next)()) {
    ExprPtr a = (this->*next)();
    while (cur().kind == K::kOp) {
      const char* found = nullptr;
      for (const char* o : ops)
        if (cur().text == o) found = o;
      if (!found) break;
      auto e = make(Expr::Kind::kBinary);
      e->name = found;
      ++i_;
      e->args.push_back(std::move(a));
      e->args.push_back((this->*next)());
      a = std::move(e);
    }
    return a;
  }
  ExprPtr math1() { return binary_ops({"+", "-"}, &Parser::concat); }
  ExprPtr concat() { return binary_ops({"~"}, &Parser::math2); }
  ExprPtr math2() { return binary_ops({"*", "/", "//", "%"}, &Parser::pow_expr); }
  ExprPtr pow_expr() { return binary_ops({"**"}, &Parser::unary_filtered); }
  ExprPtr unary_filtered() { return unary(true); }

  ExprPtr unary(bool with_filter) {
    ExprPtr node;
    if (op("-")) {
      node = make(Expr::Kind::kNeg);
      ++i_;
      node->args.push_back(unary(false));
    } else if (op("+")) {
      ++i_;
      node = unary(false);
    } else {
      node = primary();
    }
    node = postfix(std::move(node));
    if (with_filter) node = filters_and_tests(std::move(node));
    return node;
  }

  ExprPtr literal(Value v) {
    auto e = make(Expr::Kind::kLiteral);
    e->value = std::move(v);
    ++i_;
    return e;
  }

  ExprPtr primary() {
    const Token& t = cur();
    switch (t.kind) {
      case K::kName:
        if (t.text == "true" || t.text == "True") return literal(Value(true));
        if (t.text == "false" || t.text == "False") return literal(Value(false));
        if (t.text == "none" || t.text == "None") return literal(Value::none());
        {
          auto e = make(Expr::Kind::kName);
          e->name = t.text;
          ++i_;
          return e;
        }
      case K::kString: {
        std::string s;
        while (cur().kind == K::kString) s += t_[i_++].text;  // adjacent literals concatenate
        auto e = make(Expr::Kind::kLiteral);
        e->value = Value(std::move(s));
        return e;
      }
      case K::kInt:
        try {
          return literal(Value(int64_t(std::stoll(t.text))));
        } catch (const std::exception&) {
          fail(str("integer literal ", t.text, " out of range"));
        }
      case K::kFloat:
        return literal(Value(std::stod(t.text)));
      case K::kOp:
        if (t.text == "(") {
          ++i_;
          if (op(")")) {
            ++i_;
            return make(Expr::Kind::kTuple);
          }
          ExprPtr e = tuple_or_expr(true);
          expect_op(")");
          return e;
        }
        if (t.text == "[") {
          auto e = make(Expr::Kind::kList);
          ++i_;
          while (!op("]")) {
            e->args.push_back(expression());
            if (!op("]")) expect_op(",");
          }
          ++i_;
          return e;
        }
        if (t.text == "{") {
          auto e = make(Expr::Kind::kDict);
          ++i_;
          while (!op("}")) {
            e->args.push_back(expression());
            expect_op(":");
            e->args.push_back(expression());
            if (!op("}")) expect_op(",");
          }
          ++i_;
          return e;
        }
        break;
      default:
        break;
    }
    fail(str("unexpected '", t.text.empty() ? "end of tag" : t.text, "' in an expression"));
  }

  void call_args(Expr& e) {
    expect_op("(");
    while (!op(")")) {
      if (cur().kind == K::kName && ahead(1).kind == K::kOp && ahead(1).text == "=") {
        std::string k = take_name();
        ++i_;
        e.kwargs.emplace_back(k, expression());
      } else {
        e.args.push_back(expression());
      }
      if (!op(")")) expect_op(",");
    }
    ++i_;
  }

  ExprPtr postfix(ExprPtr node) {
    while (true) {
      if (op(".")) {
        ++i_;
        if (cur().kind == K::kInt) {
          auto e = make(Expr::Kind::kItem);
          e->args.push_back(std::move(node));
          e->args.push_back(literal(Value(int64_t(std::stoll(cur().text)))));
          node = std::move(e);
          continue;
        }
        auto e = make(Expr::Kind::kAttr);
        e->name = take_name();
        e->args.push_back(std::move(node));
        node = std::move(e);
      } else if (op("[")) {
        ++i_;
        node = subscript(std::move(node));
      } else if (op("(")) {
        auto e = make(Expr::Kind::kCall);
        e->args.push_back(std::move(node));
        call_args(*e);
        node = std::move(e);
      } else {
        return node;
      }
    }
  }

  ExprPtr subscript(ExprPtr obj) {
    ExprPtr parts[3];
    int colons = 0;
    for (int k = 0; k < 3; ++k) {
      if (!op(":") && !op("]")) parts[k] = expression();
      if (op(":") && colons < 2) {
        ++i_;
        ++colons;
        continue;
      }
      break;
    }
    expect_op("]");
    if (colons == 0) {
      if (!parts[0]) fail("empty subscript");
      auto e = make(Expr::Kind::kItem);
      e->args.push_back(std::move(obj));
      e->args.push_back(std::move(parts[0]));
      return e;
    }
    auto e = make(Expr::Kind::kSlice);
    e->args.push_back(std::move(obj));
    for (auto& p : parts) e->args.push_back(std::move(p));
    return e;
  }

  ExprPtr filter(ExprPtr subject) {
    auto e = make(Expr::Kind::kFilter);
    e->name = take_name();
    while (op(".")) {
      ++i_;
      e->name += '.';
      e->name += take_name();
    }
    e->args.push_back(std::move(subject));
    if (op("(")) call_args(*e);
    return e;
  }

  ExprPtr filters_and_tests(ExprPtr node) {
    while (true) {
      if (op("|")) {
        ++i_;
        node = filter(std::move(node));
      } else if (name("is")) {
        ++i_;
        auto e = make(Expr::Kind::kTest);
        if (name("not")) {
          ++i_;
          e->negated = true;
        }
        e->name = take_name();
        e->args.push_back(std::move(node));
        const Token& t = cur();
        if (op("(")) {
          call_args(*e);
        } else if ((t.kind == K::kName && t.text != "else" && t.text != "or" && t.text != "and" &&
                    t.text != "if" && t.text != "is" && t.text != "in" && t.text != "not") ||
                   t.kind == K::kString || t.kind == K::kInt || t.kind == K::kFloat || op("[") ||
                   op("{")) {
          e->args.push_back(postfix(primary()));
        }
        node = std::move(e);
      } else if (op("(")) {
        auto e = make(Expr::Kind::kCall);
        e->args.push_back(std::move(node));
        call_args(*e);
        node = std::move(e);
      } else {
        return node;
      }
    }
  }

  std::vector<Token> t_;
  size_t i_ = 0;
};

}  // namespace

std::shared_ptr<Template> parse_template(const std::string& source) {
  auto t = std::make_shared<Template>();
  t->body = Parser(lex_template(source)).parse_all();
  return t;
}

}  // namespace kiln::tokenizer::jinja
