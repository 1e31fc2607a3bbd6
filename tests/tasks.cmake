# Task suites: documents and prompts against lm-evaluation-harness 0.4.13
# (fixture from tests/reference/make_task_fixtures.py), CPython's few-shot
# sampler, Unicode case mapping; hand-computed metrics and the registry.
gqla_add_test(test_tasks test_tasks.c)
gqla_add_test(test_tasks_metrics test_tasks_metrics.c)
