kiln_layer(kiln_models models kiln_nn kiln_io nlohmann_json::nlohmann_json)
