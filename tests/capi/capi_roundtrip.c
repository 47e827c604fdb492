/* capi_roundtrip: a plain C11 program using only kiln.h. Builds a graph with a symbolic input dim,
 * a matmul with an inline weight, an add of a constant and a relu; saves it to a .kiln file and
 * loads it back; executes it on the CPU for two batch sizes and checks the numbers against a
 * reference computed here; checks error paths (a wrong-dtype input, a mistyped op) return a
 * status with a message; frees everything. Exit code 0 on success.
 *
 * Usage: capi_roundtrip [path-of-the-.kiln-file-to-write]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiln/kiln.h"

enum { IN_FEATURES = 4, OUT_FEATURES = 3, MAX_BATCH = 5 };

static int g_failures = 0;

#define CHECK(cond, ...)                                             \
  do {                                                               \
    if (!(cond)) {                                                   \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                  \
      fprintf(stderr, "\n");                                         \
      ++g_failures;                                                  \
    }                                                                \
  } while (0)

/* Fails the test (and returns 0) when status is not OK, printing its code and message. */
static int ok(kiln_status* status, const char* what) {
  if (status == NULL) return 1;
  fprintf(stderr, "%s failed: %s: %s\n", what,
          kiln_status_code_get_name(kiln_status_get_code(status)),
          kiln_status_get_message(status));
  kiln_status_destroy(status);
  ++g_failures;
  return 0;
}

static const float kWeight[IN_FEATURES][OUT_FEATURES] = {
    {0.5f, -1.0f, 2.0f}, {1.5f, 0.25f, -0.5f}, {-2.0f, 1.0f, 0.75f}, {0.0f, -0.5f, 1.0f}};
static const float kBias[OUT_FEATURES] = {0.1f, -0.2f, 0.3f};

/* relu(x @ W + b), in C. */
static void reference(const float* x, int64_t batch, float* out) {
  for (int64_t i = 0; i < batch; ++i) {
    for (int j = 0; j < OUT_FEATURES; ++j) {
      float acc = kBias[j];
      for (int k = 0; k < IN_FEATURES; ++k) acc += x[i * IN_FEATURES + k] * kWeight[k][j];
      out[i * OUT_FEATURES + j] = acc > 0.0f ? acc : 0.0f;
    }
  }
}

/* A single-output op. */
static kiln_status* add_op(kiln_graph* graph, const char* op, const kiln_value* const* inputs,
                           size_t num_inputs, const kiln_attr* attrs, size_t num_attrs,
                           kiln_value** out) {
  kiln_op_desc desc;
  memset(&desc, 0, sizeof desc);
  desc.struct_size = sizeof desc;
  desc.op = op;
  desc.inputs = inputs;
  desc.num_inputs = num_inputs;
  desc.attrs = attrs;
  desc.num_attrs = num_attrs;
  size_t count = 0;
  return kiln_graph_add_op(graph, &desc, out, 1, &count);
}

