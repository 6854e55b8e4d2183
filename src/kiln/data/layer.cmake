kiln_layer(kiln_data data kiln_io nlohmann_json::nlohmann_json)
