kiln_layer(kiln_infer infer kiln_models kiln_tokenizer)
