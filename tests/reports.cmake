# reports/: SHA-256, the Python-json writer, results.json and samples .jsonl,
# byte for byte against tests/fixtures/reports/ (from
# tests/reference/make_report_fixtures.py).
gqla_add_test(test_reports test_reports.c)
# The group arithmetic lives in tasks/ (task.h).  While no tasks/*.c defines
# gq_group_mean (tasks/ is built on another branch), link test-only stubs.
set(_gq_tasks_have_groups OFF)
foreach(_src ${GQLA_TASKS_SOURCES})
  file(STRINGS ${_src} _hit REGEX "^double[ \t]+gq_group_mean[ \t]*\\(")
  if(_hit)
    set(_gq_tasks_have_groups ON)
  endif()
endforeach()
if(NOT _gq_tasks_have_groups)
  target_sources(test_reports PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/reports_task_stubs.c)
endif()
# Allocation-failure torture: re-runs itself with GQ_FAIL_ALLOC=1,2,... until
# rendering succeeds; every failure must be GQ_ERR_NOMEM with nothing leaked.
add_test(NAME test_reports_alloc_fail COMMAND test_reports --torture)
set_tests_properties(test_reports_alloc_fail PROPERTIES
  ENVIRONMENT "GQ_FIXTURES=${GQLA_FIXTURES};GQ_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp;OMP_WAIT_POLICY=PASSIVE")
