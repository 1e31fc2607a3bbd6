# MLA -> GQLA conversion (issue 6, conversion.md §4): the pure arithmetic on
# hand-computed numbers, and whole conversions of random MLA sources that
# the test writes itself (G = H exact, hidden-group source recovered by
# similarity grouping with and without NLL weights, neighbor inexact, paths
# agree, bad options refused with nothing written).
gqla_add_test(test_convert_mla_math test_convert_mla_math.c)
