// vendor.h: one neutral GPU vocabulary (gpu*) for the sources in plugins/gpu, mapped onto the CUDA
// runtime (nvcc, the default) or onto HIP (hipcc, with -DKILN_GPU_HIP).
//
// The aliases are object-like macros that paste the vendor prefix onto the neutral name, so
// KILN_GPU_NAME(gpuMalloc) expands to the vendor's own spelling ("cudaMalloc" / "hipMalloc"):
// error messages name the call a user can look up, not our alias. Where the two APIs spell a
// thing differently, the alias is defined in the vendor branch below.
#ifndef KILN_PLUGINS_GPU_VENDOR_H_
#define KILN_PLUGINS_GPU_VENDOR_H_

#if defined(KILN_GPU_HIP)

#include <hip/hip_runtime.h>

#define KILN_GPU_SYMBOL(name) hip##name
#define KILN_GPU_PLUGIN_NAME "rocm"
#define KILN_GPU_DEVICE_API "hip"
#define KILN_GPU_RUNTIME_NAME "HIP"

typedef hipDeviceProp_t gpuDeviceProp_t;
#define gpuDeviceAttributeMemoryPoolsSupported hipDeviceAttributeMemoryPoolsSupported
#define gpuErrorNoKernelImageForDevice hipErrorNoBinaryForGpu
#define gpuErrorRuntimeUnloading hipErrorDeinitialized

#else  // CUDA

#include <cuda_runtime.h>

#define KILN_GPU_SYMBOL(name) cuda##name
#define KILN_GPU_PLUGIN_NAME "cuda"
#define KILN_GPU_DEVICE_API "cuda"
#define KILN_GPU_RUNTIME_NAME "CUDA"

typedef cudaDeviceProp gpuDeviceProp_t;
#define gpuDeviceAttributeMemoryPoolsSupported cudaDevAttrMemoryPoolsSupported
#define gpuErrorNoKernelImageForDevice cudaErrorNoKernelImageForDevice
#define gpuErrorRuntimeUnloading cudaErrorCudartUnloading

#endif

// The GPU architectures the kernels were compiled for ("sm_90", "gfx90a"), set by the build.
#ifndef KILN_GPU_TARGETS
#define KILN_GPU_TARGETS "unknown architectures"
#endif

// The vendor's spelling of an alias, as a string literal: KILN_GPU_NAME(gpuFree) == "cudaFree".
#define KILN_GPU_NAME(alias) KILN_GPU_NAME_(alias)
#define KILN_GPU_NAME_(expanded) #expanded

// ---- Types and constants -------------------------------------------------------------------
#define gpuError_t KILN_GPU_SYMBOL(Error_t)
#define gpuStream_t KILN_GPU_SYMBOL(Stream_t)
#define gpuEvent_t KILN_GPU_SYMBOL(Event_t)
#define gpuMemPool_t KILN_GPU_SYMBOL(MemPool_t)
#define gpuMemPoolProps KILN_GPU_SYMBOL(MemPoolProps)
#define gpuMemcpyKind KILN_GPU_SYMBOL(MemcpyKind)

#define gpuSuccess KILN_GPU_SYMBOL(Success)
#define gpuErrorNoDevice KILN_GPU_SYMBOL(ErrorNoDevice)
#define gpuErrorInsufficientDriver KILN_GPU_SYMBOL(ErrorInsufficientDriver)
#define gpuErrorMemoryAllocation KILN_GPU_SYMBOL(ErrorMemoryAllocation)
#define gpuErrorInvalidValue KILN_GPU_SYMBOL(ErrorInvalidValue)
#define gpuErrorInvalidDevice KILN_GPU_SYMBOL(ErrorInvalidDevice)
#define gpuErrorNotSupported KILN_GPU_SYMBOL(ErrorNotSupported)

#define gpuMemcpyHostToDevice KILN_GPU_SYMBOL(MemcpyHostToDevice)
#define gpuMemcpyDeviceToHost KILN_GPU_SYMBOL(MemcpyDeviceToHost)
#define gpuMemcpyDeviceToDevice KILN_GPU_SYMBOL(MemcpyDeviceToDevice)

#define gpuStreamNonBlocking KILN_GPU_SYMBOL(StreamNonBlocking)
#define gpuEventDisableTiming KILN_GPU_SYMBOL(EventDisableTiming)

