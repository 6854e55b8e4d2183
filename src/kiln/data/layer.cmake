find_package(yaml-cpp REQUIRED)
kiln_layer(kiln_data data kiln_tokenizer kiln_core)
