// npy: NumPy .npy reading (validated) and writing.
#include "npy.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>

#include "kiln/kiln_types.h"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "npy.cpp assumes a little-endian host");

namespace kiln::npy {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

struct DtypeCode {
  char kind;  // 'b', 'i', 'u', 'f'
  size_t size;
  int32_t dtype;
};
constexpr DtypeCode kDtypeCodes[] = {
    {'b', 1, KILN_DTYPE_BOOL},    {'i', 1, KILN_DTYPE_INT8},    {'u', 1, KILN_DTYPE_UINT8},
    {'i', 2, KILN_DTYPE_INT16},   {'u', 2, KILN_DTYPE_UINT16},  {'i', 4, KILN_DTYPE_INT32},
    {'u', 4, KILN_DTYPE_UINT32},  {'i', 8, KILN_DTYPE_INT64},   {'u', 8, KILN_DTYPE_UINT64},
    {'f', 2, KILN_DTYPE_FLOAT16}, {'f', 4, KILN_DTYPE_FLOAT32}, {'f', 8, KILN_DTYPE_FLOAT64},
};

[[noreturn]] void fail(const std::string& origin, const std::string& reason) {
  throw Error(origin + ": " + reason);
}

std::string shape_to_string(const std::vector<int64_t>& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + (shape.size() == 1 ? ",)" : ")");
}

// ---- The header: a Python dict literal ------------------------------------------------------

struct HeaderValue {
  enum Kind { kString, kBool, kTuple, kList, kOther } kind = kOther;
  std::string text;             // kString
  bool flag = false;            // kBool
  std::vector<int64_t> values;  // kTuple
};

class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& origin) : text_(text), origin_(origin) {}

  // Parses {'key': value, ...} followed only by whitespace.
  std::vector<std::pair<std::string, HeaderValue>> parse_dict() {
    std::vector<std::pair<std::string, HeaderValue>> entries;
    skip_space();
    expect('{', "the header is not a Python dict");
    for (;;) {
      skip_space();
      if (peek() == '}') break;
      if (peek() != '\'' && peek() != '"') error("expected a quoted key");
      std::string key = parse_string();
      skip_space();
      expect(':', "expected ':' after key '" + key + "'");
      skip_space();
      HeaderValue value = parse_value(key);
      entries.emplace_back(std::move(key), std::move(value));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != '}') error("expected ',' or '}'");
    }
    ++pos_;  // '}'
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c != ' ' && c != '\n' && c != '\t' && c != '\r' && c != '\0') {
        error("unexpected text after the header dict");
      }
    }
    return entries;
  }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  void expect(char c, const std::string& what) {
    if (peek() != c) error(what);
    ++pos_;
  }
  [[noreturn]] void error(const std::string& what) const {
    fail(origin_, "malformed header: " + what + " at offset " + std::to_string(pos_) +
                      " of header \"" + printable(text_) + "\"");
  }
  static std::string printable(const std::string& s) {
    std::string out;
    for (char c : s.substr(0, 200)) out += (c >= 32 && c < 127) ? c : '?';
    if (s.size() > 200) out += "...";
    while (!out.empty() && (out.back() == ' ' || out.back() == '?')) out.pop_back();
    return out;
  }

  std::string parse_string() {
    const char quote = text_[pos_++];
    std::string out;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
      out += text_[pos_++];
    }
    if (pos_ >= text_.size()) error("unterminated string");
    ++pos_;
    return out;
  }

  HeaderValue parse_value(const std::string& key) {
    HeaderValue value;
    const char c = peek();
    if (c == '\'' || c == '"') {
      value.kind = HeaderValue::kString;
      value.text = parse_string();
    } else if (text_.compare(pos_, 4, "True") == 0) {
      value.kind = HeaderValue::kBool;
      value.flag = true;
      pos_ += 4;
    } else if (text_.compare(pos_, 5, "False") == 0) {
      value.kind = HeaderValue::kBool;
      pos_ += 5;
    } else if (c == '(') {
      value.kind = HeaderValue::kTuple;
      value.values = parse_int_tuple(key);
    } else if (c == '[') {
      value.kind = HeaderValue::kList;
      skip_balanced();
    } else {
      // Anything else (numbers, None, dicts) is consumed and reported by the caller as the
      // wrong type for its key.
      while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '}') {
        if (text_[pos_] == '(' || text_[pos_] == '[' || text_[pos_] == '{') {
          skip_balanced();
        } else {
          ++pos_;
        }
      }
    }
    return value;
  }

  // Skips a bracketed group, strings included.
  void skip_balanced() {
    int depth = 0;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\'' || c == '"') {
        parse_string();
        continue;
      }
      ++pos_;
      if (c == '(' || c == '[' || c == '{') ++depth;
      if (c == ')' || c == ']' || c == '}') {
        if (--depth == 0) return;
      }
    }
    error("unbalanced brackets");
  }

  std::vector<int64_t> parse_int_tuple(const std::string& key) {
    std::vector<int64_t> values;
    ++pos_;  // '('
    for (;;) {
      skip_space();
      if (peek() == ')') break;
      values.push_back(parse_int(key, values.size()));
      skip_space();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() != ')') error("expected ',' or ')' in '" + key + "'");
    }
    ++pos_;  // ')'
    return values;
  }

  int64_t parse_int(const std::string& key, size_t index) {
    const bool negative = peek() == '-';
    if (negative) ++pos_;
    if (!std::isdigit(static_cast<unsigned char>(peek()))) {
      error("expected an integer in '" + key + "'");
    }
    uint64_t value = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) {
      const uint64_t digit = static_cast<uint64_t>(text_[pos_++] - '0');
      if (value > (static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) - digit) / 10) {
        fail(origin_, "'" + key + "' entry " + std::to_string(index) + " overflows 64 bits");
      }
      value = value * 10 + digit;
    }
    if (peek() == 'L' || peek() == 'l') ++pos_;  // Python 2 longs: (3L, 4L)
    const int64_t signed_value = static_cast<int64_t>(value);
    return negative ? -signed_value : signed_value;
  }

  const std::string& text_;
  const std::string& origin_;
  size_t pos_ = 0;
};

