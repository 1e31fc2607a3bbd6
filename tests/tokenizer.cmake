# Tokenizer suites: tokenizer.json parity with Hugging Face `tokenizers`
# (fixtures from tests/reference/make_tokenizer_fixtures.py) and, once the
# GGUF reader is in the tree, the tokenizer embedded in the SmolLM2 GGUF.
gqla_add_test(test_tokenizer test_tokenizer.c)
if(EXISTS ${CMAKE_SOURCE_DIR}/engine/gguf.c)
  gqla_add_test(test_tokenizer_gguf test_tokenizer_gguf.c)
endif()
# The families' real vocabularies (pruned to the text) and the normalizers,
# against HF tokenizers (tests/reference/make_family_tokenizers.py).
gqla_add_test(test_tokenizer_families test_tokenizer_families.c)
# GGUF tokenizers of real models (llama.cpp's vocab files, pruned) against
# their real HF tokenizers' ids (tests/reference/make_gguf_vocab_fixtures.py).
gqla_add_test(test_tokenizer_gguf_vocab test_tokenizer_gguf_vocab.c)
