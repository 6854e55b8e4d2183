// Writes a starting corpus for config_fuzz: the config.json of every committed HF fixture.
#include <filesystem>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  namespace fs = std::filesystem;
  fs::path fixtures = fs::path(KILN_SOURCE_DIR) / "tests" / "data" / "hf";
  int i = 0;
  for (const auto& e : fs::directory_iterator(fixtures))
    if (fs::exists(e.path() / "config.json"))
      fs::copy_file(e.path() / "config.json",
                    fs::path(argv[1]) / ("config" + std::to_string(i++) + ".json"),
                    fs::copy_options::overwrite_existing);
  return 0;
}
