# MLA -> GQLA conversion (issue 6, conversion.md §4): the pure arithmetic on
# hand-computed numbers, and whole conversions of random MLA sources that
# the test writes itself (G = H exact, hidden-group source recovered by
# similarity grouping with and without NLL weights, neighbor inexact, paths
# agree, bad options refused with nothing written).
gqla_add_test(test_convert_mla_math test_convert_mla_math.c)
gqla_add_test(test_convert_mla test_convert_mla.c)
target_link_libraries(test_convert_mla PRIVATE gqla_ckfix)
add_dependencies(test_convert_mla gqla-eval)
target_link_libraries(test_convert_mla PRIVATE gqla_mlafix)
