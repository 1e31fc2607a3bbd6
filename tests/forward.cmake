# The forward pass against transformers' fixtures (tests/fixtures/forward/).
add_executable(test_forward test_forward.c)
target_link_libraries(test_forward PRIVATE gqla_testutil)
foreach(fx llama-gqa qwen2-bias mistral llama-tied llama3-rope qwen3-qknorm phi3-fused)
  foreach(dt f32 bf16)
    if(EXISTS ${GQLA_FIXTURES}/forward/${fx}-${dt}/reference.txt)
      add_test(NAME forward_${fx}_${dt} COMMAND test_forward forward/${fx}-${dt})
      set_tests_properties(forward_${fx}_${dt} PROPERTIES ENVIRONMENT "GQ_FIXTURES=${GQLA_FIXTURES};OMP_WAIT_POLICY=PASSIVE")
    endif()
  endforeach()
endforeach()
# The real SmolLM2 GGUF against transformers' GGUF loader (skipped without it).
add_test(NAME forward_smollm2_gguf COMMAND test_forward forward/smollm2 SmolLM2-135M-Instruct.Q4_1.gguf)
set_tests_properties(forward_smollm2_gguf PROPERTIES SKIP_RETURN_CODE 77
  ENVIRONMENT "GQ_FIXTURES=${GQLA_FIXTURES};GQ_MODELS=${GQLA_MODELS_DIR};OMP_WAIT_POLICY=PASSIVE")
gqla_add_test(test_kernels test_kernels.c)
# Benchmark driver (not a test): scripts/bench-forward.sh.
add_executable(bench_forward bench_forward.c)
target_link_libraries(bench_forward PRIVATE gqla)
# CUDA ops against their CPU twins; returns 77 (skipped) without a GPU.
if(TARGET gqla_cuda)
  gqla_add_test(test_kernels_cuda test_kernels_cuda.c)
endif()
gqla_add_test(test_scorer test_scorer.c)
# GGUF files of each llama-family architecture as llama.cpp writes and
# quantises them (tests/fixtures/gguf_arch/<arch>-<type>/model.gguf), against
# transformers on the safetensors twin (f16) or on the gguf package's
# dequantised weights (quantised types): tests/reference/make_gguf_arch_fixtures.py.
file(GLOB gqla_gguf_arch_dirs RELATIVE ${GQLA_FIXTURES}/gguf_arch ${GQLA_FIXTURES}/gguf_arch/*)
foreach(fx ${gqla_gguf_arch_dirs})
  if(EXISTS ${GQLA_FIXTURES}/gguf_arch/${fx}/reference.txt)
    add_test(NAME forward_gguf_${fx} COMMAND test_forward gguf_arch/${fx})
    set_tests_properties(forward_gguf_${fx} PROPERTIES ENVIRONMENT "GQ_FIXTURES=${GQLA_FIXTURES};OMP_WAIT_POLICY=PASSIVE")
  endif()
endforeach()
