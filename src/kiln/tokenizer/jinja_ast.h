#pragma once
// The syntax tree of a chat template: statements (text, output, if, for, set, macro, ...) and
// expressions. Built by jinja_parser.cpp, run by jinja_eval.cpp. Internal.
#include <memory>
#include <string>
#include <vector>

#include "kiln/tokenizer/jinja_value.h"

namespace kiln::tokenizer::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,  // value
    kName,     // name
    kAttr,     // a.name
    kItem,     // a[b]
    kSlice,    // a[b:c:d] (missing parts are null)
    kCall,     // a(args, kw=...)
    kFilter,   // a | name(args)
    kTest,     // a is [not] name(args)
    kNeg,      // -a
    kNot,      // not a
    kBinary,   // a op b: + - * / // % ** ~
    kAnd,      // a and b
    kOr,       // a or b
    kCompare,  // a op b [op c ...]: == != < <= > >= in, not in
    kCond,     // a if b else c
    kList,     // [a, b]
    kTuple,    // (a, b)
    kDict,     // {k: v}
  };
  Kind kind;
  int line = 0;
  Value value;                   // kLiteral
  std::string name;              // kName, kAttr, kFilter, kTest; the operator for kBinary
  std::vector<ExprPtr> args;     // operands, call/filter/test arguments, items
  std::vector<std::string> ops;  // kCompare operators
  std::vector<std::pair<std::string, ExprPtr>> kwargs;  // keyword arguments
  bool negated = false;                                 // kTest: is not
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Stmt {
  enum class Kind {
    kText,      // text
    kOutput,    // {{ expr }}
    kIf,        // conds[i] -> bodies[i]; a final body without a cond is else
    kFor,       // for targets in expr [if cond]: bodies[0], else bodies[1]
    kSet,       // set targets = expr, or set name.attr = expr (attr non-empty)
    kSetBlock,  // set name %} body {% endset
    kMacro,     // macro name(params) body
    kBreak,
    kContinue,
    kFilterBlock,  // filter name(args) body
  };
  Kind kind;
  int line = 0;
  std::string text;            // kText
  std::vector<ExprPtr> exprs;  // kOutput/kSet: [value]; kIf: conditions; kFor: [iter, cond]
  std::vector<Body> bodies;
  std::vector<std::string> targets;  // kFor/kSet/kSetBlock names; kMacro: parameter names
  std::string attr;                  // kSet: namespace attribute
  std::string name;                  // kMacro / kFilterBlock name
  std::vector<ExprPtr> defaults;     // kMacro parameter defaults (null: required)
  ExprPtr filter;                    // kFilterBlock: the filter, applied to a placeholder
};

struct Template {
  Body body;
};

// Parses a template with transformers' settings (trim_blocks, lstrip_blocks, loopcontrols,
// no trailing newline kept). Throws kiln::Error naming the line for a syntax error.
std::shared_ptr<Template> parse_template(const std::string& source);

// Renders with `vars` as the template's globals (plus range, namespace, raise_exception, ...).
// Throws kiln::Error naming the line for a runtime error or a raise_exception() call.
std::string render_template(const Template& t, const Dict& vars);

// Built-ins (jinja_builtins.cpp). Errors are thrown without a line; the renderer adds it.
Value apply_filter(const std::string& name, const Value& subject, CallArgs& args);
bool apply_test(const std::string& name, const Value& subject, CallArgs& args);
Value get_attribute(const Value& obj, const std::string& name);  // attribute, then item
Value get_item(const Value& obj, const Value& key);              // item, then attribute
Value slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
bool contains(const Value& container, const Value& item);  // Python's `in`
List iterate(const Value& v);                              // for-loop items
Value binary_op(const std::string& op, const Value& a, const Value& b);
void add_globals(Dict& globals);

}  // namespace kiln::tokenizer::jinja
