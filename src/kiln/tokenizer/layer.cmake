pkg_check_modules(ICU REQUIRED IMPORTED_TARGET icu-uc)  # Unicode properties, NFC, case mapping
kiln_layer(kiln_tokenizer tokenizer kiln_io nlohmann_json::nlohmann_json PkgConfig::PCRE2 PkgConfig::ICU)