#define gpuMemAllocationTypePinned KILN_GPU_SYMBOL(MemAllocationTypePinned)
#define gpuMemHandleTypeNone KILN_GPU_SYMBOL(MemHandleTypeNone)
#define gpuMemLocationTypeDevice KILN_GPU_SYMBOL(MemLocationTypeDevice)
#define gpuMemPoolAttrReleaseThreshold KILN_GPU_SYMBOL(MemPoolAttrReleaseThreshold)
#define gpuMemPoolReuseAllowInternalDependencies \
  KILN_GPU_SYMBOL(MemPoolReuseAllowInternalDependencies)

// ---- Errors and versions -------------------------------------------------------------------
#define gpuGetErrorName KILN_GPU_SYMBOL(GetErrorName)
#define gpuGetErrorString KILN_GPU_SYMBOL(GetErrorString)
#define gpuGetLastError KILN_GPU_SYMBOL(GetLastError)
#define gpuDriverGetVersion KILN_GPU_SYMBOL(DriverGetVersion)
#define gpuRuntimeGetVersion KILN_GPU_SYMBOL(RuntimeGetVersion)

// ---- Devices -------------------------------------------------------------------------------
#define gpuGetDeviceCount KILN_GPU_SYMBOL(GetDeviceCount)
#define gpuGetDevice KILN_GPU_SYMBOL(GetDevice)
#define gpuSetDevice KILN_GPU_SYMBOL(SetDevice)
#define gpuGetDeviceProperties KILN_GPU_SYMBOL(GetDeviceProperties)
#define gpuDeviceGetAttribute KILN_GPU_SYMBOL(DeviceGetAttribute)
#define gpuDeviceSynchronize KILN_GPU_SYMBOL(DeviceSynchronize)
#define gpuMemGetInfo KILN_GPU_SYMBOL(MemGetInfo)

// ---- Memory --------------------------------------------------------------------------------
#define gpuMalloc KILN_GPU_SYMBOL(Malloc)
#define gpuFree KILN_GPU_SYMBOL(Free)
#define gpuMallocAsync KILN_GPU_SYMBOL(MallocAsync)
#define gpuMallocFromPoolAsync KILN_GPU_SYMBOL(MallocFromPoolAsync)
#define gpuFreeAsync KILN_GPU_SYMBOL(FreeAsync)
#define gpuMemPoolCreate KILN_GPU_SYMBOL(MemPoolCreate)
#define gpuMemPoolDestroy KILN_GPU_SYMBOL(MemPoolDestroy)
#define gpuMemPoolSetAttribute KILN_GPU_SYMBOL(MemPoolSetAttribute)
#define gpuMemPoolTrimTo KILN_GPU_SYMBOL(MemPoolTrimTo)
#define gpuMemcpy KILN_GPU_SYMBOL(Memcpy)
#define gpuMemcpyAsync KILN_GPU_SYMBOL(MemcpyAsync)
#define gpuMemsetAsync KILN_GPU_SYMBOL(MemsetAsync)

// ---- Streams and events --------------------------------------------------------------------
#define gpuStreamCreateWithFlags KILN_GPU_SYMBOL(StreamCreateWithFlags)
#define gpuStreamDestroy KILN_GPU_SYMBOL(StreamDestroy)
#define gpuStreamSynchronize KILN_GPU_SYMBOL(StreamSynchronize)
#define gpuStreamWaitEvent KILN_GPU_SYMBOL(StreamWaitEvent)
#define gpuEventCreateWithFlags KILN_GPU_SYMBOL(EventCreateWithFlags)
#define gpuEventDestroy KILN_GPU_SYMBOL(EventDestroy)
#define gpuEventRecord KILN_GPU_SYMBOL(EventRecord)

// ---- Graphs (stream capture and replay) ----------------------------------------------------
#define gpuGraph_t KILN_GPU_SYMBOL(Graph_t)
#define gpuGraphExec_t KILN_GPU_SYMBOL(GraphExec_t)
#define gpuStreamCaptureModeRelaxed KILN_GPU_SYMBOL(StreamCaptureModeRelaxed)
#define gpuStreamBeginCapture KILN_GPU_SYMBOL(StreamBeginCapture)
#define gpuStreamEndCapture KILN_GPU_SYMBOL(StreamEndCapture)
#define gpuGraphInstantiateWithFlags KILN_GPU_SYMBOL(GraphInstantiateWithFlags)
#define gpuGraphLaunch KILN_GPU_SYMBOL(GraphLaunch)
#define gpuGraphDestroy KILN_GPU_SYMBOL(GraphDestroy)
#define gpuGraphExecDestroy KILN_GPU_SYMBOL(GraphExecDestroy)

#endif  // KILN_PLUGINS_GPU_VENDOR_H_
