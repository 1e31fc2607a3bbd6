# Fuzz targets (tests/fuzz/, one per parser; fuzz_util.h says how they work).
#   GQLA_FUZZ=ON (scripts/fuzz.sh, clang): fuzz_<name> libFuzzer binaries
#     and the target fuzz_all that builds them; no ctest here — the campaign
#     is scripts/fuzz.sh.
#   otherwise: replay_<name>, the same target linked with replay_main.c, and
#     the ctest fuzz_replay.<name> that runs it over the seed corpus
#     (tests/fuzz/corpus/<name>/) and every committed crash or bound input
#     (tests/fuzz/regressions/<name>/), in the release and sanitizer builds.
set(GQLA_FUZZ_TARGETS safetensors gguf config tokenizer dataset hub_page journal run_clock compare report shard)
set(GQLA_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)

add_library(gqla_fuzz_util STATIC ${GQLA_FUZZ_DIR}/fuzz_util.c)
target_include_directories(gqla_fuzz_util PUBLIC ${GQLA_FUZZ_DIR})
# The datasets internals (ds_internal.h) for the hub-page target.
target_include_directories(gqla_fuzz_util PUBLIC ${CMAKE_SOURCE_DIR}/datasets)
target_link_libraries(gqla_fuzz_util PUBLIC gqla)

if(GQLA_FUZZ)
  add_custom_target(fuzz_all)
  foreach(t ${GQLA_FUZZ_TARGETS})
    add_executable(fuzz_${t} ${GQLA_FUZZ_DIR}/fuzz_${t}.c)
    target_link_libraries(fuzz_${t} PRIVATE gqla_fuzz_util)
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
    add_dependencies(fuzz_all fuzz_${t})
  endforeach()
else()
  foreach(t ${GQLA_FUZZ_TARGETS})
    add_executable(replay_${t} ${GQLA_FUZZ_DIR}/fuzz_${t}.c ${GQLA_FUZZ_DIR}/replay_main.c)
    target_link_libraries(replay_${t} PRIVATE gqla_fuzz_util)
    add_test(NAME fuzz_replay.${t}
             COMMAND replay_${t} ${GQLA_FUZZ_DIR}/corpus/${t} ${GQLA_FUZZ_DIR}/regressions/${t})
    set_tests_properties(fuzz_replay.${t} PROPERTIES
      ENVIRONMENT "TMPDIR=${CMAKE_CURRENT_BINARY_DIR}/tmp;OMP_WAIT_POLICY=PASSIVE;HF_HUB_OFFLINE=1"
      FAIL_REGULAR_EXPRESSION "ERROR: AddressSanitizer|runtime error:|LeakSanitizer")
  endforeach()
endif()
