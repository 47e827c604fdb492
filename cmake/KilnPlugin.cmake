# kiln_add_plugin(<target> SOURCES ...): a plugin shared object that exports exactly one symbol,
# kiln_plugin_get_api (linker version script), compiled against kiln_plugin.h only, and placed in
# <build>/lib/kiln/plugins like an install; `cmake --install` puts it in <prefix>/lib/kiln/plugins
# (NO_INSTALL: not installed). The installed package has its own kiln_add_plugin()
# (cmake/kilnConfig.cmake.in) for plugins built outside this tree.
set(KILN_PLUGIN_VERSION_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/kiln_plugin.map)

function(kiln_add_plugin target)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIRECTORY" "SOURCES" ${ARGN})
  add_library(${target} MODULE ${ARG_SOURCES})
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/core/include)
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY})
  else()
    set_target_properties(${target} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${KILN_PLUGIN_OUTPUT_DIRECTORY})
  endif()
  target_link_options(${target} PRIVATE
    "LINKER:--version-script=${KILN_PLUGIN_VERSION_SCRIPT}" "LINKER:--no-undefined")
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION lib/kiln/plugins)
  endif()
endfunction()
