# Robustness (issue 19): every write failing once (GQ_FAIL_WRITE sweep over
# each command's outputs), SIGKILLs at random moments with resumes and the
# output-folder lock, and resource bounds on hostile input files.  The fuzz
# targets and their replays are in fuzz.cmake.
set(GQLA_ROBUST_ENV "GQ_FIXTURES=${GQLA_FIXTURES};GQ_CLI=$<TARGET_FILE:gqla-eval>;GQ_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp;OMP_WAIT_POLICY=PASSIVE;OMP_NUM_THREADS=1;HF_HUB_OFFLINE=1")

add_executable(test_write_faults test_write_faults.c)
target_link_libraries(test_write_faults PRIVATE gqla_main_fixtures)
add_dependencies(test_write_faults gqla-eval)
foreach(case main convert compare report)
  add_test(NAME write_faults.${case} COMMAND test_write_faults ${case})
  set_tests_properties(write_faults.${case} PROPERTIES ENVIRONMENT "${GQLA_ROBUST_ENV}" TIMEOUT 1500)
endforeach()
