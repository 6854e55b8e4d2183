find_package(yaml-cpp REQUIRED)
kiln_layer(kiln_train train kiln_models kiln_data kiln_tokenizer yaml-cpp)
