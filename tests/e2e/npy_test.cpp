// Unit tests of the CLI's .npy reader and writer (apps/kiln/npy.h): round trips for every dtype,
// big-endian data, Fortran order, format versions 2.0 and 3.0, every rejection, and files written
// and read by NumPy itself when a Python with NumPy is available.
#include "npy.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "kiln/kiln_types.h"
#include "subprocess.h"

namespace kiln::npy {
namespace {

// A .npy file assembled by hand: any version, any header text, any data bytes.
std::vector<uint8_t> raw_npy(int major, const std::string& header, const std::vector<uint8_t>& data,
                             int minor = 0) {
  std::vector<uint8_t> out = {
      0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), static_cast<uint8_t>(minor)};
  const size_t length_bytes = major == 1 ? 2 : 4;
  for (size_t i = 0; i < length_bytes; ++i) out.push_back((header.size() >> (8 * i)) & 0xff);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::string header_for(const std::string& descr, bool fortran, const std::string& shape) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") +
         ", 'shape': " + shape + ", }\n";
}

template <typename T>
std::vector<uint8_t> bytes_of(const std::vector<T>& values) {
  std::vector<uint8_t> out(values.size() * sizeof(T));
  std::memcpy(out.data(), values.data(), out.size());
  return out;
}

template <typename T>
std::vector<T> values_of(const Array& array) {
  std::vector<T> out(array.data.size() / sizeof(T));
  std::memcpy(out.data(), array.data.data(), array.data.size());
  return out;
}

Array parse_bytes(const std::vector<uint8_t>& bytes) {
  return parse(bytes.data(), bytes.size(), "test.npy");
}

// The message of the npy::Error that parsing `bytes` throws ("" if it does not throw).
std::string parse_error(const std::vector<uint8_t>& bytes) {
  try {
    parse_bytes(bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(CliNpy, RoundTripsEveryDtype) {
  const int32_t dtypes[] = {KILN_DTYPE_BOOL,    KILN_DTYPE_INT8,    KILN_DTYPE_UINT8,
                            KILN_DTYPE_INT16,   KILN_DTYPE_UINT16,  KILN_DTYPE_INT32,
                            KILN_DTYPE_UINT32,  KILN_DTYPE_INT64,   KILN_DTYPE_UINT64,
                            KILN_DTYPE_FLOAT16, KILN_DTYPE_FLOAT32, KILN_DTYPE_FLOAT64};
  for (int32_t dtype : dtypes) {
    SCOPED_TRACE("dtype " + std::to_string(dtype));
    Array array;
    array.dtype = dtype;
    array.shape = {2, 3};
    array.data.resize(6 * kiln_dtype_size(dtype));
    for (size_t i = 0; i < array.data.size(); ++i) {
      array.data[i] = dtype == KILN_DTYPE_BOOL ? i % 2 : static_cast<uint8_t>(i * 37 + 1);
    }
    const std::vector<uint8_t> bytes = encode(array);
    EXPECT_EQ(bytes[6], 1);  // version 1.0
    EXPECT_EQ(bytes[7], 0);
    const size_t header_length = bytes[8] | (bytes[9] << 8);
    EXPECT_EQ((10 + header_length) % 64, 0u) << "header not padded to 64 bytes";
    EXPECT_EQ(bytes[10 + header_length - 1], '\n');
    const Array back = parse_bytes(bytes);
    EXPECT_EQ(back.dtype, dtype);
    EXPECT_EQ(back.shape, array.shape);
    EXPECT_EQ(back.data, array.data);
  }
}

TEST(CliNpy, WritesNumpyHeaderText) {
  Array array;
  array.dtype = KILN_DTYPE_FLOAT32;
  array.shape = {3};
  array.data = bytes_of(std::vector<float>{1, 2, 3});
  const std::vector<uint8_t> bytes = encode(array);
  const std::string text(bytes.begin() + 10, bytes.end());
  EXPECT_EQ(text.rfind("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 0), 0u) << text;

  array.shape = {};
  array.data = bytes_of(std::vector<float>{7});
  const std::vector<uint8_t> scalar = encode(array);
  EXPECT_NE(std::string(scalar.begin(), scalar.end()).find("'shape': (), }"), std::string::npos);
  const Array back = parse_bytes(scalar);
  EXPECT_TRUE(back.shape.empty());
  EXPECT_EQ(values_of<float>(back), std::vector<float>{7});
}

TEST(CliNpy, RoundTripsEmptyAndHighRankShapes) {
  for (const std::vector<int64_t>& shape :
       std::vector<std::vector<int64_t>>{{0}, {4, 0, 2}, {1, 1, 1, 1, 1, 1, 1, 2}}) {
    Array array;
    array.dtype = KILN_DTYPE_INT32;
    array.shape = shape;
    array.data.resize(static_cast<size_t>(array.num_elements()) * 4, 0xab);
    const Array back = parse_bytes(encode(array));
    EXPECT_EQ(back.shape, shape);
    EXPECT_EQ(back.data, array.data);
  }
}

TEST(CliNpy, RefusesToWriteWhatNpyCannotHold) {
  Array array;
  array.dtype = KILN_DTYPE_BFLOAT16;
  array.shape = {1};
  array.data = {0, 0};
  EXPECT_THROW(encode(array), Error);
  array.dtype = KILN_DTYPE_FLOAT32;
  array.shape = {2};
  array.data = {0, 0, 0, 0};  // 4 bytes for 2 float32
  EXPECT_THROW(encode(array), Error);
}

TEST(CliNpy, ReadsBigEndianData) {
  // int32 1, 2, -3 big-endian.
  const Array ints = parse_bytes(raw_npy(1, header_for(">i4", false, "(3,)"),
                                         {0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xfd}));
  EXPECT_EQ(ints.dtype, KILN_DTYPE_INT32);
  EXPECT_EQ(values_of<int32_t>(ints), (std::vector<int32_t>{1, 2, -3}));

  // float64 1.5 big-endian: 0x3FF8000000000000.
  const Array doubles =
      parse_bytes(raw_npy(1, header_for(">f8", false, "(1,)"), {0x3f, 0xf8, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(values_of<double>(doubles), std::vector<double>{1.5});

  // uint16 0x0102 big-endian, and a one-byte type, where '>' changes nothing.
  EXPECT_EQ(values_of<uint16_t>(parse_bytes(raw_npy(1, header_for(">u2", false, "(1,)"), {1, 2}))),
            std::vector<uint16_t>{0x0102});
  EXPECT_EQ(parse_bytes(raw_npy(1, header_for(">i1", false, "(2,)"), {5, 0xfe})).data,
            (std::vector<uint8_t>{5, 0xfe}));
}

TEST(CliNpy, TransposesFortranOrder) {
  // [[1, 2, 3], [4, 5, 6]] stored column by column.
  const Array matrix = parse_bytes(raw_npy(1, header_for("<i4", true, "(2, 3)"),
                                           bytes_of(std::vector<int32_t>{1, 4, 2, 5, 3, 6})));
  EXPECT_EQ(matrix.shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(values_of<int32_t>(matrix), (std::vector<int32_t>{1, 2, 3, 4, 5, 6}));

  // Rank 3: element (i, j, k) = 100 i + 10 j + k, at Fortran offset i + 2 j + 6 k.
  std::vector<int32_t> fortran(2 * 3 * 4);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) fortran[i + 2 * j + 6 * k] = 100 * i + 10 * j + k;
  const Array cube =
      parse_bytes(raw_npy(1, header_for("<i4", true, "(2, 3, 4)"), bytes_of(fortran)));
  std::vector<int32_t> expected;
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) expected.push_back(100 * i + 10 * j + k);
  EXPECT_EQ(values_of<int32_t>(cube), expected);

  // Big-endian and Fortran order together.
  const Array both = parse_bytes(
      raw_npy(1, header_for(">i2", true, "(2, 2)"), {0, 1, 0, 3, 0, 2, 0, 4}));  // [[1, 2], [3, 4]]
  EXPECT_EQ(values_of<int16_t>(both), (std::vector<int16_t>{1, 2, 3, 4}));
}

TEST(CliNpy, ReadsVersions2And3) {
  for (int major : {2, 3}) {
    const Array array = parse_bytes(
        raw_npy(major, header_for("<f4", false, "(2,)"), bytes_of(std::vector<float>{0.5f, -2})));
    EXPECT_EQ(values_of<float>(array), (std::vector<float>{0.5f, -2}));
  }
}

TEST(CliNpy, AcceptsHeaderVariants) {
  // Keys in another order, double quotes, Python 2 longs, no trailing comma.
  const Array array = parse_bytes(raw_npy(
      1, "{\"shape\": (2L, 1L), \"fortran_order\": False, \"descr\": \"<u1\"}   \n", {7, 9}));
  EXPECT_EQ(array.shape, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(array.data, (std::vector<uint8_t>{7, 9}));
}

TEST(CliNpy, RejectsBadFilesWithReasons) {
  const std::vector<uint8_t> four_floats = bytes_of(std::vector<float>{1, 2, 3, 4});
  struct Case {
    const char* what;
    std::vector<uint8_t> bytes;
    const char* expected;
  };
  std::vector<uint8_t> bad_magic = raw_npy(1, header_for("<f4", false, "(4,)"), four_floats);
  bad_magic[1] = 'X';
  const std::vector<uint8_t> good = raw_npy(1, header_for("<f4", false, "(4,)"), four_floats);
  const Case cases[] = {
      {"empty", {}, "bad magic"},
      {"bad magic", bad_magic, "bad magic"},
      {"version 4.0", raw_npy(4, header_for("<f4", false, "(4,)"), four_floats),
       "unsupported .npy format version 4.0"},
      {"version 1.1", raw_npy(1, header_for("<f4", false, "(4,)"), four_floats, 1),
       "unsupported .npy format version 1.1"},
      {"preamble cut", std::vector<uint8_t>(good.begin(), good.begin() + 9), "truncated"},
      {"header cut", std::vector<uint8_t>(good.begin(), good.begin() + 30), "truncated header"},
      {"not a dict", raw_npy(1, "['<f4', False, (4,)]\n", four_floats), "not a Python dict"},
      {"unterminated", raw_npy(1, "{'descr': '<f4', 'shape': (4,)\n", four_floats),
       "malformed header"},
      {"missing descr", raw_npy(1, "{'fortran_order': False, 'shape': (4,), }\n", four_floats),
       "missing the key 'descr'"},
      {"missing shape", raw_npy(1, "{'descr': '<f4', 'fortran_order': False, }\n", four_floats),
       "missing the key 'shape'"},
      {"missing order", raw_npy(1, "{'descr': '<f4', 'shape': (4,), }\n", four_floats),
       "missing the key 'fortran_order'"},
      {"unknown key",
       raw_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}\n", four_floats),
       "unexpected key 'x'"},
      {"duplicate key",
       raw_npy(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (4,)}\n",
               four_floats),
       "twice"},
      {"order not bool",
       raw_npy(1, "{'descr': '<f4', 'fortran_order': 0, 'shape': (4,)}\n", four_floats),
       "'fortran_order' is not True or False"},
      {"shape not tuple",
       raw_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': 4}\n", four_floats),
       "'shape' is not a tuple"},
      {"complex", raw_npy(1, header_for("<c8", false, "(2,)"), four_floats), "'<c8'"},
      {"object", raw_npy(1, header_for("|O", false, "(2,)"), four_floats), "'|O'"},
      {"unicode", raw_npy(1, header_for("<U2", false, "(2,)"), four_floats), "strings"},
      {"float128", raw_npy(1, header_for("<f16", false, "(1,)"), four_floats), "'<f16'"},
      {"structured",
       raw_npy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,)}\n",
               four_floats),
       "structured"},
      {"negative dim", raw_npy(1, header_for("<f4", false, "(-1, 4)"), four_floats),
       "negative dim"},
      {"overflowing shape",
       raw_npy(1, header_for("<f4", false, "(4294967296, 4294967296)"), four_floats),
       "more elements than fit in 64 bits"},
      {"dim past int64",
       raw_npy(1, header_for("<f4", false, "(99999999999999999999,)"), four_floats),
       "overflows 64 bits"},
      {"huge data", raw_npy(1, header_for("<f8", false, "(2305843009213693952,)"), four_floats),
       "larger than any file"},
      {"truncated data", std::vector<uint8_t>(good.begin(), good.end() - 3), "truncated data"},
      {"extra bytes", raw_npy(1, header_for("<f4", false, "(3,)"), four_floats), "4 extra bytes"},
      {"bad bool", raw_npy(1, header_for("|b1", false, "(2,)"), {1, 2}), "not 0 or 1"},
  };
  for (const Case& c : cases) {
    const std::string message = parse_error(c.bytes);
    EXPECT_NE(message.find(c.expected), std::string::npos)
        << c.what << ": got \"" << message << "\", expected it to contain \"" << c.expected << "\"";
    EXPECT_EQ(message.rfind("test.npy: ", 0), 0u) << c.what << ": message must name the file";
  }
}

TEST(CliNpy, ReadAndWriteNameTheFile) {
  try {
    read("/nonexistent/dir/x.npy");
    FAIL() << "read of a missing file did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/x.npy"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos);
  }
  Array array;
  array.dtype = KILN_DTYPE_UINT8;
  array.shape = {1};
  array.data = {1};
  try {
    write("/nonexistent/dir/y.npy", array);
    FAIL() << "write into a missing folder did not throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/y.npy"), std::string::npos);
  }
}

// ---- NumPy as the independent oracle ----------------------------------------------------------

std::string python_with_numpy() {
#ifdef KILN_E2E_PYTHON
  const std::string python = KILN_E2E_PYTHON;
  if (!python.empty() && access(python.c_str(), X_OK) == 0) {
    const e2e::ProcessResult r = e2e::run_process({python, "-c", "import numpy"});
    if (r.exit_code == 0) return python;
  }
#endif
  return "";
}

class CliNpyVsNumpy : public ::testing::Test {
 protected:
  void SetUp() override {
    python_ = python_with_numpy();
    if (python_.empty()) GTEST_SKIP() << "no Python with NumPy (KILN_PYTHON) to compare with";
    char pattern[] = "/tmp/kiln-npy-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  e2e::ProcessResult python(const std::string& code) {
    return e2e::run_process({python_, "-c", code});
  }
  std::string python_;
  std::string dir_;
};

TEST_F(CliNpyVsNumpy, ReadsWhatNumpyWrites) {
  // Every dtype, both byte orders, Fortran order, and versions 1.0/2.0/3.0, all holding
  // arange(24) reshaped to (2, 3, 4) (bool: arange % 2).
  const std::string code =
      "import numpy as np, numpy.lib.format as f\n"
      "d = '" +
      dir_ +
      "'\n"
      "for i, t in enumerate(['|b1','|i1','|u1','<i2','>i2','<u2','>u2','<i4','>i4','<u4','>u4',"
      "'<i8','>i8','<u8','>u8','<f2','>f2','<f4','>f4','<f8','>f8']):\n"
      "  a = np.arange(24).reshape(2, 3, 4)\n"
      "  a = (a % 2).astype(t) if t == '|b1' else a.astype(t)\n"
      "  for order in 'CF':\n"
      "    for v in [(1, 0), (2, 0), (3, 0)]:\n"
      "      with open(f'{d}/{i}_{order}_{v[0]}.npy', 'wb') as fh:\n"
      "        f.write_array(fh, np.asarray(a, order=order), version=v)\n";
  const e2e::ProcessResult r = python(code);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    SCOPED_TRACE(entry.path().string());
    const Array array = read(entry.path().string());
    ASSERT_EQ(array.shape, (std::vector<int64_t>{2, 3, 4}));
    const size_t size = kiln_dtype_size(array.dtype);
    for (size_t i = 0; i < 24; ++i) {
      double value = 0;
      const uint8_t* p = &array.data[i * size];
      switch (array.dtype) {
        case KILN_DTYPE_BOOL:
          value = *p;
          break;
        case KILN_DTYPE_INT8:
          value = static_cast<int8_t>(*p);
          break;
        case KILN_DTYPE_UINT8:
          value = *p;
          break;
        case KILN_DTYPE_INT16: {
          int16_t v;
          std::memcpy(&v, p, 2);
          value = v;
          break;
        }
        case KILN_DTYPE_UINT16: {
          uint16_t v;
          std::memcpy(&v, p, 2);
          value = v;
          break;
        }
        case KILN_DTYPE_INT32: {
          int32_t v;
          std::memcpy(&v, p, 4);
          value = v;
          break;
        }
        case KILN_DTYPE_UINT32: {
          uint32_t v;
          std::memcpy(&v, p, 4);
          value = v;
          break;
        }
        case KILN_DTYPE_INT64: {
          int64_t v;
          std::memcpy(&v, p, 8);
          value = static_cast<double>(v);
          break;
        }
        case KILN_DTYPE_UINT64: {
          uint64_t v;
          std::memcpy(&v, p, 8);
          value = static_cast<double>(v);
          break;
        }
        case KILN_DTYPE_FLOAT16: {  // small integers: exponent and mantissa decode exactly
          uint16_t v;
          std::memcpy(&v, p, 2);
          const int e = (v >> 10) & 0x1f, m = v & 0x3ff;
          value = e == 0 ? 0 : std::ldexp(1.0 + m / 1024.0, e - 15);
          break;
        }
        case KILN_DTYPE_FLOAT32: {
          float v;
          std::memcpy(&v, p, 4);
          value = v;
          break;
        }
        case KILN_DTYPE_FLOAT64: {
          std::memcpy(&value, p, 8);
          break;
        }
        default:
          FAIL() << "unexpected dtype " << array.dtype;
      }
      const double expected = array.dtype == KILN_DTYPE_BOOL ? static_cast<double>(i % 2) : i;
      ASSERT_EQ(value, expected) << "element " << i;
    }
    ++files;
  }
  EXPECT_EQ(files, 21u * 2 * 3);
}

