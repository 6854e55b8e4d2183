kiln_layer(kiln_eval eval kiln_infer)
