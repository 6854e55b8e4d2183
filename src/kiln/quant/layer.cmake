kiln_layer(kiln_quant quant kiln_ops)
