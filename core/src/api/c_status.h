// The ABI edge's helpers: Status -> kiln_status*, and the guard that keeps C++ exceptions
// (std::bad_alloc, bugs) from crossing into C callers.
#pragma once

#include <exception>
#include <new>
#include <string>

#include "base/status.h"
#include "kiln/kiln.h"

struct kiln_status {
  int32_t code;
  std::string message;
};

namespace kiln {

// nullptr for OK. Never throws (returns a static out-of-memory status if allocation fails).
kiln_status* to_c_status(const Status& status);
kiln_status* make_c_status(StatusCode code, const std::string& message);
// Converts and frees a status returned across the plugin ABI (nullptr = OK).
Status from_c_status(kiln_status* status);
// The preallocated out-of-memory status, which kiln_status_destroy does not free.
bool is_static_status(const kiln_status* status);

}  // namespace kiln

// Wrap the body of every extern "C" function that returns kiln_status*:
//   KILN_API_BEGIN ... return nullptr; KILN_API_END
#define KILN_API_BEGIN try {
#define KILN_API_END                                                                       \
  }                                                                                        \
  catch (const std::bad_alloc&) {                                                          \
    return ::kiln::make_c_status(::kiln::StatusCode::kResourceExhausted, "out of memory"); \
  }                                                                                        \
  catch (const std::exception& e) {                                                        \
    return ::kiln::make_c_status(::kiln::StatusCode::kInternal,                            \
                                 std::string("internal error: ") + e.what());              \
  }                                                                                        \
  catch (...) {                                                                            \
    return ::kiln::make_c_status(::kiln::StatusCode::kInternal, "internal error");         \
  }

// Checks a required pointer argument.
#define KILN_CHECK_ARG(ptr)                                                              \
  do {                                                                                   \
    if ((ptr) == nullptr)                                                                \
      return ::kiln::make_c_status(::kiln::StatusCode::kInvalidArgument,                 \
                                   std::string(__func__) + ": argument '" #ptr "' is NULL"); \
  } while (0)
