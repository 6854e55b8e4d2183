kiln_layer(kiln_tokenizer tokenizer kiln_core nlohmann_json::nlohmann_json PkgConfig::PCRE2)
