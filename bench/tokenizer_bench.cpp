// Encode throughput of kiln's tokenizer: the text is split into documents at blank lines; the
// first tenth warms up, the other nine tenths are encoded once and timed (each document once,
// so the word cache helps only as much as the text repeats itself). Prints one JSON line.
// tokenizer_bench.sh runs it beside transformers.js (tokenizer_bench.mjs), the same way.
// mb_per_cpu_s divides by the CPU time the process used, which other load on the machine does
// not inflate; with one thread it is the figure to compare.
//
// Usage: tokenizer_bench TOKENIZER TEXT_FILE [THREADS (default 1)]
#include <chrono>
#include <cstdio>
#include <ctime>
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
    size_t warm = docs.size() / 10;
    std::vector<int64_t> counts(docs.size());
    auto encode = [&](size_t from, size_t to) {
      kiln::parallel_for(int64_t(to - from), 16, [&](int64_t b, int64_t e) {
        std::vector<int32_t> ids;
        for (int64_t i = b; i < e; ++i) {
          ids.clear();
          tok.encode_into(docs[from + size_t(i)], {}, ids);
          counts[from + size_t(i)] = int64_t(ids.size());
        }
      });
    };
    encode(0, warm);
    std::clock_t cpu0 = std::clock();
    auto start = std::chrono::steady_clock::now();
    encode(warm, docs.size());
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double cpu = double(std::clock() - cpu0) / CLOCKS_PER_SEC;
    size_t bytes = 0;
    for (size_t i = warm; i < docs.size(); ++i) bytes += docs[i].size();
    int64_t tokens = 0;
    for (int64_t c : counts) tokens += c;
    std::printf(
        "{\"engine\": \"kiln\", \"threads\": %d, \"timed_bytes\": %zu, \"docs\": %zu, "
        "\"tokens\": %lld, \"seconds\": %.4f, \"mb_per_s\": %.2f, \"cpu_seconds\": %.4f, "
        "\"mb_per_cpu_s\": %.2f, \"load_s\": %.3f}\n",
        threads, bytes, docs.size(), (long long)tokens, secs, double(bytes) / 1e6 / secs, cpu,
        double(bytes) / 1e6 / cpu, load_s);
  } catch (const kiln::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