TEST_F(CliNpyVsNumpy, NumpyReadsWhatWeWrite) {
  Array floats;
  floats.dtype = KILN_DTYPE_FLOAT32;
  floats.shape = {2, 3};
  floats.data = bytes_of(std::vector<float>{0.5f, -1, 2, 3.25f, 4, 5});
  write(dir_ + "/f.npy", floats);
  Array bools;
  bools.dtype = KILN_DTYPE_BOOL;
  bools.shape = {3};
  bools.data = {1, 0, 1};
  write(dir_ + "/b.npy", bools);
  Array scalar;
  scalar.dtype = KILN_DTYPE_INT64;
  scalar.shape = {};
  scalar.data = bytes_of(std::vector<int64_t>{-42});
  write(dir_ + "/s.npy", scalar);
  const e2e::ProcessResult r = python(
      "import numpy as np\n"
      "d = '" +
      dir_ +
      "'\n"
      "f = np.load(d + '/f.npy'); b = np.load(d + '/b.npy'); s = np.load(d + '/s.npy')\n"
      "assert f.dtype == np.float32 and f.shape == (2, 3), (f.dtype, f.shape)\n"
      "assert (f == np.array([[0.5, -1, 2], [3.25, 4, 5]], np.float32)).all(), f\n"
      "assert b.dtype == np.bool_ and list(b) == [True, False, True], b\n"
      "assert s.dtype == np.int64 and s.shape == () and s == -42, s\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace kiln::npy
