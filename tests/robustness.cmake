# Robustness (issue 19): every write failing once (GQ_FAIL_WRITE sweep over
# each command's outputs), SIGKILLs at random moments with resumes and the
# output-folder lock, and resource bounds on hostile input files.  The fuzz
# targets and their replays are in fuzz.cmake.
# (main_cmd.cmake, included before this file, defines GQLA_MAIN_ENV and gqla_main_fixtures.)
set(GQLA_ROBUST_ENV "${GQLA_MAIN_ENV};HF_HUB_OFFLINE=1")

# A test binary that runs the CLI on the main-command fixtures.
function(gqla_robust_exe name)
  add_executable(${name} ${name}.c)
  target_link_libraries(${name} PRIVATE gqla_main_fixtures)
  add_dependencies(${name} gqla-eval)
endfunction()

gqla_robust_exe(test_write_faults)
foreach(case main convert compare report shard merge)
  add_test(NAME write_faults.${case} COMMAND test_write_faults ${case})
  set_tests_properties(write_faults.${case} PROPERTIES ENVIRONMENT "${GQLA_ROBUST_ENV}" TIMEOUT 1500)
endforeach()

# 20 SIGKILLs at seeded random moments, each folder resumed to the end (slow),
# and two runs on one output folder (the lock).
gqla_robust_exe(test_main_kills)
add_test(NAME main_kills COMMAND test_main_kills kills)
set_tests_properties(main_kills PROPERTIES ENVIRONMENT "${GQLA_ROBUST_ENV}" LABELS slow TIMEOUT 1800)
add_test(NAME main_lock COMMAND test_main_kills lock)
set_tests_properties(main_lock PROPERTIES ENVIRONMENT "${GQLA_ROBUST_ENV}")

# Hostile files against memory and time: exit 2, a clear message, peak RSS
# (wait4's ru_maxrss) and wall time bounded.
gqla_robust_exe(test_bounds)
foreach(case st_header_len st_shape_overflow gguf_counts gguf_array json_nesting run_json_nesting tokenizer_nesting
             tokenizer_regex tokenizer_merges tokenizer_sparse_id dataset_row dataset_csv_row)
  add_test(NAME bounds.${case} COMMAND test_bounds ${case})
  set_tests_properties(bounds.${case} PROPERTIES ENVIRONMENT "${GQLA_ROBUST_ENV}")
endforeach()