/* Builds relu(x[batch, 4] @ W + b) with W an inline weight and b a constant. */
static kiln_graph* build_graph(kiln_device* cpu) {
  kiln_graph* graph = NULL;
  if (!ok(kiln_graph_create("capi_roundtrip", &graph), "kiln_graph_create")) return NULL;

  kiln_dim dims[2] = {{0, "batch"}, {IN_FEATURES, NULL}};
  kiln_tensor_type type;
  memset(&type, 0, sizeof type);
  type.struct_size = sizeof type;
  type.dtype = KILN_DTYPE_FLOAT32;
  type.rank = 2;
  type.dims = dims;
  type.device = "cpu";
  kiln_value* x = NULL;
  kiln_value* w = NULL;
  kiln_value* b = NULL;
  kiln_value* mm = NULL;
  kiln_value* sum = NULL;
  kiln_value* y = NULL;
  kiln_tensor* weight_data = NULL;
  kiln_tensor* bias_data = NULL;
  int good = ok(kiln_graph_add_input(graph, "x", &type, &x), "add_input");

  const int64_t weight_shape[2] = {IN_FEATURES, OUT_FEATURES};
  good = good && ok(kiln_tensor_create_from_host(cpu, KILN_DTYPE_FLOAT32, weight_shape, 2,
                                                 kWeight, sizeof kWeight, &weight_data),
                    "weight data");
  if (good) {
    kiln_weight_desc desc;
    kiln_weight_desc_init(&desc);
    desc.name = "w";
    desc.dtype = KILN_DTYPE_FLOAT32;
    desc.rank = 2;
    desc.shape = weight_shape;
    desc.data = weight_data;
    good = ok(kiln_graph_add_weight(graph, &desc, &w), "add_weight");
  }

  const int64_t bias_shape[1] = {OUT_FEATURES};
  good = good && ok(kiln_tensor_create_from_host(cpu, KILN_DTYPE_FLOAT32, bias_shape, 1, kBias,
                                                 sizeof kBias, &bias_data),
                    "bias data");
  if (good) {
    kiln_attr value;
    memset(&value, 0, sizeof value);
    value.name = "value";
    value.kind = KILN_ATTR_TENSOR;
    value.tensor = bias_data;
    good = ok(add_op(graph, "constant", NULL, 0, &value, 1, &b), "constant");
  }
  if (good) {
    const kiln_value* operands[2] = {x, w};
    good = ok(add_op(graph, "matmul", operands, 2, NULL, 0, &mm), "matmul");
  }
  if (good) {
    const kiln_value* operands[2] = {mm, b};
    good = ok(add_op(graph, "add", operands, 2, NULL, 0, &sum), "add");
  }
  if (good) {
    const kiln_value* operands[1] = {sum};
    good = ok(add_op(graph, "relu", operands, 1, NULL, 0, &y), "relu");
  }
  if (good) {
    const kiln_value* outputs[1] = {y};
    good = ok(kiln_graph_set_outputs(graph, outputs, 1), "set_outputs");
  }
  if (good) {
    /* A graph-building error: add of float32 and int64 is refused, and the graph unchanged. */
    const int64_t one = 1;
    kiln_tensor* int_data = NULL;
    kiln_value* int_const = NULL;
    kiln_value* bad = NULL;
    const int64_t scalar_shape[1] = {1};
    if (ok(kiln_tensor_create_from_host(cpu, KILN_DTYPE_INT64, scalar_shape, 1, &one,
                                        sizeof one, &int_data),
           "int data")) {
      kiln_attr value;
      memset(&value, 0, sizeof value);
      value.name = "value";
      value.kind = KILN_ATTR_TENSOR;
      value.tensor = int_data;
      if (ok(add_op(graph, "constant", NULL, 0, &value, 1, &int_const), "int constant")) {
        const size_t with_constant = kiln_graph_get_node_count(graph);
        const kiln_value* operands[2] = {y, int_const};
        kiln_status* status = add_op(graph, "add", operands, 2, NULL, 0, &bad);
        CHECK(status != NULL, "add of float32 and int64 must fail");
        if (status != NULL) {
          const char* message = kiln_status_get_message(status);
          CHECK(kiln_status_get_code(status) == KILN_STATUS_INVALID_ARGUMENT, "code %s",
                kiln_status_code_get_name(kiln_status_get_code(status)));
          CHECK(message != NULL && strstr(message, "add") != NULL, "message: %s", message);
          printf("expected graph error: %s\n", message);
          kiln_status_destroy(status);
        }
        CHECK(bad == NULL, "out-parameter touched on failure");
        CHECK(kiln_graph_get_node_count(graph) == with_constant, "graph changed on failure");
      }
      kiln_tensor_release(int_data);
    }
  }
  kiln_tensor_release(weight_data);
  kiln_tensor_release(bias_data);
  if (!good) {
    kiln_graph_destroy(graph);
    return NULL;
  }
  return graph;
}

