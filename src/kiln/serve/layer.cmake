kiln_layer(kiln_serve serve kiln_infer)
