find_package(ZLIB REQUIRED)
kiln_layer(kiln_io io kiln_ops nlohmann_json::nlohmann_json ZLIB::ZLIB)
