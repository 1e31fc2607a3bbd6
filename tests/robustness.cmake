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

# 20 SIGKILLs at seeded random moments, each folder resumed to the end (slow),
# and two runs on one output folder (the lock).
add_executable(test_main_kills test_main_kills.c)
target_link_libraries(test_main_kills PRIVATE gqla_main_fixtures)
add_dependencies(test_main_kills gqla-eval)
add_test(NAME main_kills COMMAND test_main_kills kills)
set_tests_properties(main_kills PROPERTIES ENVIRONMENT "${GQLA_ROBUST_ENV}" LABELS slow TIMEOUT 1800)
add_test(NAME main_lock COMMAND test_main_kills lock)
set_tests_properties(main_lock PROPERTIES ENVIRONMENT "${GQLA_ROBUST_ENV}")

# Hostile files against memory and time: exit 2, a clear message, peak RSS
# (wait4's ru_maxrss) and wall time bounded.
add_executable(test_bounds test_bounds.c)
target_link_libraries(test_bounds PRIVATE gqla_main_fixtures)
add_dependencies(test_bounds gqla-eval)
foreach(case st_header_len st_shape_overflow gguf_counts gguf_array json_nesting run_json_nesting tokenizer_nesting
             tokenizer_regex tokenizer_merges dataset_row dataset_csv_row)
  add_test(NAME bounds.${case} COMMAND test_bounds ${case})
  set_tests_properties(bounds.${case} PROPERTIES ENVIRONMENT "${GQLA_ROBUST_ENV}")
endforeach()
