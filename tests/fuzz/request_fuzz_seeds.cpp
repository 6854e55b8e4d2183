// Writes a starting corpus for request_fuzz: valid and near-valid request bodies (the first byte
// picks chat (odd) or completions (even), as the target reads it).
#include <fstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const std::vector<std::string> bodies = {
      "\1{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
      "\1{\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":"
      "[{\"type\":\"text\",\"text\":\"a\"}]}],\"max_tokens\":5,\"temperature\":0,\"top_p\":0.9,"
      "\"stop\":[\"x\",\"y\"],\"n\":2,\"stream\":true,\"stream_options\":{\"include_usage\":true},"
      "\"logprobs\":true,\"top_logprobs\":3,\"seed\":7}",
      "\1{\"messages\":[],\"max_completion_tokens\":-1}",
      "\2{\"prompt\":\"hello\",\"max_tokens\":16,\"logprobs\":2,\"presence_penalty\":0.5}",
      "\2{\"prompt\":[1,2,3],\"frequency_penalty\":-2,\"min_p\":0.05,\"top_k\":40}",
      "\2{\"prompt\":[\"x\"],\"echo\":true}",
  };
  for (size_t i = 0; i < bodies.size(); ++i)
    std::ofstream(std::string(argv[1]) + "/body" + std::to_string(i), std::ios::binary)
        << bodies[i];
  return 0;
}
