# A model moved into a backend's memory (engine/device.c), checked without a
# GPU: the CPU's arithmetic behind a backend that refuses host pointers.
gqla_add_test(test_device test_device.c)
target_link_libraries(test_device PRIVATE gqla_mlafix)
