# reports/report.h (issue 7, reports half): the run manifest gqla_run.json,
# the report in Markdown/LaTeX/CSV/HTML, the gate and its JUnit file,
# `compare` and `roofline`, through the CLI.  Fixtures: tests/fixtures/report/
# (hand-written; README there).
gqla_add_test(test_report test_report.c)
add_dependencies(test_report gqla-eval)
gqla_add_test(test_report_gate test_report_gate.c)
add_dependencies(test_report_gate gqla-eval)
gqla_add_test(test_report_roofline test_report_roofline.c)
add_dependencies(test_report_roofline gqla-eval)
# Headless Chromium renders report.html (skipped when chromium is absent).
gqla_add_test(test_report_html test_report_html.c)
add_dependencies(test_report_html gqla-eval)
# Allocation-failure torture of manifest parsing and rendering (GQ_FAIL_ALLOC=1,2,...).
add_test(NAME test_report_alloc_fail COMMAND test_report --torture)
set_tests_properties(test_report_alloc_fail PROPERTIES
  ENVIRONMENT "GQ_FIXTURES=${GQLA_FIXTURES};GQ_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp;OMP_WAIT_POLICY=PASSIVE")
