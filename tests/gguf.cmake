# GGUF reader, dequantisation and llama mapping (tests/test_gguf.c).
# test_gguf runs on the committed tiny fixture; test_gguf_smollm2 checks every
# tensor of the real SmolLM2 GGUF and skips (77) when models/ lacks it.
gqla_add_test(test_gguf test_gguf.c)
gqla_add_test(test_gguf_smollm2 test_gguf.c smollm2)
# K-quants and Q5_0/Q5_1 bit for bit against the gguf package's dequantize on
# llama-quantize output (tests/fixtures/gguf_arch/, one test per GGUF), plus
# the hand-made Q8_K and size cases (test_gguf_kquant_cases).
add_executable(test_gguf_kquant test_gguf_kquant.c)
target_link_libraries(test_gguf_kquant PRIVATE gqla_testutil)
add_test(NAME test_gguf_kquant_cases COMMAND test_gguf_kquant)
set_tests_properties(test_gguf_kquant_cases PROPERTIES ENVIRONMENT
  "GQ_FIXTURES=${GQLA_FIXTURES};GQ_CLI=$<TARGET_FILE:gqla-eval>;GQ_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp")
add_dependencies(test_gguf_kquant gqla-eval)
file(GLOB gqla_kquant_dirs RELATIVE ${GQLA_FIXTURES}/gguf_arch ${GQLA_FIXTURES}/gguf_arch/*)
foreach(fx ${gqla_kquant_dirs})
  if(EXISTS ${GQLA_FIXTURES}/gguf_arch/${fx}/dequant.txt)
    add_test(NAME gguf_dequant_${fx} COMMAND test_gguf_kquant gguf_arch/${fx})
    set_tests_properties(gguf_dequant_${fx} PROPERTIES ENVIRONMENT "GQ_FIXTURES=${GQLA_FIXTURES}")
  endif()
endforeach()
