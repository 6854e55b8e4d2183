# Charts and run reports need only io (PNG); perplexity and benchmark tasks will add kiln_infer.
kiln_layer(kiln_eval eval kiln_io)
