kiln_layer(kiln_nn nn kiln_autograd kiln_quant)
