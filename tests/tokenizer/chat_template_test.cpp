// The chat-template interpreter: Jinja2 / Python semantics (the expected strings are what
// Python's Jinja2 renders with transformers' settings), whitespace control, scoping, errors,
// and the real templates of Qwen3, Llama-3 and Gemma-3.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "kiln/core/error.h"
#include "kiln/tokenizer/chat_template.h"
#include "test_util.h"

namespace kiln::tokenizer {
namespace {

using ojson = nlohmann::ordered_json;

std::string render(const std::string& src, const ojson& ctx = ojson::object()) {
  return ChatTemplate(src).render(ctx);
}

void expect_error(const std::string& src, const std::string& needle,
                  const ojson& ctx = ojson::object()) {
  try {
    render(src, ctx);
    FAIL() << "no error for: " << src;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message: " << e.what() << "\nexpected: " << needle;
  }
}

TEST(ChatTemplate, PythonValuesAndOperators) {
  EXPECT_EQ(
      render("{{ none }} {{ true }} {{ false }} {{ 1.0 }} {{ 1e20 }} {{ 0.1 + 0.2 }} {{ 1e-5 }}"),
      "None True False 1.0 1e+20 0.30000000000000004 1e-05");
  EXPECT_EQ(
      render("{{ 10 / 4 }} {{ 10 // 4 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2 ** 8 }}"),
      "2.5 2 -4 2 -2 256");
  EXPECT_EQ(render("{{ 3 > 2 > 1 }} {{ 1 < 3 < 2 }} {{ 'a' ~ none ~ 1 }} {{ 'ab' * 3 }}"),
            "True False aNone1 ababab");
  EXPECT_EQ(render("{{ [1, 'a', none, 2.5] }} {{ {'k': 'v', 'n': [true]} }} {{ \"it's\" }}"),
            "[1, 'a', None, 2.5] {'k': 'v', 'n': [True]} it's");
  EXPECT_EQ(
      render("{{ 'x' if 0 else 'y' }}{{ 'z' if false }}|{{ not 0 }} {{ 0 or 'd' }} {{ 1 and 2 }}"),
      "y|True d 2");
  EXPECT_EQ(render("{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }}"),
            "True True True True");
}

TEST(ChatTemplate, StringMethodsAndFilters) {
  EXPECT_EQ(render("{{ 'xxhixx'.strip('x') }}|{{ '  a  '.lstrip() }}|{{ ' a '.rstrip() }}|"
                   "{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a-b-c'.split('-', 1) }}"),
            "hi|a  | a|['a', 'b', '', 'c']|['a', 'b']|['a', 'b-c']");
  EXPECT_EQ(render("{{ 'héllo wörld'.title() }} {{ 'ÉCOLE'.lower() }} {{ 'straße'.upper() }} "
                   "{{ 'abc'.startswith(('x', 'a')) }} {{ 'abc'.find('c') }} {{ '中文字'[1] }} "
                   "{{ '中文字'[::-1] }} {{ 'abcdef'[1:5:2] }} {{ [1, 2, 3][-1] }}"),
            "Héllo Wörld école STRASSE True 2 文 字文中 bd 3");
  EXPECT_EQ(render("{{ 'abc' | reverse }} {{ [1, 2, 3] | sum }} {{ [1, 5, 3] | max }} "
                   "{{ ['b', 'A', 'c'] | min }} {{ 'a b  c' | wordcount }} {{ 'ab' | length }} "
                   "{{ '<x>' | e }} {{ [3, 1, 2] | sort(reverse=true) | join('-') }}"),
            "cba 6 5 A 3 2 &lt;x&gt; 3-2-1");
  EXPECT_EQ(render("{{ '<a href=\"x\">é\\n' | tojson }} {{ {'b': 1, 'a': [1.5, none]} | tojson }} "
                   "{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}"),
            "\"<a href=\\\"x\\\">é\\n\" {\"b\": 1, \"a\": [1.5, null]} {\"a\": 2, \"b\": 1}");
  EXPECT_EQ(render("{{ {'a': [1, {}]} | tojson(indent=2) }}"),
            "{\n  \"a\": [\n    1,\n    {}\n  ]\n}");
  EXPECT_EQ(
      render("{{ x | default('d') }} {{ '' | default('e', true) }} {{ none | default('f') }}"),
      "d e None");
  EXPECT_EQ(
      render("{{ users | selectattr('age', 'gt', 20) | map(attribute='name') | join(',') }} "
             "{{ users | rejectattr('admin') | list | length }} {{ users | map(attribute='x', "
             "default=0) | sum }}",
             {{"users",
               {{{"name", "a"}, {"age", 30}, {"admin", true}}, {{"name", "b"}, {"age", 10}}}}}),
      "a 1 0");
}

TEST(ChatTemplate, TestsLoopsAndScoping) {
  EXPECT_EQ(render("{{ 6 is divisibleby 3 }} {{ 3 is odd }} {{ x is defined }} {{ none is none }} "
                   "{{ 'a' is string }} {{ {} is mapping }} {{ 1 is not string }}"),
            "True True False True True True True");
  EXPECT_EQ(render("{% for x in 'abc' %}{{ loop.index }}{{ loop.cycle('+', '-') }}{{ x }}"
                   "{% if loop.last %}!{% endif %}{% endfor %}"),
            "1+a2-b3+c!");
  EXPECT_EQ(render("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(render("{% for x in range(10) if x is even %}{% if x > 6 %}{% break %}{% endif %}"
                   "{% if x == 2 %}{% continue %}{% endif %}{{ x }}{% endfor %}"),
            "046");
  EXPECT_EQ(render("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}{{ v }}{% endfor %}"), "a1b2");
  EXPECT_EQ(render("{% set x = 1 %}{% for i in [1] %}{% set x = 2 %}{% endfor %}{{ x }}"), "1");
  EXPECT_EQ(render("{% set ns = namespace(x=1) %}{% for i in [1, 2] %}{% set ns.x = ns.x + i %}"
                   "{% endfor %}{{ ns.x }}"),
            "4");
  EXPECT_EQ(
      render("{% macro m(a, b='B') %}[{{ a }}{{ b }}]{% endmacro %}{{ m(1) }}{{ m(2, b=3) }}"),
      "[1B][23]");
  EXPECT_EQ(render("{% set t %}x{{ 1 + 1 }}{% endset %}{{ t }}{{ t | length }}"), "x22");
  EXPECT_EQ(render("{% filter upper %}abc{% endfilter %}"), "ABC");
}

TEST(ChatTemplate, WhitespaceControlAsTransformers) {
  // trim_blocks drops the newline after a block tag, lstrip_blocks the indent before it.
  EXPECT_EQ(render("{% if true %}\n  X\n{% endif %}\n"), "  X\n");
  EXPECT_EQ(render("A\n    {% if true %}B{% endif %}"), "A\nB");
  EXPECT_EQ(render("A\n    {%+ if true %}B{% endif %}"), "A\n    B");
  EXPECT_EQ(render("A  {{- ' B ' -}}  C"), "A B C");
  EXPECT_EQ(render("{{ 'x' }}\n"), "x");  // the template's one trailing newline goes
  EXPECT_EQ(render("{{ 'x' }}\n\n"), "x\n");
  EXPECT_EQ(render("a {# note #}\nb"), "a b");
  EXPECT_EQ(render("{% raw %}{{ x }}{% endraw %}"), "{{ x }}");
  EXPECT_EQ(render("{% generation %}kept{% endgeneration %}"), "kept");
}

TEST(ChatTemplate, ErrorsNameTheLine) {
  expect_error("ok\n{% if %}", "chat template line 2");
  expect_error("{% for x in y %}", "missing {% endfor %}");
  expect_error("{{ x | nope }}", "no filter named 'nope'");
  expect_error("{{ raise_exception('roles must alternate') }}",
               "chat template raised an exception: roles must alternate");
  expect_error("\n\n{{ foo.bar }}", "chat template line 3: 'foo' is undefined");
  expect_error("{{ 'a' + 1 }}", "unsupported operand type(s) for +: 'str' and 'int'");
  expect_error("{% set x.y = 1 %}", "only a namespace() takes attributes");
  expect_error("{% include 'other' %}", "unknown or unsupported tag 'include'");
  expect_error("{{ 'abc", "unterminated string");
}

TEST(ChatTemplate, Qwen3ThinkingSwitch) {
  const Tokenizer& t = testing::model("qwen3");
  ojson messages = ojson::parse(R"([{"role": "user", "content": "2+2?"},
    {"role": "assistant", "content": "<think>\nadd\n</think>\n\n4"},
    {"role": "user", "content": "3+3?"}])");
  ChatOptions o;
  o.add_generation_prompt = true;
  o.enable_thinking = false;
  EXPECT_EQ(apply_chat_template(t, messages, o),
            "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n"
            "<|im_start|>user\n3+3?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
  o.enable_thinking = true;
  std::string on = apply_chat_template(t, messages, o);
  EXPECT_EQ(on.substr(on.size() - 22), "<|im_start|>assistant\n");
}

TEST(ChatTemplate, Llama3AndGemma3) {
  ojson messages = ojson::parse(R"([{"role": "system", "content": "Be brief."},
    {"role": "user", "content": " hi "}])");
  ChatOptions o;
  o.add_generation_prompt = true;
  EXPECT_EQ(apply_chat_template(testing::model("llama3"), messages, o),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  ChatTemplateSource g = read_chat_template(testing::model_dir("gemma3"));
  EXPECT_EQ(g.special.bos, "<bos>");
  EXPECT_EQ(ChatTemplate(g.source).apply(messages, g.special, o),
            "<bos><start_of_turn>user\nBe brief.\n\nhi<end_of_turn>\n<start_of_turn>model\n");
  ojson bad = ojson::parse(R"([{"role": "assistant", "content": "first"}])");
  EXPECT_THROW(ChatTemplate(g.source).apply(bad, g.special, o), Error);  // raise_exception
}

TEST(ChatTemplate, Llama2ChatFixture) {
  std::ifstream f(std::string(KILN_TOKENIZER_FIXTURES) + "/templates/llama2_chat.jinja");
  std::string src(std::istreambuf_iterator<char>(f), {});
  ojson messages = ojson::parse(R"([{"role": "system", "content": "Sys."},
    {"role": "user", "content": "Hi "}, {"role": "assistant", "content": " Hello "},
    {"role": "user", "content": "Bye"}])");
  EXPECT_EQ(ChatTemplate(src).apply(messages, {"<s>", "</s>", "", ""}),
            "<s>[INST] <<SYS>>\nSys.\n<</SYS>>\n\nHi [/INST] Hello </s><s>[INST] Bye [/INST]");
}

}  // namespace
}  // namespace kiln::tokenizer
