# Tensor parallelism along KV groups (issue 17, engine/tp.h): per-rank cache
# bytes against the formula in process, and `gqla-eval score --tp N` under
# mpirun -np 2 and 3 against one process on 3-group GQLA fixtures.  Only
# with MPI compiled in (the numbers must go through real ranks).
if(GQLA_HAVE_MPI)
  gqla_add_test(test_tp test_tp.c ${MPIEXEC_EXECUTABLE})
  target_link_libraries(test_tp PRIVATE gqla_mlafix gqla_main_fixtures)
  add_dependencies(test_tp gqla-eval)
  set_tests_properties(test_tp PROPERTIES TIMEOUT 300)
endif()

# The NCCL all-reduce (engine/collective_nccl.cu): built and linked where
# NCCL is found; runs on one rank where a GPU is, else skipped (77).
if(GQLA_HAVE_NCCL AND TARGET gqla_cuda)
  gqla_add_test(test_nccl test_nccl.c)
  target_link_libraries(test_nccl PRIVATE CUDA::cudart)
endif()
