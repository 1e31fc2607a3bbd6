# The main command (issue 7, harness half): original vs converted through
# both decoding paths on tiny models the tests write (main_fixtures.c),
# the manifest, the gate's exit codes, tokenizer mismatch, and resuming a
# run killed with SIGKILL.
add_library(gqla_main_fixtures STATIC main_fixtures.c)
target_link_libraries(gqla_main_fixtures PUBLIC gqla_testutil)

set(GQLA_MAIN_ENV "GQ_FIXTURES=${GQLA_FIXTURES};GQ_CLI=$<TARGET_FILE:gqla-eval>;GQ_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp;OMP_WAIT_POLICY=PASSIVE;OMP_NUM_THREADS=1")

add_executable(test_main_cmd test_main_cmd.c)
target_link_libraries(test_main_cmd PRIVATE gqla_main_fixtures)
add_dependencies(test_main_cmd gqla-eval)
# gate: exit codes 0/1 come from the reports side's gq_gate_check (reports/report.c).
foreach(case compare gate mismatch usage)
  add_test(NAME main_cmd.${case} COMMAND test_main_cmd ${case})
  set_tests_properties(main_cmd.${case} PROPERTIES ENVIRONMENT "${GQLA_MAIN_ENV}")
endforeach()

# Resume: killed after N journal batches (also mid-write), and after a random delay.
add_executable(test_main_resume test_main_resume.c)
target_link_libraries(test_main_resume PRIVATE gqla_main_fixtures)
add_dependencies(test_main_resume gqla-eval)
add_test(NAME main_resume COMMAND test_main_resume)
set_tests_properties(main_resume PROPERTIES ENVIRONMENT "${GQLA_MAIN_ENV}")

# The journal file format on its own.
gqla_add_test(test_main_journal test_main_journal.c)

# `gqla-eval demo --generated` end to end (needs the converter; skipped without it).
add_executable(test_main_demo test_main_demo.c)
target_link_libraries(test_main_demo PRIVATE gqla_main_fixtures)
add_dependencies(test_main_demo gqla-eval)
add_test(NAME main_demo COMMAND test_main_demo)
set_tests_properties(main_demo PROPERTIES ENVIRONMENT "${GQLA_MAIN_ENV}" SKIP_RETURN_CODE 77 TIMEOUT 1800)

# Data parallel under mpirun (issue 17): np 2 and 3 give one process's files;
# a killed rank fails the job and the rerun resumes.  Only with MPI compiled in.
if(GQLA_HAVE_MPI)
  add_executable(test_main_mpi test_main_mpi.c)
  target_link_libraries(test_main_mpi PRIVATE gqla_main_fixtures)
  add_dependencies(test_main_mpi gqla-eval)
  foreach(case fixtures smollm2)
    add_test(NAME main_mpi.${case} COMMAND test_main_mpi ${case})
    set_tests_properties(main_mpi.${case} PROPERTIES
      ENVIRONMENT "${GQLA_MAIN_ENV};GQ_MPIRUN=${MPIEXEC_EXECUTABLE};GQ_MODELS=${GQLA_MODELS_DIR};GQ_SHARED_DATA=${CMAKE_SOURCE_DIR}/../shared/datasets"
      SKIP_RETURN_CODE 77 TIMEOUT 900 LABELS mpi)
  endforeach()
  # SmolLM2 under ASan would take minutes: the sanitizer build (-LE slow) runs the fixtures only.
  set_tests_properties(main_mpi.smollm2 PROPERTIES LABELS "mpi;slow")
endif()
