// Encode throughput of kiln's tokenizer: documents (the text split at blank lines) are encoded
// after one warm-up pass, for at least two seconds; prints one JSON line. tokenizer_bench.sh
// runs it beside transformers.js (tokenizer_bench.mjs) on the same documents.
//
// Usage: tokenizer_bench TOKENIZER TEXT_FILE [THREADS (default 1)]
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "kiln/core/error.h"
#include "kiln/core/thread_pool.h"
#include "kiln/tokenizer/tokenizer.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s TOKENIZER TEXT_FILE [THREADS]\n", argv[0]);
    return 2;
  }
  try {
    int threads = argc > 3 ? std::atoi(argv[3]) : 1;
    kiln::set_num_threads(threads);
    auto t0 = std::chrono::steady_clock::now();
    kiln::tokenizer::Tokenizer tok = kiln::tokenizer::Tokenizer::load(argv[1]);
    double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::ifstream f(argv[2], std::ios::binary);
    KILN_REQUIRE(f, "cannot open ", argv[2]);
    std::string text(std::istreambuf_iterator<char>(f), {});
    std::vector<std::string_view> docs;
    for (size_t i = 0; i < text.size();) {
      size_t end = text.find("\n\n", i);
      end = end == std::string::npos ? text.size() : end + 2;
      docs.emplace_back(text.data() + i, end - i);
      i = end;
    }
    std::vector<int64_t> counts(docs.size());
    auto pass = [&] {
      kiln::parallel_for(int64_t(docs.size()), 16, [&](int64_t b, int64_t e) {
        std::vector<int32_t> ids;
        for (int64_t i = b; i < e; ++i) {
          ids.clear();
          tok.encode_into(docs[size_t(i)], {}, ids);
          counts[size_t(i)] = int64_t(ids.size());
        }
      });
    };
    pass();
    int passes = 0;
    auto start = std::chrono::steady_clock::now();
    double secs = 0;
    while (secs < 2.0 || passes < 2) {
      pass();
      ++passes;
      secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
    int64_t tokens = 0;
    for (int64_t c : counts) tokens += c;
    double mb = double(text.size()) * passes / 1e6;
    std::printf(
        "{\"engine\": \"kiln\", \"threads\": %d, \"bytes\": %zu, \"docs\": %zu, \"tokens\": %lld, "
        "\"passes\": %d, \"seconds\": %.3f, \"mb_per_s\": %.2f, \"load_s\": %.3f}\n",
        threads, text.size(), docs.size(), (long long)tokens, passes, secs, mb / secs, load_s);
  } catch (const kiln::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
