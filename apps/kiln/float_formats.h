// float_formats: conversions between float and the storage formats .npy and C++ lack natively
// (float16, bfloat16, the float8 variants), and reading any kiln element as a double.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln::cli {

float half_to_float(uint16_t bits);
uint16_t float_to_half(float value);  // round to nearest even; overflow to infinity
float bfloat16_to_float(uint16_t bits);
uint16_t float_to_bfloat16(float value);  // round to nearest even

bool is_float8(int32_t dtype);
float float8_to_float(uint8_t bits, int32_t dtype);
// Nearest representable value (ties to an even code); saturates to the largest finite value.
uint8_t float_to_float8(float value, int32_t dtype);

// True for the dtypes .npy cannot store, which kiln writes widened to float32.
bool needs_float32_widening(int32_t dtype);
// Element `index` of host data of `dtype` (a kiln_dtype code) as a double.
double element_as_double(const uint8_t* data, int32_t dtype, size_t index);

}  // namespace kiln::cli
