# Models by Hub id (hub/): tests/test_hub.py drives the gqla-eval binary
# against tests/fake_hub.py, a fake Hub it starts on 127.0.0.1 for each
# case (one ctest entry per case).
find_package(Python3 COMPONENTS Interpreter)
set(GQLA_HUB_CASES fresh sharded gguf resume sha_mismatch unauthorized not_found redirect_cdn
    offline_warm offline_cold escape token_secret)
if(Python3_Interpreter_FOUND)
  foreach(c ${GQLA_HUB_CASES})
    add_test(NAME hub.${c} COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/test_hub.py ${c})
    set_tests_properties(hub.${c} PROPERTIES TIMEOUT 120
      ENVIRONMENT "GQ_FIXTURES=${GQLA_FIXTURES};GQ_CLI=$<TARGET_FILE:gqla-eval>;GQ_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp;OMP_WAIT_POLICY=PASSIVE")
  endforeach()
else()
  message(WARNING "python3 not found: the hub.* tests (fake Hub server) are not registered")
endif()

# Both directions with the real huggingface_hub (tests/reference/check_hf_cache_interop.py):
# it makes a virtualenv and pip-installs huggingface_hub, so it needs PyPI once
# and skips (77) without it; "slow" keeps it out of the sanitizer run.
if(Python3_Interpreter_FOUND)
  add_test(NAME hub.interop COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/reference/check_hf_cache_interop.py)
  set_tests_properties(hub.interop PROPERTIES TIMEOUT 600 SKIP_RETURN_CODE 77 LABELS slow
    ENVIRONMENT "GQ_FIXTURES=${GQLA_FIXTURES};GQ_CLI=$<TARGET_FILE:gqla-eval>;GQ_TMP=${CMAKE_CURRENT_BINARY_DIR}/tmp")
endif()
