# GGUF reader, dequantisation and llama mapping (tests/test_gguf.c).
# test_gguf runs on the committed tiny fixture; test_gguf_smollm2 checks every
# tensor of the real SmolLM2 GGUF and skips (77) when models/ lacks it.
gqla_add_test(test_gguf test_gguf.c)
gqla_add_test(test_gguf_smollm2 test_gguf.c smollm2)
