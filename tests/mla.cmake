# MLA / GQLA models (issue 5): the decoding paths against each other and a
# naive double-precision computation on random weights the test writes
# itself; DeepSeek-V3 fixtures from transformers through both MLA paths;
# cache accounting through `gqla-eval kvcache`.
gqla_add_test(test_mla_paths test_mla_paths.c)

# tests/fixtures/mla/<name>/ from tests/reference/make_mla_fixtures.py, read
# by test_forward (1e-4 per log-prob) under each MLA path.
foreach(fx dsv3-qlora-yarn dsv3-plainq)
  if(EXISTS ${GQLA_FIXTURES}/mla/${fx}/reference.txt)
    foreach(path absorb expanded)
      add_test(NAME forward_mla_${fx}_${path} COMMAND test_forward mla/${fx} --path=${path})
      set_tests_properties(forward_mla_${fx}_${path} PROPERTIES ENVIRONMENT "GQ_FIXTURES=${GQLA_FIXTURES};OMP_WAIT_POLICY=PASSIVE")
    endforeach()
  endif()
endforeach()

# `gqla-eval kvcache --config` on the LLaMA-3-8B-shaped GQLA config
# (conversion.md §2.4 worked check) and `gqla-eval info` on an MLA folder.
gqla_add_test(test_mla_cli test_mla_cli.c)
add_dependencies(test_mla_cli gqla-eval)
# Benchmark driver (not a test): scripts/bench-paths.sh.
add_executable(bench_paths bench_paths.c)
target_link_libraries(bench_paths PRIVATE gqla)

# Random MLA / GQLA checkpoints shared by test_mla_paths and test_convert_mla.
add_library(gqla_mlafix STATIC ${CMAKE_CURRENT_SOURCE_DIR}/mla_fixtures.c)
target_link_libraries(gqla_mlafix PUBLIC gqla_testutil)
target_link_libraries(test_mla_paths PRIVATE gqla_mlafix)
