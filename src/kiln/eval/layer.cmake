# Charts and run reports need io (PNG); the inference benchmark (infer_bench) runs the engine.
kiln_layer(kiln_eval eval kiln_io kiln_infer)
