# reports/report.h (issue 7, reports half): the run manifest gqla_run.json,
# the report in Markdown/LaTeX/CSV/HTML, the gate and its JUnit file,
# `compare` and `roofline`, through the CLI.  Fixtures: tests/fixtures/report/
# (hand-written; README there).
gqla_add_test(test_report test_report.c)
add_dependencies(test_report gqla-eval)
