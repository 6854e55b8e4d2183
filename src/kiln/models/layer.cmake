find_package(yaml-cpp REQUIRED)  # model presets (configs/models/*.yaml)
kiln_layer(kiln_models models kiln_nn kiln_io kiln_quant nlohmann_json::nlohmann_json yaml-cpp)
target_compile_definitions(kiln_models PRIVATE KILN_PRESET_DIR="${CMAKE_CURRENT_SOURCE_DIR}/configs/models")
