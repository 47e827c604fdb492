/* add_vs_cpu.c: through the public C ABI only (kiln.h), runs one float32 `add` graph on the CPU
 * and on the first GPU ("gpu:0", any vendor) and checks that the results are identical.
 *
 *   kiln_gpu_add_check [DEVICE_SPEC]      (default "gpu:0")
 * Exit status: 0 equal; 1 a failure (printed); 77 no such device here (skipped, reason printed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiln/kiln.h"

enum { kSkip = 77 };
#define N_ELEMENTS ((1 << 20) + 3)

static int fail(const char* what, kiln_status* status) {
  printf("FAIL %s: %s: %s\n", what, kiln_status_code_get_name(kiln_status_get_code(status)),
         kiln_status_get_message(status));
  kiln_status_destroy(status);
  return 1;
}

#define CHECK(what, call)                \
  do {                                   \
    kiln_status* check_status_ = (call); \
    if (check_status_ != NULL) {         \
      return fail(what, check_status_);  \
    }                                    \
  } while (0)

/* out = x + y, x and y float32 [N_ELEMENTS]. */
static int build_graph(kiln_graph** out_graph) {
  kiln_graph* graph = NULL;
  kiln_dim dim = {N_ELEMENTS, NULL};
  kiln_tensor_type type = {sizeof(kiln_tensor_type), KILN_DTYPE_FLOAT32, 1, &dim, NULL, 0};
  kiln_value* inputs[2];
  kiln_value* sum = NULL;
  size_t num_outputs = 0;
  kiln_op_desc add;
  CHECK("kiln_graph_create", kiln_graph_create("add_vs_cpu", &graph));
  *out_graph = graph;
  CHECK("add input x", kiln_graph_add_input(graph, "x", &type, &inputs[0]));
  CHECK("add input y", kiln_graph_add_input(graph, "y", &type, &inputs[1]));
  memset(&add, 0, sizeof(add));
  add.struct_size = sizeof(add);
  add.op = "add";
  add.inputs = (const kiln_value* const*)inputs;
  add.num_inputs = 2;
  CHECK("add op", kiln_graph_add_op(graph, &add, &sum, 1, &num_outputs));
  CHECK("set outputs", kiln_graph_set_outputs(graph, (const kiln_value* const*)&sum, 1));
  return 0;
}

/* Runs the graph on a session over `spec`, with inputs made on the CPU, into host `result`. */
static int run_on(kiln_runtime* runtime, const char* spec, const kiln_graph* graph, const float* x,
                  const float* y, float* result) {
  kiln_session_options options;
  kiln_session* session = NULL;
  kiln_model* model = NULL;
  kiln_device* cpu = NULL;
  kiln_tensor* inputs[2] = {NULL, NULL};
  kiln_tensor* output = NULL;
  const int64_t shape[1] = {N_ELEMENTS};
  const size_t bytes = sizeof(float) * N_ELEMENTS;
  kiln_session_options_init(&options);
  options.devices = &spec;
  options.num_devices = 1;
  CHECK("kiln_session_create", kiln_session_create(runtime, &options, &session));
  CHECK("kiln_session_load", kiln_session_load(session, graph, NULL, &model));
  CHECK("find cpu", kiln_runtime_find_device(runtime, "cpu", &cpu));
  CHECK("input x",
        kiln_tensor_create_from_host(cpu, KILN_DTYPE_FLOAT32, shape, 1, x, bytes, &inputs[0]));
  CHECK("input y",
        kiln_tensor_create_from_host(cpu, KILN_DTYPE_FLOAT32, shape, 1, y, bytes, &inputs[1]));
  CHECK("kiln_model_execute", kiln_model_execute(model, inputs, 2, &output, 1));
  printf("  %s: output on %s:%d\n", spec, kiln_device_get_api(kiln_tensor_get_device(output)),
         kiln_device_get_id(kiln_tensor_get_device(output)));
  CHECK("kiln_tensor_read", kiln_tensor_read(output, result, bytes));
  kiln_tensor_release(output);
  kiln_tensor_release(inputs[0]);
  kiln_tensor_release(inputs[1]);
  kiln_model_destroy(model);
  kiln_session_destroy(session);
  return 0;
}

int main(int argc, char** argv) {
  const char* spec = argc > 1 ? argv[1] : "gpu:0";
  kiln_runtime* runtime = NULL;
  kiln_device* device = NULL;
  kiln_graph* graph = NULL;
  kiln_status* status = NULL;
  float* x = malloc(sizeof(float) * N_ELEMENTS);
  float* y = malloc(sizeof(float) * N_ELEMENTS);
  float* on_cpu = malloc(sizeof(float) * N_ELEMENTS);
  float* on_gpu = malloc(sizeof(float) * N_ELEMENTS);
  size_t i, mismatches = 0;
  if (!x || !y || !on_cpu || !on_gpu) {
    printf("FAIL: out of host memory\n");
    return 1;
  }
  for (i = 0; i < N_ELEMENTS; ++i) {
    x[i] = (float)(i % 1000) * 0.25f - 3.0f;
    y[i] = (float)(i % 7) * 1.5f + 1e-3f * (float)(i % 13);
  }
  CHECK("kiln_runtime_create", kiln_runtime_create(NULL, &runtime));
  for (i = 0; i < kiln_runtime_get_plugin_count(runtime); ++i) {
    kiln_plugin_info info;
    memset(&info, 0, sizeof(info));
    info.struct_size = sizeof(info);
    if (kiln_runtime_get_plugin_info(runtime, i, &info) == NULL) {
      printf("  plugin %s: %zu device(s)%s%s\n", info.name, info.num_devices,
             info.device_note && info.device_note[0] ? ", " : "",
             info.device_note ? info.device_note : "");
    }
  }
  status = kiln_runtime_find_device(runtime, spec, &device);
  if (status != NULL) {
    printf("SKIP: no device %s here: %s\n", spec, kiln_status_get_message(status));
    kiln_status_destroy(status);
    kiln_runtime_destroy(runtime);
    return kSkip;
  }
  printf("  %s is %s\n", spec, kiln_device_get_name(device));
  if (build_graph(&graph) != 0) return 1;
  if (run_on(runtime, "cpu", graph, x, y, on_cpu) != 0) return 1;
  if (run_on(runtime, spec, graph, x, y, on_gpu) != 0) return 1;
  for (i = 0; i < N_ELEMENTS; ++i) {
    if (memcmp(&on_cpu[i], &on_gpu[i], sizeof(float)) != 0) ++mismatches;
  }
  printf("%s: add f32 [%d] on %s vs cpu: %zu mismatches\n", mismatches ? "FAIL" : "PASS",
         N_ELEMENTS, spec, mismatches);
  kiln_graph_destroy(graph);
  kiln_runtime_destroy(runtime);
  free(x);
  free(y);
  free(on_cpu);
  free(on_gpu);
  return mismatches ? 1 : 0;
}
