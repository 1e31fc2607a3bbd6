# Tokenizer suites: tokenizer.json parity with Hugging Face `tokenizers`
# (fixtures from tests/reference/make_tokenizer_fixtures.py) and, once the
# GGUF reader is in the tree, the tokenizer embedded in the SmolLM2 GGUF.
gqla_add_test(test_tokenizer test_tokenizer.c)
if(EXISTS ${CMAKE_SOURCE_DIR}/engine/gguf.c)
  gqla_add_test(test_tokenizer_gguf test_tokenizer_gguf.c)
endif()
