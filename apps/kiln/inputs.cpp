// inputs: binding --input files, --dim values and random data to the model's inputs.
#include "inputs.h"

#include <cstring>
#include <optional>
#include <set>
#include <stdexcept>

#include "common.h"
#include "dim_expr.h"
#include "float_formats.h"
#include "npy.h"

namespace kiln::cli {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string npy_shape(const std::vector<int64_t>& shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + (shape.size() == 1 ? ",)" : ")");
}

// A symbol's value and where it came from, for messages.
struct Binding {
  int64_t value;
  std::string origin;  // "--dim batch=2", "input 'x' (x.npy)"
};
using Bindings = std::map<std::string, Binding>;

std::map<std::string, int64_t> values_of(const Bindings& bindings) {
  std::map<std::string, int64_t> out;
  for (const auto& [name, binding] : bindings) out[name] = binding.value;
  return out;
}

// splitmix64: small, fast and the same everywhere, so --seed reproduces inputs across machines.
class Random {
 public:
  explicit Random(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [-1, 1) with 24 random bits: exact in float32.
  float uniform_float() { return static_cast<float>(next() >> 40) * 0x1.0p-23f - 1.0f; }
  double uniform_double() { return static_cast<double>(next() >> 11) * 0x1.0p-52 - 1.0; }

 private:
  uint64_t state_;
};

template <typename T>
void store(std::vector<uint8_t>& bytes, size_t index, T value) {
  std::memcpy(&bytes[index * sizeof(T)], &value, sizeof(T));
}

// Floats uniform in [-1, 1), integers in [0, 10), bools 0 or 1.
std::vector<uint8_t> random_data(DType dtype, int64_t count, Random& random) {
  const auto code = static_cast<int32_t>(dtype);
  std::vector<uint8_t> bytes(static_cast<size_t>(count) * dtype_size(dtype));
  for (size_t i = 0; i < static_cast<size_t>(count); ++i) {
    switch (dtype) {
      case DType::kBool:
        bytes[i] = static_cast<uint8_t>(random.next() & 1u);
        break;
      case DType::kFloat16:
        store(bytes, i, float_to_half(random.uniform_float()));
        break;
      case DType::kBFloat16:
        store(bytes, i, float_to_bfloat16(random.uniform_float()));
        break;
      case DType::kFloat32:
        store(bytes, i, random.uniform_float());
        break;
      case DType::kFloat64:
        store(bytes, i, random.uniform_double());
        break;
      default:
        if (is_float8(code)) {
          bytes[i] = float_to_float8(random.uniform_float(), code);
        } else {  // integers: the little-endian bytes of a value in [0, 10)
          bytes[i * dtype_size(dtype)] = static_cast<uint8_t>(random.next() % 10);
        }
    }
  }
  return bytes;
}

Bindings parse_dim_flags(const std::vector<std::string>& flags,
                         const std::vector<std::string>& model_symbols) {
  Bindings bindings;
  for (const std::string& flag : flags) {
    const auto [name, text] = split_assignment(flag, "--dim");
    bool known = false;
    for (const std::string& s : model_symbols) known = known || s == name;
    if (!known) {
      throw UsageError("--dim " + flag + ": the model has no symbolic dim named '" + name + "' (" +
                       (model_symbols.empty() ? std::string("it has no symbolic dims")
                                              : "its symbolic dims: " + join(model_symbols)) +
                       ")");
    }
    int64_t value = 0;
    bool ok = !text.empty() && text.size() <= 18;
    for (char c : text) {
      ok = ok && c >= '0' && c <= '9';
      if (ok) value = value * 10 + (c - '0');
    }
    if (!ok) throw UsageError("--dim " + flag + ": VALUE must be a non-negative integer");
    if (bindings.count(name) != 0 && bindings[name].value != value) {
      throw UsageError("--dim " + name + " is given twice with different values");
    }
    bindings[name] = {value, "--dim"};
  }
  return bindings;
}

// Checks an .npy array against the input's type and binds its plain symbolic dims.
void bind_file_dims(const TensorSpec& spec, const std::string& path,
                    const std::vector<int64_t>& shape, Bindings& bindings) {
  auto mismatch = [&](const std::string& why) {
    return std::runtime_error("input '" + spec.name + "': " + path + " has shape " +
                              npy_shape(shape) + ", the model expects " + spec.to_string() + " (" +
                              why + ")");
  };
  if (shape.size() != spec.rank()) {
    throw mismatch("rank " + std::to_string(shape.size()) + " vs " + std::to_string(spec.rank()));
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    const Dim& dim = spec.dims[i];
    if (!dim.is_symbolic()) {
      if (dim.size != shape[i]) {
        throw mismatch("dim " + std::to_string(i) + " is " + std::to_string(shape[i]) +
                       ", expected " + std::to_string(dim.size));
      }
      continue;
    }
    if (!is_symbol_name(dim.expr)) continue;  // expressions are checked once all are bound
    const auto it = bindings.find(dim.expr);
    if (it == bindings.end()) {
      bindings[dim.expr] = {shape[i], "input '" + spec.name + "' (" + path + ")"};
    } else if (it->second.value != shape[i]) {
      throw mismatch("dim " + std::to_string(i) + " '" + dim.expr + "' is " +
                     std::to_string(shape[i]) + ", but " + it->second.origin + " set " + dim.expr +
                     "=" + std::to_string(it->second.value));
    }
  }
}

// Checks the dims given as expressions ("2*batch") once every plain symbol is bound.
void check_file_expressions(const TensorSpec& spec, const std::string& path,
                            const std::vector<int64_t>& shape, const Bindings& bindings) {
  const std::map<std::string, int64_t> values = values_of(bindings);
  for (size_t i = 0; i < shape.size(); ++i) {
    const Dim& dim = spec.dims[i];
    if (!dim.is_symbolic() || is_symbol_name(dim.expr)) continue;
    const std::optional<int64_t> expected = evaluate_dim(dim.expr, values);
    if (expected && *expected != shape[i]) {
      throw std::runtime_error("input '" + spec.name + "': " + path + " has shape " +
                               npy_shape(shape) + ", the model expects " + spec.to_string() +
                               " (dim " + std::to_string(i) + " '" + dim.expr +
                               "' = " + std::to_string(*expected) + ")");
    }
  }
}

// Turns an .npy array into the input's dtype (bfloat16 inputs accept float32 data, rounded).
std::vector<uint8_t> convert_file_data(const TensorSpec& spec, const std::string& path,
                                       npy::Array& array, std::vector<std::string>& notes) {
  const auto dtype = static_cast<DType>(array.dtype);
  if (dtype == spec.dtype) return std::move(array.data);
  if (spec.dtype == DType::kBFloat16 && dtype == DType::kFloat32) {
    std::vector<uint8_t> out(array.data.size() / 2);
    for (size_t i = 0; i < out.size() / 2; ++i) {
      float value;
      std::memcpy(&value, &array.data[i * 4], 4);
      const uint16_t bits = float_to_bfloat16(value);
      std::memcpy(&out[i * 2], &bits, 2);
    }
    notes.push_back("input '" + spec.name + "': float32 data from " + path +
                    " rounded to bfloat16");
    return out;
  }
  throw std::runtime_error(
      "input '" + spec.name + "': " + path + " has dtype " + dtype_name(dtype) + " ('" +
      npy::descr_for_dtype(array.dtype) + "'), the model expects " + spec.to_string() +
      (spec.dtype == DType::kBFloat16 ? " (give float32 data for bfloat16)" : ""));
}

}  // namespace

PreparedInputs prepare_inputs(const std::vector<TensorSpec>& specs, const InputRequest& request,
                              const Device& host) {
  std::vector<std::string> names;
  std::vector<std::string> symbols;
  for (const TensorSpec& spec : specs) {
    names.push_back(spec.name);
    for (const Dim& dim : spec.dims) {
      if (!dim.is_symbolic()) continue;
      for (const std::string& s : dim_symbols(dim.expr)) {
        bool seen = false;
        for (const std::string& t : symbols) seen = seen || t == s;
        if (!seen) symbols.push_back(s);
      }
    }
  }
  Bindings bindings = parse_dim_flags(request.dims, symbols);

  // --input NAME=PATH, by input name.
  std::map<std::string, std::string> files;
  for (const std::string& flag : request.files) {
    const auto [name, path] = split_assignment(flag, "--input");
    bool known = false;
    for (const std::string& n : names) known = known || n == name;
    if (!known) {
      throw UsageError("--input " + flag + ": the model has no input named '" + name +
                       "' (its inputs: " + join(names) + ")");
    }
    if (!files.emplace(name, path).second) {
      throw UsageError("--input " + name + " is given twice");
    }
  }
  std::vector<std::string> missing;
  for (const std::string& name : names) {
    if (files.count(name) == 0) missing.push_back(name);
  }
  if (!missing.empty() && !request.random) {
    std::string quoted;
    for (const std::string& name : missing) quoted += (quoted.empty() ? "'" : ", '") + name + "'";
    throw UsageError(missing.size() == 1
                         ? "model input " + quoted + " is not given: pass --input " + missing[0] +
                               "=FILE.npy, or --random-inputs to fill it with " + "random values"
                         : "model inputs " + quoted + " are not given: pass --input " +
                               "NAME=FILE.npy for each, or --random-inputs to fill them with " +
                               "random values");
  }
  PreparedInputs prepared;
  // Files first: they bind symbolic dims that random inputs then follow.
  std::map<std::string, npy::Array> arrays;
  for (const TensorSpec& spec : specs) {
    const auto it = files.find(spec.name);
    if (it == files.end()) continue;
    npy::Array array = npy::read(it->second);
    bind_file_dims(spec, it->second, array.shape, bindings);
    arrays.emplace(spec.name, std::move(array));
  }
  for (const TensorSpec& spec : specs) {
    const auto it = files.find(spec.name);
    if (it != files.end())
      check_file_expressions(spec, it->second, arrays[spec.name].shape, bindings);
  }
  for (const std::string& symbol : symbols) {
    if (bindings.count(symbol) != 0) continue;
    bindings[symbol] = {1, "default"};
    prepared.notes.push_back("dim '" + symbol + "' not given; using " + symbol +
                             "=1 (set it with --dim " + symbol + "=N)");
  }
  prepared.dims = values_of(bindings);

  for (size_t index = 0; index < specs.size(); ++index) {
    const TensorSpec& spec = specs[index];
    PreparedInput input;
    input.spec = spec;
    const auto file = files.find(spec.name);
    if (file != files.end()) {
      npy::Array& array = arrays[spec.name];
      const std::vector<int64_t> shape = array.shape;
      const std::vector<uint8_t> data =
          convert_file_data(spec, file->second, array, prepared.notes);
      input.tensor = Tensor::from_host(host, spec.dtype, shape, data.data(), data.size());
      input.source = file->second;
    } else {
      if (dtype_size(spec.dtype) == 0) {
        throw std::runtime_error("input '" + spec.name + "' has an unknown dtype (code " +
                                 std::to_string(static_cast<int32_t>(spec.dtype)) + ")");
      }
      std::vector<int64_t> shape;
      int64_t count = 1;
      for (const Dim& dim : spec.dims) {
        const int64_t size =
            dim.is_symbolic() ? evaluate_dim(dim.expr, prepared.dims).value_or(-1) : dim.size;
        if (size < 0) {
          throw std::runtime_error("input '" + spec.name + "': dim '" + dim.expr +
                                   "' evaluates to " + std::to_string(size) +
                                   " with the dims given");
        }
        if (__builtin_mul_overflow(count, size, &count) || count > (int64_t{1} << 40)) {
          throw std::runtime_error("input '" + spec.name + "' of shape " + spec.to_string() +
                                   " is too large to fill with random values");
        }
        shape.push_back(size);
      }
      // One stream per input, so an input's values do not depend on which others are given.
      Random random(request.seed ^ (0x9e3779b97f4a7c15ull * (index + 1)));
      const std::vector<uint8_t> data = random_data(spec.dtype, count, random);
      input.tensor = Tensor::from_host(host, spec.dtype, shape, data.data(), data.size());
      input.source = "random";
    }
    prepared.inputs.push_back(std::move(input));
  }
  return prepared;
}

}  // namespace kiln::cli
