# The folders' arrows (README "Layout"): each folder is a library that sees
# only the headers of what it links.  Each case is a one-line C file that
# includes one header, compiled with the usage requirements of one library
# (an OBJECT library linked to it, built only by its test).  An allowed
# include must compile; a backward one must fail with "no such file", so
# the test fails when a link or include path lets a backward arrow through
# (and when the file fails to compile for another reason).
#
# gqla_arrow(NAME LIB HEADER ALLOWED)
function(gqla_arrow name lib header allowed)
  set(src ${CMAKE_CURRENT_BINARY_DIR}/arrows/${name}.c)
  file(WRITE ${src} "#include \"${header}\"\nint gqla_arrow_${name};\n")
  add_library(arrow_${name} OBJECT EXCLUDE_FROM_ALL ${src})
  target_link_libraries(arrow_${name} PRIVATE ${lib})
  add_test(NAME arrows_${name}
           COMMAND ${CMAKE_COMMAND} --build ${CMAKE_BINARY_DIR} --target arrow_${name})
  string(REPLACE "." "\\." h ${header})
  if(allowed)
    set_tests_properties(arrows_${name} PROPERTIES FAIL_REGULAR_EXPRESSION "${h}: No such file|'${h}' file not found")
  else()
    set_tests_properties(arrows_${name} PROPERTIES PASS_REGULAR_EXPRESSION "${h}: No such file|'${h}' file not found")
  endif()
  # One build at a time in the build tree.
  set_tests_properties(arrows_${name} PROPERTIES RESOURCE_LOCK gqla_build_tree)
endfunction()

# Along the arrows: these compile.
gqla_arrow(tasks_base      gqla_tasks    gq_alloc.h  ON)
gqla_arrow(datasets_base   gqla_datasets json_util.h ON)
gqla_arrow(engine_base     gqla_engine   sha256.h    ON)
gqla_arrow(reports_tasks   gqla_reports  task.h      ON)
gqla_arrow(harness_engine  gqla_harness  model.h     ON)
gqla_arrow(harness_reports gqla_harness  report.h    ON)
gqla_arrow(harness_data    gqla_harness  dataset.h   ON)
gqla_arrow(harness_hub     gqla_harness  hub.h       ON)
gqla_arrow(hub_base        gqla_hub      gq_http.h   ON)
gqla_arrow(datasets_http   gqla_datasets gq_http.h   ON)
# Backwards or sideways: these must not.
gqla_arrow(base_engine     gqla_base     model.h     OFF)
gqla_arrow(base_tasks      gqla_base     task.h      OFF)
gqla_arrow(tasks_engine    gqla_tasks    model.h     OFF)
gqla_arrow(tasks_datasets  gqla_tasks    dataset.h   OFF)
gqla_arrow(datasets_tasks  gqla_datasets task.h      OFF)
gqla_arrow(datasets_engine gqla_datasets config.h    OFF)
gqla_arrow(engine_tasks    gqla_engine   task.h      OFF)
gqla_arrow(engine_reports  gqla_engine   results.h   OFF)
gqla_arrow(engine_harness  gqla_engine   eval.h      OFF)
gqla_arrow(reports_engine  gqla_reports  config.h    OFF)
gqla_arrow(reports_harness gqla_reports  eval.h      OFF)
gqla_arrow(base_hub        gqla_base     hub.h       OFF)
gqla_arrow(hub_engine      gqla_hub      model.h     OFF)
gqla_arrow(hub_datasets    gqla_hub      dataset.h   OFF)
gqla_arrow(engine_hub      gqla_engine   hub.h       OFF)
gqla_arrow(datasets_hub    gqla_datasets hub.h       OFF)
