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
