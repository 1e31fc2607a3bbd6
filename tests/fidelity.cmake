# gqla-eval against lm-evaluation-harness on SmolLM2 + the real data
# (fixture: tests/fixtures/lmeval/, made by tests/reference/run_lmeval_local.py).
# Labelled slow: the sanitizer run of scripts/test.sh leaves it out.
add_executable(test_fidelity test_fidelity.c)
target_link_libraries(test_fidelity PRIVATE gqla_testutil)
add_test(NAME fidelity_lmeval_smollm2
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/run_fidelity.sh $<TARGET_FILE:gqla-eval> $<TARGET_FILE:test_fidelity>
                 ${GQLA_MODELS_DIR} ${CMAKE_SOURCE_DIR}/../shared/datasets ${CMAKE_CURRENT_BINARY_DIR}/fidelity-out
                 ${GQLA_FIXTURES}/lmeval/smollm2_limit100.tsv
                 arc_easy,arc_challenge,piqa,openbookqa,winogrande,hellaswag,mmlu_abstract_algebra,mmlu_anatomy,mmlu_college_physics)
set_tests_properties(fidelity_lmeval_smollm2 PROPERTIES SKIP_RETURN_CODE 77 LABELS slow TIMEOUT 1800
                     ENVIRONMENT "GQ_FIXTURES=${GQLA_FIXTURES};OMP_WAIT_POLICY=PASSIVE")
