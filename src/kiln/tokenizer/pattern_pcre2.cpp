// PCRE2 with JIT: the general regex engine behind pre-tokenizer and normalizer patterns.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "kiln/core/error.h"
#include "kiln/tokenizer/pattern.h"

namespace kiln::tokenizer {

namespace {

// Per-thread match state shared by all patterns: one ovector pair is all a split needs (PCRE2
// fills the whole-match pair even when a pattern has groups), and a JIT stack that can grow
// past the 32 KiB default for long runs of backtracking.
struct MatchState {
  pcre2_match_data* data = pcre2_match_data_create(1, nullptr);
  pcre2_jit_stack* stack = pcre2_jit_stack_create(32 * 1024, 16 * 1024 * 1024, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  MatchState() { pcre2_jit_stack_assign(context, nullptr, stack); }
  ~MatchState() {
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(stack);
    pcre2_match_data_free(data);
  }
};

MatchState& match_state() {
  thread_local MatchState s;
  return s;
}

class Pcre2Pattern final : public Pattern {
 public:
  Pcre2Pattern(std::string_view regex, std::string_view where) : source_(regex) {
    int err = 0;
    PCRE2_SIZE offset = 0;
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(regex.data()), regex.size(),
                          PCRE2_UTF | PCRE2_UCP, &err, &offset, nullptr);
    if (!code_) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      KILN_REQUIRE(false, where, ": regex '", source_, "' does not compile at offset ", offset,
                   ": ", reinterpret_cast<const char*>(msg));
    }
    jit_ = pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE) == 0;
  }
  ~Pcre2Pattern() override { pcre2_code_free(code_); }
  Pcre2Pattern(const Pcre2Pattern&) = delete;
  Pcre2Pattern& operator=(const Pcre2Pattern&) = delete;

  bool find(std::string_view text, size_t from, size_t& start, size_t& end) const override {
    MatchState& s = match_state();
    auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    int rc = jit_ ? pcre2_jit_match(code_, subject, text.size(), from, 0, s.data, s.context)
                  : pcre2_match(code_, subject, text.size(), from, PCRE2_NO_UTF_CHECK, s.data,
                                s.context);
    if (rc == PCRE2_ERROR_NOMATCH) return false;
    if (rc < 0) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(rc, msg, sizeof msg);
      KILN_REQUIRE(false, "regex '", source_, "' failed on a ", text.size(),
                   "-byte input: ", reinterpret_cast<const char*>(msg));
    }
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(s.data);
    start = ov[0];
    end = ov[1];
    return true;
  }

 private:
  std::string source_;
  pcre2_code* code_ = nullptr;
  bool jit_ = false;
};

class LiteralPattern final : public Pattern {
 public:
  explicit LiteralPattern(std::string s) : s_(std::move(s)) {}
  bool find(std::string_view text, size_t from, size_t& start, size_t& end) const override {
    if (s_.empty()) {
      if (from > text.size()) return false;
      start = end = from;
      return true;
    }
    size_t at = text.find(s_, from);
    if (at == std::string_view::npos) return false;
    start = at;
    end = at + s_.size();
    return true;
  }

 private:
  std::string s_;
};

}  // namespace

std::unique_ptr<Pattern> compile_pcre2(std::string_view regex, std::string_view where) {
  return std::make_unique<Pcre2Pattern>(regex, where);
}

std::unique_ptr<Pattern> literal_pattern(std::string literal) {
  return std::make_unique<LiteralPattern>(std::move(literal));
}

}  // namespace kiln::tokenizer