/* Checks the loaded graph's structure and types. */
static void check_loaded_graph(const kiln_graph* graph) {
  CHECK(strcmp(kiln_graph_get_name(graph), "capi_roundtrip") == 0, "name %s",
        kiln_graph_get_name(graph));
  CHECK(kiln_graph_get_input_count(graph) == 1, "inputs");
  CHECK(kiln_graph_get_output_count(graph) == 1, "outputs");
  CHECK(kiln_graph_get_weight_count(graph) == 1, "weights");
  kiln_value* input = NULL;
  if (ok(kiln_graph_get_input(graph, 0, &input), "get_input")) {
    kiln_tensor_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.struct_size = sizeof spec;
    if (ok(kiln_value_get_spec(input, &spec), "value spec")) {
      CHECK(spec.dtype == KILN_DTYPE_FLOAT32, "dtype %d", (int)spec.dtype);
      CHECK(spec.rank == 2, "rank %zu", spec.rank);
      CHECK(spec.rank == 2 && spec.dim_exprs != NULL && spec.dim_exprs[0] != NULL &&
                strcmp(spec.dim_exprs[0], "batch") == 0,
            "dim 0 should be symbolic 'batch'");
      CHECK(spec.rank == 2 && spec.shape[1] == IN_FEATURES, "dim 1");
    }
  }
  kiln_weight_info info;
  memset(&info, 0, sizeof info);
  info.struct_size = sizeof info;
  if (ok(kiln_graph_get_weight_info(graph, 0, &info), "weight info")) {
    CHECK(strcmp(info.name, "w") == 0 && info.is_inline && info.byte_size == sizeof kWeight,
          "weight info");
  }
  int saw_matmul = 0;
  for (size_t i = 0; i < kiln_graph_get_node_count(graph); ++i) {
    kiln_node_info node;
    memset(&node, 0, sizeof node);
    node.struct_size = sizeof node;
    if (ok(kiln_graph_get_node_info(graph, i, &node), "node info") &&
        strcmp(node.op, "matmul") == 0) {
      saw_matmul = 1;
    }
  }
  CHECK(saw_matmul, "the loaded graph has no matmul node");
}

/* Executes with `batch` rows and compares with the C reference. */
static void run_and_compare(kiln_model* model, kiln_device* cpu, int64_t batch) {
  float x[MAX_BATCH * IN_FEATURES];
  float expected[MAX_BATCH * OUT_FEATURES];
  float actual[MAX_BATCH * OUT_FEATURES];
  for (int64_t i = 0; i < batch * IN_FEATURES; ++i) x[i] = (float)((i * 7) % 11) / 4.0f - 1.0f;
  reference(x, batch, expected);

  const int64_t shape[2] = {batch, IN_FEATURES};
  kiln_tensor* input = NULL;
  if (!ok(kiln_tensor_create_from_host(cpu, KILN_DTYPE_FLOAT32, shape, 2, x,
                                       (size_t)batch * IN_FEATURES * sizeof(float), &input),
          "input tensor")) {
    return;
  }
  kiln_tensor* output = NULL;
  if (ok(kiln_model_execute(model, &input, 1, &output, 1), "execute")) {
    CHECK(kiln_tensor_get_dtype(output) == KILN_DTYPE_FLOAT32, "output dtype");
    CHECK(kiln_tensor_get_rank(output) == 2, "output rank");
    const int64_t* out_shape = kiln_tensor_get_shape(output);
    CHECK(out_shape != NULL && out_shape[0] == batch && out_shape[1] == OUT_FEATURES,
          "output shape");
    const size_t bytes = (size_t)batch * OUT_FEATURES * sizeof(float);
    CHECK(kiln_tensor_get_byte_size(output) == bytes, "byte size");
    if (ok(kiln_tensor_read(output, actual, bytes), "read output")) {
      for (int64_t i = 0; i < batch * OUT_FEATURES; ++i) {
        CHECK(fabsf(actual[i] - expected[i]) <= 1e-5f * (1.0f + fabsf(expected[i])),
              "batch %lld element %lld: %g != %g", (long long)batch, (long long)i,
              (double)actual[i], (double)expected[i]);
      }
    }
    kiln_tensor_release(output);
  }
  kiln_tensor_release(input);
}

