// Runs fused_rms_norm through kiln.hpp with the plugin loaded into the runtime explicitly.
//   rms_norm_cpp PLUGIN ROWS COLS EPSILON
// Inputs: x[i] = 3 sin(0.37 i), weight[c] = 0.5 + 0.1 c (float32). Prints y, one value a line.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <kiln/kiln.hpp>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: rms_norm_cpp PLUGIN ROWS COLS EPSILON\n");
    return 2;
  }
  try {
    const int64_t rows = std::atoll(argv[2]), cols = std::atoll(argv[3]);
    kiln::Runtime runtime;
    runtime.load_plugin(argv[1]);
    const kiln::Device cpu = runtime.find_device("cpu");

    kiln::Graph graph("rms");
    const kiln::Value x = graph.add_input("x", kiln::DType::kFloat32, {rows, cols});
    const kiln::Value w = graph.add_input("weight", kiln::DType::kFloat32, {cols});
    kiln::OpOptions options;
    options.output_types.push_back(x.spec());
    const kiln::Value y = graph.add_op("fused_rms_norm", {x, w},
                                       kiln::Attrs().f("epsilon", std::atof(argv[4])), options)[0];
    graph.set_outputs({y});

    kiln::Session session(runtime);
    const kiln::Model model = session.load(graph);
    std::vector<float> xs(static_cast<size_t>(rows * cols)), ws(static_cast<size_t>(cols));
    for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<float>(3.0 * std::sin(0.37 * i));
    for (size_t c = 0; c < ws.size(); ++c) ws[c] = static_cast<float>(0.5 + 0.1 * c);
    const std::vector<kiln::Tensor> out =
        model.execute({kiln::Tensor::from_vector(cpu, {rows, cols}, xs),
                       kiln::Tensor::from_vector(cpu, {cols}, ws)});
    for (float v : out.at(0).to_vector<float>()) std::printf("%.9g\n", v);
  } catch (const kiln::Error& e) {
    std::fprintf(stderr, "rms_norm_cpp: %s\n", e.what());
    return 1;
  }
  return 0;
}
