# Checkpoint reading: safetensors, config.json, HF folders (single and
# sharded), one ctest entry per bad input, and the same bad inputs through
# `gqla-eval info`.  Fixtures are built at test time in $GQ_TMP
# (tests/checkpoint_fixtures.c); nothing is downloaded.

add_library(gqla_ckfix STATIC ${CMAKE_CURRENT_SOURCE_DIR}/checkpoint_fixtures.c)
target_link_libraries(gqla_ckfix PUBLIC gqla_testutil)

# Fixture cases that open, then one per bad input (names in checkpoint_fixtures.c).
set(GQLA_CKPT_GOOD valid sharded tied qwen2)
set(GQLA_CKPT_BAD truncated overlap offsets_past_end size_mismatch header_len_past_end
    bad_dtype config_missing_key config_not_json config_wrong_type config_heads
    missing_tensor shape_mismatch extra_tensor missing_bias shard_missing
    shard_not_in_index shard_duplicate index_wrong_shard no_weights)

# One binary per suite; further cases reuse it with the first test's
# environment and skip code.
function(gqla_ckpt_cases first_test binary prefix)
  get_test_property(${first_test} ENVIRONMENT env)
  foreach(c ${ARGN})
    add_test(NAME ${prefix}.${c} COMMAND ${binary} ${c})
    set_tests_properties(${prefix}.${c} PROPERTIES ENVIRONMENT "${env};OMP_WAIT_POLICY=PASSIVE" SKIP_RETURN_CODE ${GQLA_SKIP_CODE})
  endforeach()
endfunction()

gqla_add_test(test_checkpoint test_checkpoint.c roundtrip)
target_link_libraries(test_checkpoint PRIVATE gqla_ckfix)
gqla_ckpt_cases(test_checkpoint test_checkpoint checkpoint
                config_variants open_errors gguf_smollm2 ${GQLA_CKPT_GOOD} ${GQLA_CKPT_BAD})

# Widening needs gq_tensor_load_f32 (engine/tensor_load.c, the GGUF side).
if(EXISTS ${CMAKE_SOURCE_DIR}/engine/tensor_load.c)
  gqla_add_test(test_checkpoint_widen test_checkpoint_widen.c)
  target_link_libraries(test_checkpoint_widen PRIVATE gqla_ckfix)
  gqla_ckpt_cases(test_checkpoint_widen test_checkpoint_widen checkpoint_widen smollm2)
endif()

# The CLI contract: `gqla-eval info PATH` prints "gqla-eval: error: <msg>"
# on stderr and exits 2 on bad input.
gqla_add_test(test_info_errors test_info_errors.c valid)
target_link_libraries(test_info_errors PRIVATE gqla_ckfix)
add_dependencies(test_info_errors gqla-eval)
gqla_ckpt_cases(test_info_errors test_info_errors info ${GQLA_CKPT_BAD})

# Bad GGUF files and a bad tokenizer.json through `gqla-eval info`.
add_executable(test_info_bad_files test_info_bad_files.c)
target_link_libraries(test_info_bad_files PRIVATE gqla_testutil gqla_ckfix)
add_dependencies(test_info_bad_files gqla-eval)
foreach(case gguf_magic gguf_tensor_past_end tokenizer_not_json)
  add_test(NAME info.${case} COMMAND test_info_bad_files ${case})
  set_tests_properties(info.${case} PROPERTIES
    ENVIRONMENT "GQ_FIXTURES=${GQLA_FIXTURES};GQ_CLI=$<TARGET_FILE:gqla-eval>;GQ_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp;OMP_WAIT_POLICY=PASSIVE")
endforeach()
