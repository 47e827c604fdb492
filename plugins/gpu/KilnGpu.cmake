# KilnGpu.cmake: what the CUDA and ROCm plugin builds share — the list of GPU sources, the
# architecture string the plugin reports, and the GPU test programs (added once).

# The sources in plugins/gpu, compiled as CUDA by nvcc or as HIP by hipcc.
set(KILN_GPU_DIR ${CMAKE_CURRENT_LIST_DIR})
set(KILN_GPU_SOURCES
  ${KILN_GPU_DIR}/gpu_status.cu
  ${KILN_GPU_DIR}/backend.cu
  ${KILN_GPU_DIR}/device.cu
  ${KILN_GPU_DIR}/device_api.cu
  ${KILN_GPU_DIR}/kernel_call.cu
  ${KILN_GPU_DIR}/elementwise.cu
  ${KILN_GPU_DIR}/reduce.cu
  ${KILN_GPU_DIR}/layout.cu
  ${KILN_GPU_DIR}/gemm.cu
  ${KILN_GPU_DIR}/math.cu
  ${KILN_GPU_DIR}/sort.cu
  ${KILN_GPU_DIR}/movement.cu
  ${KILN_GPU_DIR}/quant.cu
  ${KILN_GPU_DIR}/plugin_entry.cu)
set(KILN_GPU_HEADERS
  ${KILN_GPU_DIR}/vendor.h
  ${KILN_GPU_DIR}/gpu_status.h
  ${KILN_GPU_DIR}/device.h
  ${KILN_GPU_DIR}/device_api.h
  ${KILN_GPU_DIR}/kernel_call.h
  ${KILN_GPU_DIR}/kernels.h
  ${KILN_GPU_DIR}/dtype.cuh
  ${KILN_GPU_DIR}/elementwise.cuh
  ${KILN_GPU_DIR}/strided_copy.h)

# kiln_gpu_targets_string(<out> <prefix> <arch>...): "sm_90, sm_80" from "90;80-real" (prefix
# "sm_"), "gfx90a" from "gfx90a" (prefix ""). Shown in messages about missing kernel images.
function(kiln_gpu_targets_string out prefix)
  set(names)
  foreach(arch IN LISTS ARGN)
    string(REGEX REPLACE "-(real|virtual)$" "" arch "${arch}")
    if(arch MATCHES "^[0-9]+[a-z]?$")
      list(APPEND names "${prefix}${arch}")
    else()
      list(APPEND names "${arch}")
    endif()
  endforeach()
  list(JOIN names ", " joined)
  set(${out} "${joined}" PARENT_SCOPE)
endfunction()

# The GPU test programs: a dlopen probe that needs no libkiln (runs on any GPU machine, checks the
# device API and the add kernel through the plugin ABI), and a kiln.h program that compares the
# GPU's add with the CPU plugin's (added when libkiln exists in this build).
if(NOT TARGET kiln_gpu_probe)
  add_executable(kiln_gpu_probe ${KILN_GPU_DIR}/tests/gpu_plugin_probe.cpp)
  target_include_directories(kiln_gpu_probe PRIVATE ${PROJECT_SOURCE_DIR}/core/include)
  target_link_libraries(kiln_gpu_probe PRIVATE ${CMAKE_DL_LIBS})
endif()
if(NOT TARGET kiln_gpu_add_check AND TARGET kiln)
  add_executable(kiln_gpu_add_check ${KILN_GPU_DIR}/tests/add_vs_cpu.c)
  target_link_libraries(kiln_gpu_add_check PRIVATE kiln)
endif()
# Every GPU kernel against the CPU plugin on the same graph and inputs, cuBLASLt against the own
# GEMM, the error paths, and (with --bench) the GPU benchmarks: tests/gpu/gpu_ops_vs_cpu.cpp.
if(NOT TARGET kiln_gpu_ops_check AND TARGET kiln)
  add_executable(kiln_gpu_ops_check ${PROJECT_SOURCE_DIR}/tests/gpu/gpu_ops_vs_cpu.cpp)
  target_link_libraries(kiln_gpu_ops_check PRIVATE kiln)
  if(KILN_BUILD_TESTS)
    add_test(NAME gpu_ops_vs_cpu COMMAND kiln_gpu_ops_check)
    set_tests_properties(gpu_ops_vs_cpu PROPERTIES SKIP_RETURN_CODE 77)
  endif()
endif()

# kiln_gpu_register_tests(<plugin target>): the probe as a ctest test. On a machine without the
# GPU it passes when the plugin loads and names the reason for zero devices. (The add check,
# which runs on whichever GPU is gpu:0, is registered once in tests/CMakeLists.txt.)
function(kiln_gpu_register_tests plugin)
  if(KILN_BUILD_TESTS)
    add_test(NAME gpu_probe_${plugin} COMMAND kiln_gpu_probe $<TARGET_FILE:${plugin}>)
  endif()
endfunction()
