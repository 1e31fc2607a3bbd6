# TransGQLA from GQA checkpoints (issue 6, conversion.md §3, §6.2, §6.3):
# random Qwen2-style sources written by the test, converted through
# `gqla-eval convert` and scored under both GQLA decoding paths.
gqla_add_test(test_convert test_convert.c)
add_dependencies(test_convert gqla-eval)

# The same on SmolLM2-135M (models/; skipped when absent): full rank vs the
# partial-RoPE reference within 1e-3, paths at r = 96, tokenizer export.
gqla_add_test(test_convert_smollm2 test_convert_smollm2.c)
add_dependencies(test_convert_smollm2 gqla-eval)
set_tests_properties(test_convert_smollm2 PROPERTIES LABELS slow TIMEOUT 1800)

# --calib TASK: rows from a task's prompts (harness/calib_task.h), on the
# generated demo model and a small OpenBookQA train file the test writes.
gqla_add_test(test_convert_calib_task test_convert_calib_task.c)
add_dependencies(test_convert_calib_task gqla-eval)
