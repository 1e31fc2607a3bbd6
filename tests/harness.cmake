# Harness pieces: _encode_pair.
gqla_add_test(test_requests test_requests.c)
# `gqla-eval eval` end to end on a tiny model: good rows, bad rows, bad tokenizer.
add_executable(test_eval_cli test_eval_cli.c)
target_link_libraries(test_eval_cli PRIVATE gqla_testutil)
add_dependencies(test_eval_cli gqla-eval)
foreach(case good mla_both mla_both_gate missing_field label_out_of_range empty_choices invalid_utf8 mismatched_tokenizer)
  add_test(NAME eval_cli.${case} COMMAND test_eval_cli ${case})
  set_tests_properties(eval_cli.${case} PROPERTIES
    ENVIRONMENT "GQ_FIXTURES=${GQLA_FIXTURES};GQ_CLI=$<TARGET_FILE:gqla-eval>;GQ_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp;OMP_WAIT_POLICY=PASSIVE")
endforeach()

# --device on eval, score, ppl and convert (issue 15's first step: no GPU -> exit 2 with the runtime's reason).
gqla_add_test(test_device_cli test_device_cli.c)
add_dependencies(test_device_cli gqla-eval)
