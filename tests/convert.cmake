# TransGQLA from GQA checkpoints (issue 6, conversion.md §3, §6.2, §6.3):
# random Qwen2-style sources written by the test, converted through
# `gqla-eval convert` and scored under both GQLA decoding paths.
gqla_add_test(test_convert test_convert.c)
add_dependencies(test_convert gqla-eval)
