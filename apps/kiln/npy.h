// npy: reading and writing NumPy .npy files (format versions 1.0, 2.0 and 3.0).
//
// Reading accepts the fixed-size numeric dtypes kiln has ('|b1' '|i1' '|u1' and '<'/'>' forms of
// i2 u2 i4 u4 i8 u8 f2 f4 f8), big-endian data (byte-swapped) and fortran_order (transposed to C
// order). Everything in the file is checked before use; a bad file throws npy::Error whose message
// names the file and the reason. Writing produces version 1.0 (2.0 when the header needs it),
// little-endian, C order, with the header padded to a multiple of 64 bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace kiln::npy {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An array in memory: C order, little-endian (the host's order), kiln dtype codes.
struct Array {
  int32_t dtype = 0;  // a kiln_dtype code
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;

  int64_t num_elements() const;
};

// The .npy descr for a kiln dtype ("<f4"), or "" when .npy cannot hold it (bfloat16, float8).
std::string descr_for_dtype(int32_t dtype);

// Parses a whole .npy file held in memory. `origin` names it in messages.
Array parse(const void* bytes, size_t size, const std::string& origin);
Array read(const std::string& path);

// The bytes of a .npy file holding `array`. Throws npy::Error for a dtype .npy cannot hold or a
// data size that does not match the shape.
std::vector<uint8_t> encode(const Array& array);
void write(const std::string& path, const Array& array);

}  // namespace kiln::npy
