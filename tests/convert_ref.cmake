# `gqla-eval convert` (TransGQLA, issue 6) against the independent float64
# NumPy implementation in tests/reference/transgqla_numpy.py: fixture
# tests/fixtures/convert/tiny-qwen2/ from make_convert_fixture.py, two
# settings (c = 2 / ff = 4 / r = 40, and c = 1 / r = 24 / q LoRA 48): every
# computed tensor within 1e-4, copied tensors bit for bit, §5.2 config keys,
# §5.3 gqla_meta.json numbers, and the converted model's log-probs through
# `gqla-eval score --path both` within 1e-4.
gqla_add_test(test_convert_reference test_convert_reference.c)
add_dependencies(test_convert_reference gqla-eval)