/* An int32 input where float32 is expected: a status with a message, no output written. */
static void check_wrong_dtype(kiln_model* model, kiln_device* cpu) {
  const int64_t shape[2] = {2, IN_FEATURES};
  kiln_tensor* input = NULL;
  if (!ok(kiln_tensor_create(cpu, KILN_DTYPE_INT32, shape, 2, &input), "int32 input")) return;
  kiln_tensor* output = NULL;
  kiln_status* status = kiln_model_execute(model, &input, 1, &output, 1);
  CHECK(status != NULL, "executing with an int32 input must fail");
  if (status != NULL) {
    const char* message = kiln_status_get_message(status);
    CHECK(kiln_status_get_code(status) == KILN_STATUS_INVALID_ARGUMENT, "code %s",
          kiln_status_code_get_name(kiln_status_get_code(status)));
    CHECK(message != NULL && message[0] != '\0', "empty message");
    CHECK(message != NULL && strstr(message, "int32") != NULL, "message names the dtype: %s",
          message);
    printf("expected execute error: %s\n", message);
    kiln_status_destroy(status);
  }
  CHECK(output == NULL, "output written on failure");
  kiln_tensor_release(input);

  /* Too few inputs is an error too. */
  status = kiln_model_execute(model, NULL, 0, &output, 1);
  CHECK(status != NULL, "executing without inputs must fail");
  kiln_status_destroy(status);
}

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "capi_roundtrip.kiln";
  printf("libkiln %s, C ABI %u.%u\n", kiln_get_version(), kiln_get_abi_version() >> 16,
         kiln_get_abi_version() & 0xFFFFu);
  CHECK(kiln_get_abi_version() >> 16 == KILN_ABI_VERSION_MAJOR, "ABI major");

  kiln_runtime* runtime = NULL;
  if (!ok(kiln_runtime_create(NULL, &runtime), "kiln_runtime_create")) return 1;
  kiln_device* cpu = NULL;
  if (!ok(kiln_runtime_find_device(runtime, "cpu", &cpu), "find cpu")) {
    kiln_runtime_destroy(runtime);
    return 1;
  }

  /* Build, save, destroy; then load it back. */
  kiln_graph* built = build_graph(cpu);
  kiln_graph* graph = NULL;
  if (built != NULL) {
    if (ok(kiln_graph_save(built, path), "kiln_graph_save")) {
      ok(kiln_graph_load(path, &graph), "kiln_graph_load");
    }
    void* buffer = NULL;
    size_t size = 0;
    if (ok(kiln_graph_save_to_buffer(built, &buffer, &size), "save_to_buffer")) {
      kiln_graph* from_buffer = NULL;
      if (ok(kiln_graph_load_from_buffer(buffer, size, &from_buffer), "load_from_buffer")) {
        check_loaded_graph(from_buffer);
        kiln_graph_destroy(from_buffer);
      }
      /* A truncated buffer is an error with a message, not a crash. */
      kiln_graph* truncated = NULL;
      kiln_status* status = kiln_graph_load_from_buffer(buffer, size / 2, &truncated);
      CHECK(status != NULL && truncated == NULL, "truncated buffer must fail");
      if (status != NULL) {
        CHECK(kiln_status_get_message(status)[0] != '\0', "empty message");
        kiln_status_destroy(status);
      }
      kiln_buffer_destroy(buffer);
    }
    kiln_graph_destroy(built);
  }

  kiln_session* session = NULL;
  kiln_model* model = NULL;
  if (graph != NULL) {
    check_loaded_graph(graph);
    kiln_session_options options;
    kiln_session_options_init(&options);
    options.num_threads = 2;
    if (ok(kiln_session_create(runtime, &options, &session), "session_create")) {
      kiln_load_options load_options;
      kiln_load_options_init(&load_options);
      ok(kiln_session_load(session, graph, &load_options, &model), "session_load");
    }
    kiln_graph_destroy(graph); /* the model does not need the graph */
  }

  if (model != NULL) {
    CHECK(kiln_model_get_input_count(model) == 1, "model inputs");
    CHECK(kiln_model_get_output_count(model) == 1, "model outputs");
    kiln_tensor_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.struct_size = sizeof spec;
    if (ok(kiln_model_get_input_spec(model, 0, &spec), "input spec")) {
      CHECK(strcmp(spec.name, "x") == 0, "input name %s", spec.name);
      CHECK(spec.rank == 2 && spec.shape[0] == -1, "dim 0 is symbolic (-1)");
    }
    run_and_compare(model, cpu, 2);
    run_and_compare(model, cpu, MAX_BATCH);
    run_and_compare(model, cpu, 1);
    check_wrong_dtype(model, cpu);
  }

  /* Destroy in an order different from creation: runtime first, model last. */
  kiln_session_destroy(session);
  kiln_runtime_destroy(runtime);
  kiln_model_destroy(model);
  remove(path);

  if (g_failures != 0) {
    fprintf(stderr, "capi_roundtrip: %d check(s) failed\n", g_failures);
    return 1;
  }
  printf("capi_roundtrip: all checks passed\n");
  return 0;
}
