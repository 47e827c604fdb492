// layout_test.cpp: ops that move elements — reshape, transpose, permute, broadcast_to, concat,
// slice_tensor, gather, tile, repeat_interleave, pad, stack, split, band_part, gather_nd,
// scatter and scatter_nd — for element sizes 1, 2, 4 and 8; results must be exact.
#include <cmath>
#include <limits>

#include "harness.h"

namespace kiln_conformance {
namespace {

constexpr int64_t kEnd = std::numeric_limits<int64_t>::max();
constexpr int64_t kBeforeStart = std::numeric_limits<int64_t>::min();

Shape unravel(int64_t flat, const Shape& shape) {
  Shape c(shape.size());
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    c[d] = flat % shape[d];
    flat /= shape[d];
  }
  return c;
}

int64_t ravel(const Shape& coords, const Shape& shape) {
  int64_t flat = 0;
  for (size_t d = 0; d < shape.size(); ++d) flat = flat * shape[d] + coords[d];
  return flat;
}

Reference gather_values(const HostTensor& x, const Shape& out_shape,
                        const std::function<int64_t(const Shape&)>& source_index) {
  Reference r;
  r.dtype = x.dtype;
  r.shape = out_shape;
  for (int64_t i = 0; i < num_elements(out_shape); ++i) {
    r.values.push_back(x.get(source_index(unravel(i, out_shape))));
  }
  return r;
}

class LayoutTest : public ::testing::TestWithParam<int32_t> {
 protected:
  HostTensor input(const Shape& shape) {
    return random_tensor(GetParam(), shape, rng_, is_float(GetParam()) ? -100 : -100, 100);
  }
  std::mt19937 rng_{11};
};

TEST_P(LayoutTest, Reshape) {
  for (const auto& [from, to] : std::vector<std::pair<Shape, Shape>>{
           {{2, 3, 4}, {6, 4}}, {{}, {1, 1}}, {{0, 3}, {3, 0}}, {{300, 301}, {301, 300}}}) {
    SCOPED_TRACE(shape_str(from) + " -> " + shape_str(to));
    const HostTensor x = input(from);
    KILN_RUN_OK(result, "reshape", {x}, {Attr::Ints("shape", to)});
    Reference r = gather_values(x, to, [&](const Shape& c) { return ravel(c, to); });
    EXPECT_TRUE(matches(result.outputs[0], r, Tolerance{}));
  }
}

TEST_P(LayoutTest, TransposeAndPermute) {
  struct Case {
    Shape shape;
    std::vector<int64_t> perm;  // output dim i = input dim perm[i] (negatives allowed)
  };
  const std::vector<Case> cases = {
      {{3, 4}, {1, 0}},
      {{2, 3, 4}, {0, 2, 1}},
      {{2, 3, 4}, {2, 0, 1}},
      {{2, 3, 4, 5}, {-1, 1, 0, -2}},
      {{1, 5, 1, 7}, {3, 2, 1, 0}},
      {{0, 3, 2}, {2, 1, 0}},
      {{4}, {0}},
      {{37, 300, 41}, {2, 1, 0}},  // tiled path, above the grain
      {{3, 257, 129}, {0, 2, 1}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(shape_str(c.shape));
    const HostTensor x = input(c.shape);
    const size_t rank = c.shape.size();
    std::vector<size_t> perm(rank);
    Shape out_shape(rank);
    for (size_t i = 0; i < rank; ++i) {
      perm[i] =
          static_cast<size_t>(c.perm[i] < 0 ? c.perm[i] + static_cast<int64_t>(rank) : c.perm[i]);
      out_shape[i] = c.shape[perm[i]];
    }
    const auto source = [&](const Shape& oc) {
      Shape ic(rank);
      for (size_t i = 0; i < rank; ++i) ic[perm[i]] = oc[i];
      return ravel(ic, c.shape);
    };
    const Reference r = gather_values(x, out_shape, source);
    KILN_RUN_OK(permuted, "permute", {x}, {Attr::Ints("dims", c.perm)});
    EXPECT_TRUE(matches(permuted.outputs[0], r, Tolerance{}));
    // A permutation that swaps exactly two axes is also a transpose.
    std::vector<size_t> moved;
    for (size_t i = 0; i < rank; ++i) {
      if (perm[i] != i) moved.push_back(i);
    }
    if (moved.size() == 2) {
      KILN_RUN_OK(transposed, "transpose", {x},
                  {Attr::Int("axis_1", static_cast<int64_t>(moved[0]) - static_cast<int64_t>(rank)),
                   Attr::Int("axis_2", static_cast<int64_t>(moved[1]))});
      EXPECT_TRUE(matches(transposed.outputs[0], r, Tolerance{}));
    }
  }
}

TEST_P(LayoutTest, BroadcastTo) {
  for (const auto& [from, to] : std::vector<std::pair<Shape, Shape>>{{{}, {3, 2}},
                                                                     {{3, 1}, {3, 4}},
                                                                     {{1, 4}, {2, 3, 4}},
                                                                     {{5}, {0, 5}},
                                                                     {{2, 1, 3}, {2, 4, 3}},
                                                                     {{1, 300}, {301, 300}},
                                                                     {{301, 1}, {301, 300}}}) {
    SCOPED_TRACE(shape_str(from) + " -> " + shape_str(to));
    const HostTensor x = input(from);
    KILN_RUN_OK(result, "broadcast_to", {x}, {Attr::Ints("shape", to)});
    const auto source = [&](const Shape& oc) {
      Shape ic(from.size());
      for (size_t i = 0; i < from.size(); ++i) {
        ic[i] = from[i] == 1 ? 0 : oc[to.size() - from.size() + i];
      }
      return ravel(ic, from);
    };
    EXPECT_TRUE(matches(result.outputs[0], gather_values(x, to, source), Tolerance{}));
  }
}

TEST_P(LayoutTest, Concat) {
  struct Case {
    std::vector<Shape> shapes;
    int64_t axis;
  };
  const std::vector<Case> cases = {
      {{{2, 3}, {4, 3}}, 0},        {{{2, 3}, {2, 1}, {2, 0}, {2, 5}}, 1},
      {{{2, 3, 4}, {2, 2, 4}}, -2}, {{{5}}, 0},
      {{{0, 3}, {0, 3}}, 1},        {{{300, 100}, {300, 150}}, -1},
      {{{40000}, {40001}}, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(shape_str(c.shapes[0]) + " ... axis " + std::to_string(c.axis));
    std::vector<HostTensor> xs;
    for (const Shape& s : c.shapes) xs.push_back(input(s));
    KILN_RUN_OK(result, "concat", xs, {Attr::Int("axis", c.axis)});
    const size_t rank = c.shapes[0].size();
    const size_t axis =
        static_cast<size_t>(c.axis < 0 ? c.axis + static_cast<int64_t>(rank) : c.axis);
    Shape out = c.shapes[0];
    out[axis] = 0;
    for (const Shape& s : c.shapes) out[axis] += s[axis];
    Reference r;
    r.dtype = GetParam();
    r.shape = out;
    for (int64_t i = 0; i < num_elements(out); ++i) {
      Shape coords = unravel(i, out);
      size_t k = 0;
      while (coords[axis] >= c.shapes[k][axis]) coords[axis] -= c.shapes[k++][axis];
      r.values.push_back(xs[k].get(ravel(coords, c.shapes[k])));
    }
    EXPECT_TRUE(matches(result.outputs[0], r, Tolerance{}));
  }
}

// Python slice semantics, written the plain way: clamp, then step.
std::vector<int64_t> python_slice(int64_t length, int64_t start, int64_t stop, int64_t step) {
  std::vector<int64_t> out;
  if (step > 0) {
    if (start < 0) start = std::max<int64_t>(start + length, 0);
    if (stop < 0) stop = std::max<int64_t>(stop + length, 0);
    start = std::min(start, length);
    stop = std::min(stop, length);
    for (int64_t i = start; i < stop; i += step) out.push_back(i);
  } else {
    if (start < 0) start = start + length < -1 ? -1 : start + length;
    if (stop < 0) stop = stop == kBeforeStart || stop + length < -1 ? -1 : stop + length;
    start = std::min(start, length - 1);
    stop = std::min(stop, length - 1);
    for (int64_t i = start; i > stop; i += step) out.push_back(i);
  }
  return out;
}

TEST_P(LayoutTest, SliceTensor) {
  struct Case {
    Shape shape;
    std::vector<int64_t> starts, stops, steps, squeeze;
  };
  const std::vector<Case> cases = {
      {{10}, {2}, {8}, {1}, {}},
      {{10}, {-3}, {kEnd}, {1}, {}},
      {{10}, {kEnd}, {kBeforeStart}, {-1}, {}},  // reverse
      {{10}, {8}, {1}, {-3}, {}},
      {{10}, {-100}, {100}, {3}, {}},            // clamped
      {{10}, {5}, {5}, {1}, {}},                 // empty
      {{4, 6}, {1, 0}, {2, kEnd}, {1, 2}, {0}},  // squeeze axis 0
      {{4, 6, 5}, {0, 5, 1}, {kEnd, kBeforeStart, 4}, {2, -2, 1}, {}},
      {{3, 0, 2}, {0, 0, 0}, {kEnd, kEnd, kEnd}, {1, 1, 1}, {}},
      {{400, 300}, {1, -1}, {kEnd, kBeforeStart}, {1, -1}, {}},  // above the grain
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(shape_str(c.shape));
    const HostTensor x = input(c.shape);
    std::vector<Attr> attrs = {Attr::Ints("starts", c.starts), Attr::Ints("stops", c.stops),
                               Attr::Ints("steps", c.steps)};
    if (!c.squeeze.empty()) attrs.push_back(Attr::Ints("squeeze", c.squeeze));
    KILN_RUN_OK(result, "slice_tensor", {x}, attrs);
    std::vector<std::vector<int64_t>> picks;
    Shape sliced;
    for (size_t d = 0; d < c.shape.size(); ++d) {
      picks.push_back(python_slice(c.shape[d], c.starts[d], c.stops[d], c.steps[d]));
      sliced.push_back(static_cast<int64_t>(picks.back().size()));
    }
    Shape out;
    for (size_t d = 0; d < sliced.size(); ++d) {
      if (std::find(c.squeeze.begin(), c.squeeze.end(), static_cast<int64_t>(d)) ==
          c.squeeze.end()) {
        out.push_back(sliced[d]);
      }
    }
    Reference r;
    r.dtype = x.dtype;
    r.shape = out;
    for (int64_t i = 0; i < num_elements(sliced); ++i) {
      const Shape sc = unravel(i, sliced);
      Shape ic(sc.size());
      for (size_t d = 0; d < sc.size(); ++d) ic[d] = picks[d][static_cast<size_t>(sc[d])];
      r.values.push_back(x.get(ravel(ic, c.shape)));
    }
    EXPECT_TRUE(matches(result.outputs[0], r, Tolerance{}));
  }
}

TEST_P(LayoutTest, Gather) {
  struct Case {
    Shape shape;
    Shape index_shape;
    int64_t axis;
    int32_t index_dtype;
  };
  const std::vector<Case> cases = {
      {{5}, {3}, 0, KILN_DTYPE_INT64},
      {{4, 6}, {2, 3}, -1, KILN_DTYPE_INT32},
      {{4, 6}, {7}, 0, KILN_DTYPE_INT64},
      {{3, 4, 5}, {}, 1, KILN_DTYPE_INT32},
      {{3, 4, 5}, {0}, 1, KILN_DTYPE_INT64},
      {{1000, 64}, {3000}, 0, KILN_DTYPE_INT64},  // embedding lookup above the grain
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(shape_str(c.shape) + " indices " + shape_str(c.index_shape));
    const HostTensor x = input(c.shape);
    const size_t axis =
        static_cast<size_t>(c.axis < 0 ? c.axis + static_cast<int64_t>(c.shape.size()) : c.axis);
    const int64_t dim = c.shape[axis];
    // Indices in [-dim, dim): negatives wrap.
    HostTensor idx = random_tensor(c.index_dtype, c.index_shape, rng_, static_cast<double>(-dim),
                                   static_cast<double>(dim - 1));
    KILN_RUN_OK(result, "gather", {x, idx}, {Attr::Int("axis", c.axis)});
    Shape out(c.shape.begin(), c.shape.begin() + static_cast<int64_t>(axis));
    out.insert(out.end(), c.index_shape.begin(), c.index_shape.end());
    out.insert(out.end(), c.shape.begin() + static_cast<int64_t>(axis) + 1, c.shape.end());
    const auto source = [&](const Shape& oc) {
      Shape ic(c.shape.size());
      for (size_t d = 0; d < axis; ++d) ic[d] = oc[d];
      const Shape jc(oc.begin() + static_cast<int64_t>(axis),
                     oc.begin() + static_cast<int64_t>(axis + c.index_shape.size()));
      int64_t v = idx.get_int(ravel(jc, c.index_shape));
      ic[axis] = v < 0 ? v + dim : v;
      for (size_t d = axis + 1; d < c.shape.size(); ++d) ic[d] = oc[d - 1 + c.index_shape.size()];
      return ravel(ic, c.shape);
    };
    EXPECT_TRUE(matches(result.outputs[0], gather_values(x, out, source), Tolerance{}));
  }
}

TEST_P(LayoutTest, TileAndRepeatInterleave) {
  const HostTensor x = input({2, 3});
  KILN_RUN_OK(tiled, "tile", {x}, {Attr::Ints("repeats", {2, 3})});
  EXPECT_TRUE(matches(tiled.outputs[0],
                      gather_values(x, {4, 9},
                                    [&](const Shape& c) {
                                      return ravel({c[0] % 2, c[1] % 3}, x.shape);
                                    }),
                      Tolerance{}));
  KILN_RUN_OK(repeated, "repeat_interleave", {x}, {Attr::Int("repeats", 3), Attr::Int("axis", -1)});
  EXPECT_TRUE(matches(repeated.outputs[0],
                      gather_values(x, {2, 9},
                                    [&](const Shape& c) {
                                      return ravel({c[0], c[1] / 3}, x.shape);
                                    }),
                      Tolerance{}));
}

TEST_P(LayoutTest, Pad) {
  const HostTensor x = input({2, 3, 2});
  const HostTensor fill = from_values(GetParam(), {}, {1});
  KILN_RUN_OK(result, "pad", {x, fill}, {Attr::Ints("paddings", {1, 0, 0, 2, 3, 1})});
  const Shape out = {3, 5, 6};
  Reference r;
  r.dtype = x.dtype;
  r.shape = out;
  for (int64_t i = 0; i < num_elements(out); ++i) {
    const Shape c = unravel(i, out);
    const Shape ic = {c[0] - 1, c[1], c[2] - 3};
    const bool inside = ic[0] >= 0 && ic[1] < 3 && ic[2] >= 0 && ic[2] < 2;
    r.values.push_back(inside ? x.get(ravel(ic, x.shape)) : 1.0);
  }
  EXPECT_TRUE(matches(result.outputs[0], r, Tolerance{}));
}

TEST_P(LayoutTest, StackAndSplit) {
  const HostTensor a = input({2, 3}), b = input({2, 3});
  KILN_RUN_OK(stacked, "stack", {a, b}, {Attr::Int("axis", 1)});
  Reference r;
  r.dtype = a.dtype;
  r.shape = {2, 2, 3};
  for (int64_t i = 0; i < num_elements(r.shape); ++i) {
    const Shape c = unravel(i, r.shape);
    r.values.push_back((c[1] == 0 ? a : b).get(ravel({c[0], c[2]}, a.shape)));
  }
  EXPECT_TRUE(matches(stacked.outputs[0], r, Tolerance{}));
  const HostTensor x = input({7, 2});
  KILN_RUN_OK(parts, "split", {x}, {Attr::Ints("split_sizes", {3, 0, 4}), Attr::Int("axis", 0)});
  ASSERT_EQ(parts.outputs.size(), 3u);
  int64_t start = 0;
  for (int64_t k = 0; k < 3; ++k) {
    const int64_t rows = std::vector<int64_t>{3, 0, 4}[static_cast<size_t>(k)];
    EXPECT_TRUE(matches(parts.outputs[static_cast<size_t>(k)],
                        gather_values(x, {rows, 2},
                                      [&](const Shape& c) {
                                        return ravel({c[0] + start, c[1]}, x.shape);
                                      }),
                        Tolerance{}));
    start += rows;
  }
}

TEST_P(LayoutTest, BandPart) {
  const HostTensor x = input({2, 4, 5});
  KILN_RUN_OK(result, "band_part", {x}, {Attr::Int("num_lower", 1), Attr::Int("num_upper", 0)});
  Reference r;
  r.dtype = x.dtype;
  r.shape = x.shape;
  for (int64_t i = 0; i < x.size(); ++i) {
    const Shape c = unravel(i, x.shape);
    const bool keep = c[1] - c[2] <= 1 && c[2] - c[1] <= 0;
    r.values.push_back(keep ? x.get(i) : 0.0);
  }
  EXPECT_TRUE(matches(result.outputs[0], r, Tolerance{}));
}

TEST_P(LayoutTest, GatherNdAndScatterNd) {
  const HostTensor x = input({3, 4, 2});
  const HostTensor idx = from_values(KILN_DTYPE_INT64, {2, 2}, {2, -1, 0, 1});
  KILN_RUN_OK(gathered, "gather_nd", {x, idx});
  EXPECT_TRUE(
      matches(gathered.outputs[0],
              gather_values(
                  x, {2, 2},
                  [&](const Shape& c) {
                    return c[0] == 0 ? ravel({2, 3, c[1]}, x.shape) : ravel({0, 1, c[1]}, x.shape);
                  }),
              Tolerance{}));
  const HostTensor updates = input({2, 2});
  KILN_RUN_OK(scattered, "scatter_nd", {x, updates, idx});
  Reference r;
  r.dtype = x.dtype;
  r.shape = x.shape;
  for (int64_t i = 0; i < x.size(); ++i) r.values.push_back(x.get(i));
  for (int64_t k = 0; k < 2; ++k) {
    r.values[static_cast<size_t>(ravel({2, 3, k}, x.shape))] = updates.get(k);
    r.values[static_cast<size_t>(ravel({0, 1, k}, x.shape))] = updates.get(2 + k);
  }
  EXPECT_TRUE(matches(scattered.outputs[0], r, Tolerance{}));
}

TEST_P(LayoutTest, OutOfRangeIndicesAreErrors) {
  const HostTensor x = input({3, 4});
  const HostTensor bad = from_values(KILN_DTYPE_INT32, {1, 2}, {1, 4});
  OpResult gathered = run_op("gather_nd", {x, bad});
  EXPECT_EQ(gathered.code, KILN_STATUS_OUT_OF_RANGE) << gathered.message;
  EXPECT_NE(gathered.message.find("index 4"), std::string::npos) << gathered.message;
  OpResult scattered = run_op("scatter_nd", {x, input({1}), bad});
  EXPECT_EQ(scattered.code, KILN_STATUS_OUT_OF_RANGE) << scattered.message;
  const HostTensor column = from_values(KILN_DTYPE_INT64, {3, 1}, {0, -5, 1});
  OpResult scatter = run_op("scatter", {x, input({3, 1}), column}, {Attr::Int("axis", 1)});
  EXPECT_EQ(scatter.code, KILN_STATUS_OUT_OF_RANGE) << scatter.message;
  EXPECT_NE(scatter.message.find("index -5"), std::string::npos) << scatter.message;
}

INSTANTIATE_TEST_SUITE_P(Dtypes, LayoutTest,
                         ::testing::Values(KILN_DTYPE_FLOAT32, KILN_DTYPE_FLOAT16,
                                           KILN_DTYPE_BFLOAT16, KILN_DTYPE_FLOAT64,
                                           KILN_DTYPE_INT32, KILN_DTYPE_INT64, KILN_DTYPE_BOOL,
                                           KILN_DTYPE_INT8),
                         [](const auto& info) { return std::string(dtype_str(info.param)); });

TEST(GatherErrors, OutOfRangeIndexIsAnExecuteErrorNamingTheOp) {
  const HostTensor x(KILN_DTYPE_FLOAT32, {4, 3});
  for (int64_t bad : {4, -5, 1000}) {
    const HostTensor idx = from_values(KILN_DTYPE_INT64, {3}, {0, static_cast<double>(bad), 1});
    const OpResult r = run_op("gather", {x, idx}, {Attr::Int("axis", 0)});
    EXPECT_EQ(r.stage, Stage::kExecute) << r.message;
    EXPECT_EQ(r.code, KILN_STATUS_OUT_OF_RANGE) << r.message;
    EXPECT_NE(r.message.find("gather"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("out of range"), std::string::npos) << r.message;
  }
}

}  // namespace
}  // namespace kiln_conformance
