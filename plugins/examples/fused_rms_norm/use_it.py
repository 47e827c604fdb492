"""Uses the plugin's custom op from Python: builds a graph with fused_rms_norm (and a softmax,
which the plugin's own kernel now runs), saves it as rms.kiln, runs it with the plugin as the
session's custom extension and checks the result against numpy.
    python use_it.py [PLUGIN]   (default: build/libfused_rms_norm.so)"""
import sys

import numpy as np
from kiln import engine
from kiln.dtype import DType
from kiln.graph import DeviceRef, Graph, TensorType, ops

plugin = sys.argv[1] if len(sys.argv) > 1 else "build/libfused_rms_norm.so"
epsilon = 1e-5

# Loading the plugin first lets the saved graph record which plugin its custom op comes from.
session = engine.InferenceSession(custom_extensions=[plugin])

x_type = TensorType(DType.float32, [4, 8])
with Graph("rms", input_types=[x_type, TensorType(DType.float32, [8])]) as graph:
    x, weight = graph.inputs
    (y,) = ops.custom("fused_rms_norm", DeviceRef.CPU(), [x, weight], [x_type],
                      parameters={"epsilon": epsilon})
    graph.output(y, ops.softmax(y))
graph.save("rms.kiln")

model = session.load(graph)
rng = np.random.default_rng(0)
xs = rng.standard_normal((4, 8)).astype(np.float32)
ws = rng.uniform(0.5, 1.5, 8).astype(np.float32)
y, probs = (t.to_numpy() for t in model.execute(xs, ws))

expected = xs / np.sqrt(np.mean(xs.astype(np.float64) ** 2, axis=-1, keepdims=True) + epsilon) * ws
e = np.exp(expected - expected.max(axis=-1, keepdims=True))
np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
np.testing.assert_allclose(probs, e / e.sum(axis=-1, keepdims=True), rtol=1e-5, atol=1e-6)
print("fused_rms_norm and softmax match numpy")
