# `cmake --install`: the layout the build tree already has, so an installed kiln finds its plugins
# exactly as a build does (beside libkiln.so, with no environment variables):
#   include/kiln/*.h  lib/libkiln.so  lib/kiln/plugins/*.so  bin/kiln
#   lib/cmake/kiln/kilnConfig.cmake (+ version, targets kiln::kiln and kiln::plugin_sdk,
#   kiln_add_plugin())  lib/pkgconfig/kiln.pc
# Plugins install themselves through kiln_add_plugin() (cmake/KilnPlugin.cmake); bin/kiln through
# apps/CMakeLists.txt. Paths are fixed ("lib", not GNUInstallDirs' multiarch folder) because the
# default plugin folder is found relative to libkiln.so.
include(CMakePackageConfigHelpers)

set(KILN_INSTALL_INCLUDEDIR include)
set(KILN_INSTALL_LIBDIR lib)
set(KILN_INSTALL_BINDIR bin)
set(KILN_INSTALL_PLUGINDIR lib/kiln/plugins)
set(KILN_INSTALL_CMAKEDIR lib/cmake/kiln)

# The major plugin ABI, read from the header so the package cannot disagree with it.
file(STRINGS ${PROJECT_SOURCE_DIR}/core/include/kiln/kiln_plugin.h _kiln_abi_line
     REGEX "^#define KILN_PLUGIN_ABI_MAJOR ")
string(REGEX REPLACE "^#define KILN_PLUGIN_ABI_MAJOR ([0-9]+)u.*" "\\1" KILN_PLUGIN_ABI_MAJOR
       "${_kiln_abi_line}")

install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/include/kiln
        DESTINATION ${KILN_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")
# Both targets carry $<INSTALL_INTERFACE:include> (core/CMakeLists.txt).
install(TARGETS kiln kiln_plugin_sdk EXPORT kilnTargets
        LIBRARY DESTINATION ${KILN_INSTALL_LIBDIR})
install(EXPORT kilnTargets NAMESPACE kiln:: DESTINATION ${KILN_INSTALL_CMAKEDIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/kilnConfig.cmake.in
  ${CMAKE_BINARY_DIR}/cmake/kilnConfig.cmake
  INSTALL_DESTINATION ${KILN_INSTALL_CMAKEDIR}
  PATH_VARS KILN_INSTALL_INCLUDEDIR KILN_INSTALL_PLUGINDIR KILN_INSTALL_BINDIR)
# 0.x: a minor release may break the C ABI, so only the same major.minor is compatible.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/cmake/kilnConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
configure_file(${CMAKE_CURRENT_LIST_DIR}/kiln.pc.in ${CMAKE_BINARY_DIR}/cmake/kiln.pc @ONLY)

install(FILES
  ${CMAKE_BINARY_DIR}/cmake/kilnConfig.cmake
  ${CMAKE_BINARY_DIR}/cmake/kilnConfigVersion.cmake
  ${KILN_PLUGIN_VERSION_SCRIPT}
  DESTINATION ${KILN_INSTALL_CMAKEDIR})
install(FILES ${CMAKE_BINARY_DIR}/cmake/kiln.pc DESTINATION ${KILN_INSTALL_LIBDIR}/pkgconfig)
# An empty plugin folder still exists, so KILN_PLUGIN_DIR always names a real folder.
install(DIRECTORY DESTINATION ${KILN_INSTALL_PLUGINDIR})
# The Python package (ctypes over libkiln): PYTHONPATH=<prefix>/lib/kiln/python with
# KILN_HOME=<prefix> (the package's library search, bindings/python/kiln/_library.py).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/bindings/python/kiln
        DESTINATION ${KILN_INSTALL_LIBDIR}/kiln/python
        PATTERN "__pycache__" EXCLUDE PATTERN "*.pyc" EXCLUDE)