struct ParsedDescr {
  int32_t dtype;
  size_t size;
  bool big_endian;
};

ParsedDescr parse_descr(const std::string& descr, const std::string& origin) {
  auto unsupported = [&](const std::string& why) {
    fail(origin, "unsupported dtype '" + descr + "' (" + why + ")");
  };
  if (descr.size() < 2) unsupported("not a recognized type string");
  size_t pos = 0;
  char order = '=';
  if (std::strchr("<>|=", descr[0]) != nullptr) order = descr[pos++];
  const char kind = descr[pos++];
  const std::string digits = descr.substr(pos);
  switch (kind) {
    case 'c':
      unsupported("complex numbers; kiln has no complex dtype");
      break;
    case 'O':
      unsupported("Python objects");
      break;
    case 'U':
    case 'S':
    case 'a':
      unsupported("strings");
      break;
    case 'V':
      unsupported("raw or structured records");
      break;
    case 'M':
    case 'm':
      unsupported("dates and times");
      break;
    case 'b':
    case 'i':
    case 'u':
    case 'f':
      break;
    default:
      unsupported("not a recognized type string");
  }
  if (digits.empty() || digits.size() > 2 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    unsupported("not a recognized type string");
  }
  const size_t size = std::stoul(digits);
  for (const DtypeCode& code : kDtypeCodes) {
    if (code.kind != kind || code.size != size) continue;
    if (order == '|' && size > 1) unsupported("byte order '|' on a multi-byte type");
    return {code.dtype, size, order == '>' && size > 1};
  }
  unsupported(std::to_string(size * 8) + "-bit '" + std::string(1, kind) + "' is not a kiln dtype");
  return {};  // unreachable: unsupported() throws
}

uint64_t read_le(const uint8_t* p, size_t n) {
  uint64_t value = 0;
  for (size_t i = 0; i < n; ++i) value |= static_cast<uint64_t>(p[i]) << (8 * i);
  return value;
}

void byteswap_elements(std::vector<uint8_t>& data, size_t item_size) {
  for (size_t i = 0; i + item_size <= data.size(); i += item_size) {
    std::reverse(data.begin() + static_cast<std::ptrdiff_t>(i),
                 data.begin() + static_cast<std::ptrdiff_t>(i + item_size));
  }
}

