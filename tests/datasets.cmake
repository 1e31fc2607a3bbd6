# Dataset suites: the readers on invented rows (one ctest entry per case),
# the real release files of ../shared/datasets (skips when absent), and the
# Hub download against a local HTTP server the test starts itself.

set(GQLA_DS_LOCAL_CASES arc_jsonl arc_hf_array obqa mmlu_csv csv_edges csv_errors piqa
    winogrande hellaswag_txt hellaswag_jsonl bad_rows missing_files hub_page cache_container)
set(GQLA_DS_HUB_CASES pagination dropped_connection rate_limited server_error timeout
    unauthorized bearer_token not_found corrupt_cache offline_empty offline_cached
    bad_id fetch_all)

# One binary per suite; each further case reuses the first test's environment.
function(gqla_ds_cases first_test binary prefix)
  get_test_property(${first_test} ENVIRONMENT env)
  foreach(c ${ARGN})
    add_test(NAME ${prefix}.${c} COMMAND ${binary} ${c})
    set_tests_properties(${prefix}.${c} PROPERTIES ENVIRONMENT "${env};OMP_WAIT_POLICY=PASSIVE" SKIP_RETURN_CODE ${GQLA_SKIP_CODE}
                         TIMEOUT 60)
  endforeach()
endfunction()

list(GET GQLA_DS_LOCAL_CASES 0 _ds_first)
gqla_add_test(test_datasets_local test_datasets_local.c ${_ds_first})
list(REMOVE_AT GQLA_DS_LOCAL_CASES 0)
gqla_ds_cases(test_datasets_local test_datasets_local datasets_local ${GQLA_DS_LOCAL_CASES})

# The real data: CI puts shared/ beside the checkout.
gqla_add_test(test_datasets_shared test_datasets_shared.c)
set_property(TEST test_datasets_shared APPEND PROPERTY ENVIRONMENT
             "GQ_SHARED_DATASETS=${CMAKE_SOURCE_DIR}/../shared/datasets")

list(GET GQLA_DS_HUB_CASES 0 _ds_first)
gqla_add_test(test_datasets_hub test_datasets_hub.c ${_ds_first})
set_tests_properties(test_datasets_hub PROPERTIES TIMEOUT 60)
list(REMOVE_AT GQLA_DS_HUB_CASES 0)
gqla_ds_cases(test_datasets_hub test_datasets_hub datasets_hub ${GQLA_DS_HUB_CASES})
