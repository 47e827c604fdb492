/* Runs fused_rms_norm through the C ABI with the plugin given as a session custom extension.
 *   rms_norm_c PLUGIN ROWS COLS EPSILON
 * Inputs: x[i] = 3 sin(0.37 i), weight[c] = 0.5 + 0.1 c (float32). Prints y, one value a line. */
#include <kiln/kiln.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static int check(kiln_status* status, const char* what) {
  if (status == NULL) return 0;
  fprintf(stderr, "%s: %s\n", what, kiln_status_get_message(status));
  kiln_status_destroy(status);
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: rms_norm_c PLUGIN ROWS COLS EPSILON\n");
    return 2;
  }
  const char* extensions[] = {argv[1]};
  const int64_t rows = atoll(argv[2]), cols = atoll(argv[3]);
  const double epsilon = atof(argv[4]);

  kiln_runtime* runtime = NULL;
  if (check(kiln_runtime_create(NULL, &runtime), "runtime")) return 1;
  kiln_session_options options;
  kiln_session_options_init(&options);
  options.custom_extensions = extensions;
  options.num_custom_extensions = 1;
  kiln_session* session = NULL;
  if (check(kiln_session_create(runtime, &options, &session), "session")) return 1;

  kiln_graph* graph = NULL;
  if (check(kiln_graph_create("rms", &graph), "graph")) return 1;
  const kiln_dim x_dims[] = {{rows, NULL}, {cols, NULL}};
  const kiln_dim w_dims[] = {{cols, NULL}};
  kiln_tensor_type x_type = {sizeof x_type, KILN_DTYPE_FLOAT32, 2, x_dims, NULL};
  kiln_tensor_type w_type = {sizeof w_type, KILN_DTYPE_FLOAT32, 1, w_dims, NULL};
  kiln_value *x = NULL, *w = NULL, *y = NULL;
  if (check(kiln_graph_add_input(graph, "x", &x_type, &x), "input x") ||
      check(kiln_graph_add_input(graph, "weight", &w_type, &w), "input weight")) {
    return 1;
  }
  const kiln_value* inputs[] = {x, w};
  kiln_attr eps = {0};
  eps.name = "epsilon";
  eps.kind = KILN_ATTR_FLOAT;
  eps.f = epsilon;
  kiln_op_desc desc = {0};
  desc.struct_size = sizeof desc;
  desc.op = "fused_rms_norm";
  desc.inputs = inputs;
  desc.num_inputs = 2;
  desc.attrs = &eps;
  desc.num_attrs = 1;
  desc.output_types = &x_type;
  desc.num_output_types = 1;
  if (check(kiln_graph_add_op(graph, &desc, &y, 1, NULL), "fused_rms_norm")) return 1;
  const kiln_value* outputs[] = {y};
  if (check(kiln_graph_set_outputs(graph, outputs, 1), "outputs")) return 1;
  kiln_model* model = NULL;
  if (check(kiln_session_load(session, graph, NULL, &model), "load")) return 1;

  float* xs = malloc(sizeof(float) * (size_t)(rows * cols));
  float* ws = malloc(sizeof(float) * (size_t)cols);
  float* ys = malloc(sizeof(float) * (size_t)(rows * cols));
  for (int64_t i = 0; i < rows * cols; ++i) xs[i] = (float)(3.0 * sin(0.37 * (double)i));
  for (int64_t c = 0; c < cols; ++c) ws[c] = (float)(0.5 + 0.1 * (double)c);
  kiln_device* cpu = NULL;
  if (check(kiln_runtime_find_device(runtime, "cpu", &cpu), "cpu")) return 1;
  const int64_t x_shape[] = {rows, cols}, w_shape[] = {cols};
  kiln_tensor *xt = NULL, *wt = NULL, *yt = NULL;
  if (check(kiln_tensor_create_from_host(cpu, KILN_DTYPE_FLOAT32, x_shape, 2, xs,
                                         sizeof(float) * (size_t)(rows * cols), &xt),
            "x") ||
      check(kiln_tensor_create_from_host(cpu, KILN_DTYPE_FLOAT32, w_shape, 1, ws,
                                         sizeof(float) * (size_t)cols, &wt),
            "weight")) {
    return 1;
  }
  kiln_tensor* args[] = {xt, wt};
  if (check(kiln_model_execute(model, args, 2, &yt, 1), "execute")) return 1;
  if (check(kiln_tensor_read(yt, ys, sizeof(float) * (size_t)(rows * cols)), "read")) return 1;
  for (int64_t i = 0; i < rows * cols; ++i) printf("%.9g\n", ys[i]);

  kiln_tensor_release(yt);
  kiln_tensor_release(wt);
  kiln_tensor_release(xt);
  kiln_model_destroy(model);
  kiln_graph_destroy(graph);
  kiln_session_destroy(session);
  kiln_runtime_destroy(runtime);
  free(xs);
  free(ws);
  free(ys);
  return 0;
}
