# Job arrays without MPI (issue 17): `--shard K/N` and `gqla-eval merge`
# give the outputs of one run; merge refuses sets that are not one command's
# shards 1..N (harness/shard.h).  Uses the tiny models of main_fixtures.c.
add_executable(test_main_shard test_main_shard.c)
target_link_libraries(test_main_shard PRIVATE gqla_main_fixtures)
add_dependencies(test_main_shard gqla-eval)
add_test(NAME main_shard COMMAND test_main_shard)
set_tests_properties(main_shard PROPERTIES
  ENVIRONMENT "GQ_FIXTURES=${GQLA_FIXTURES};GQ_CLI=$<TARGET_FILE:gqla-eval>;GQ_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp;OMP_WAIT_POLICY=PASSIVE;OMP_NUM_THREADS=1"
  TIMEOUT 900)