// Column-major (Fortran) element order to row-major (C) order.
std::vector<uint8_t> fortran_to_c_order(const std::vector<uint8_t>& data,
                                        const std::vector<int64_t>& shape, size_t item_size) {
  const size_t rank = shape.size();
  if (data.empty() || rank < 2) return data;
  std::vector<uint8_t> out(data.size());
  std::vector<size_t> fortran_strides(rank);  // in elements
  size_t stride = 1;
  for (size_t d = 0; d < rank; ++d) {
    fortran_strides[d] = stride;
    stride *= static_cast<size_t>(shape[d]);
  }
  std::vector<int64_t> index(rank, 0);
  size_t source = 0;  // Fortran offset of `index`
  const size_t count = data.size() / item_size;
  for (size_t c = 0; c < count; ++c) {
    std::memcpy(&out[c * item_size], &data[source * item_size], item_size);
    // Advance the C-order multi-index (last dim fastest) and the Fortran offset with it.
    for (size_t d = rank; d-- > 0;) {
      if (++index[d] < shape[d]) {
        source += fortran_strides[d];
        break;
      }
      source -= fortran_strides[d] * static_cast<size_t>(shape[d] - 1);
      index[d] = 0;
    }
  }
  return out;
}

}  // namespace

int64_t Array::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string descr_for_dtype(int32_t dtype) {
  for (const DtypeCode& code : kDtypeCodes) {
    if (code.dtype == dtype) {
      return std::string(code.size == 1 ? "|" : "<") + code.kind + std::to_string(code.size);
    }
  }
  return "";
}

Array parse(const void* bytes, size_t size, const std::string& origin) {
  const auto* p = static_cast<const uint8_t*>(bytes);
  if (size < kMagicSize || std::memcmp(p, kMagic, kMagicSize) != 0) {
    fail(origin, "not a .npy file (bad magic: expected \\x93NUMPY at the start)");
  }
  if (size < kMagicSize + 2) fail(origin, "truncated: the file ends inside the .npy preamble");
  const int major = p[6];
  const int minor = p[7];
  const std::string version = std::to_string(major) + "." + std::to_string(minor);
  if (!((major == 1 || major == 2 || major == 3) && minor == 0)) {
    fail(origin, "unsupported .npy format version " + version + " (supported: 1.0, 2.0, 3.0)");
  }
  const size_t length_bytes = major == 1 ? 2 : 4;
  const size_t header_start = kMagicSize + 2 + length_bytes;
  if (size < header_start) fail(origin, "truncated: the file ends inside the .npy preamble");
  const uint64_t header_length = read_le(p + kMagicSize + 2, length_bytes);
  if (header_length > size - header_start) {
    fail(origin, "truncated header: it declares " + std::to_string(header_length) +
                     " bytes but the file has " + std::to_string(size - header_start) +
                     " after the preamble");
  }
  const std::string header(reinterpret_cast<const char*>(p + header_start),
                           static_cast<size_t>(header_length));

  std::optional<std::string> descr;
  std::optional<bool> fortran_order;
  std::optional<std::vector<int64_t>> shape;
  HeaderParser parser(header, origin);
  for (auto& [key, value] : parser.parse_dict()) {
    const bool duplicate = (key == "descr" && descr) || (key == "fortran_order" && fortran_order) ||
                           (key == "shape" && shape);
    if (duplicate) fail(origin, "header has key '" + key + "' twice");
    if (key == "descr") {
      if (value.kind == HeaderValue::kList) {
        fail(origin, "unsupported dtype (structured arrays are not supported)");
      }
      if (value.kind != HeaderValue::kString) fail(origin, "header 'descr' is not a string");
      descr = value.text;
    } else if (key == "fortran_order") {
      if (value.kind != HeaderValue::kBool) {
        fail(origin, "header 'fortran_order' is not True or False");
      }
      fortran_order = value.flag;
    } else if (key == "shape") {
      if (value.kind != HeaderValue::kTuple) fail(origin, "header 'shape' is not a tuple");
      shape = value.values;
    } else {
      fail(origin, "header has an unexpected key '" + key + "'");
    }
  }
  if (!descr) fail(origin, "header is missing the key 'descr'");
  if (!fortran_order) fail(origin, "header is missing the key 'fortran_order'");
  if (!shape) fail(origin, "header is missing the key 'shape'");

  const ParsedDescr parsed = parse_descr(*descr, origin);
  uint64_t count = 1;
  for (size_t i = 0; i < shape->size(); ++i) {
    const int64_t dim = (*shape)[i];
    if (dim < 0) {
      fail(origin, "shape " + shape_to_string(*shape) + " has a negative dim at index " +
                       std::to_string(i));
    }
    if (__builtin_mul_overflow(count, static_cast<uint64_t>(dim), &count)) {
      fail(origin, "shape " + shape_to_string(*shape) + " has more elements than fit in 64 bits");
    }
  }
  uint64_t data_bytes = 0;
  if (__builtin_mul_overflow(count, static_cast<uint64_t>(parsed.size), &data_bytes) ||
      data_bytes > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    fail(origin, "shape " + shape_to_string(*shape) + " of '" + *descr +
                     "' is larger than any file can be");
  }
  const size_t data_start = header_start + static_cast<size_t>(header_length);
  const uint64_t available = size - data_start;
  if (available < data_bytes) {
    fail(origin, "truncated data: shape " + shape_to_string(*shape) + " of '" + *descr +
                     "' needs " + std::to_string(data_bytes) + " bytes, the file has " +
                     std::to_string(available));
  }
  if (available > data_bytes) {
    fail(origin, "file has " + std::to_string(available - data_bytes) +
                     " extra bytes after the data of shape " + shape_to_string(*shape) + " of '" +
                     *descr + "'");
  }

  Array array;
  array.dtype = parsed.dtype;
  array.shape = *shape;
  array.data.assign(p + data_start, p + data_start + data_bytes);
  if (parsed.big_endian) byteswap_elements(array.data, parsed.size);
  if (*fortran_order) array.data = fortran_to_c_order(array.data, array.shape, parsed.size);
  if (array.dtype == KILN_DTYPE_BOOL) {
    for (uint8_t b : array.data) {
      if (b > 1) fail(origin, "bool data holds the byte " + std::to_string(b) + " (not 0 or 1)");
    }
  }
  return array;
}

