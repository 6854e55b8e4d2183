find_package(yaml-cpp REQUIRED)
kiln_layer(kiln_train train kiln_autograd yaml-cpp)