Array read(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    fail(path, std::string("cannot open: ") + std::strerror(errno));
  }
  if (S_ISDIR(info.st_mode)) fail(path, "cannot open: it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
  std::vector<uint8_t> bytes;
  if (info.st_size > 0) bytes.reserve(static_cast<size_t>(info.st_size));
  bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) fail(path, "read error");
  return parse(bytes.data(), bytes.size(), path);
}

std::vector<uint8_t> encode(const Array& array) {
  const std::string descr = descr_for_dtype(array.dtype);
  if (descr.empty()) {
    throw Error(".npy cannot hold dtype code " + std::to_string(array.dtype));
  }
  uint64_t expected = kiln_dtype_size(array.dtype);
  for (int64_t d : array.shape) {
    if (d < 0 || __builtin_mul_overflow(expected, static_cast<uint64_t>(d), &expected)) {
      throw Error("cannot write .npy: invalid shape " + shape_to_string(array.shape));
    }
  }
  if (expected != array.data.size()) {
    throw Error("cannot write .npy: shape " + shape_to_string(array.shape) + " of '" + descr +
                "' needs " + std::to_string(expected) + " bytes, got " +
                std::to_string(array.data.size()));
  }
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': False, 'shape': " + shape_to_string(array.shape) +
                       ", }";
  // Version 1.0 stores the header length in 2 bytes; 2.0 in 4 (only for huge shapes).
  size_t preamble = kMagicSize + 2 + 2;
  if (header.size() + 1 + 64 > 0xffff) preamble = kMagicSize + 2 + 4;
  const size_t unpadded = preamble + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';

  std::vector<uint8_t> out(kMagic, kMagic + kMagicSize);
  out.push_back(preamble == 10 ? 1 : 2);
  out.push_back(0);
  for (size_t i = 0; i < preamble - kMagicSize - 2; ++i) {
    out.push_back(static_cast<uint8_t>((header.size() >> (8 * i)) & 0xff));
  }
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), array.data.begin(), array.data.end());
  return out;
}

void write(const std::string& path, const Array& array) {
  std::vector<uint8_t> bytes;
  try {
    bytes = encode(array);
  } catch (const Error& e) {
    fail(path, e.what());
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail(path, std::string("cannot write: ") + std::strerror(errno));
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) fail(path, std::string("write failed: ") + std::strerror(errno));
}

}  // namespace kiln::npy
