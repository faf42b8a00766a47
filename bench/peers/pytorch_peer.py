"""The PyTorch peer of `npm run bench` (driven by bench/peers/pytorch.ts; run with Debian's /usr/bin/python3).

    /usr/bin/python3 bench/peers/pytorch_peer.py THREADS

Reads one JSON request per line on stdin and answers one JSON line on stdout. The first line it
writes is {"ready": true, "torch": version, ...} (or {"error": ...} when torch cannot be imported).
A request {"spec", "kind", "weights", "batches", "sgd", "measure"} builds the workload's net from
convstack's NetSpec with the weights convstack's Net starts from (a safetensors file with the Net's
parameter names), loads the same batches (a safetensors file: "images" [count, N, C, H, W] float32,
"labels" [count, N] int32), times the step with bench/measure.ts's rule (the same warm-up, run count
and median) and answers {"ms", "runs"}, or {"skip": reason} for a layer torch cannot run here. With
"forward": true it answers {"output"} instead: the net's eval-mode output on the first batch.
"""
import json
import math
import re
import struct
import sys
import time


def answer(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


try:
    import numpy as np
    import torch
    from torch import nn
    from torch.nn import functional as F
except ImportError as error:  # the TypeScript side lists the peer as skipped with this reason
    answer({"error": f"{error} (Debian's python3-torch is not installed)"})
    sys.exit(0)

DTYPES = {"F32": np.float32, "I32": np.int32, "I64": np.int64, "F64": np.float64}


def read_safetensors(path):
    """{name: numpy array} from a safetensors file (8-byte header length, JSON header, data)."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + length])
    start = 8 + length
    arrays = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        arrays[name] = np.frombuffer(data, DTYPES[entry["dtype"]], (end - begin) // np.dtype(DTYPES[entry["dtype"]]).itemsize, start + begin).reshape(entry["shape"])
    return arrays


class SpecNet(nn.Module):
    """A NetSpec's nodes as torch modules, evaluated in the spec's order (chains and DAGs alike)."""

    def __init__(self, spec, weights):
        super().__init__()
        self.nodes = spec["nodes"]
        self.layers = nn.ModuleDict()
        channels = {"input": spec["input"][0]}
        for node in self.nodes:
            module, channels[node["name"]] = layer(node, [channels[i] for i in node["inputs"]], weights)
            if module is not None:
                self.layers[key(node)] = module
        self.load(weights)

    def load(self, weights):
        """Copies convstack's initial values into the modules' parameters and buffers, by name."""
        with torch.no_grad():
            for node in self.nodes:
                module = self.layers[key(node)] if key(node) in self.layers else None
                for name, tensor in list(getattr(module, "_parameters", {}).items()) + list(getattr(module, "_buffers", {}).items()):
                    source = weights.get(f"{node['name']}.{name}")
                    if source is not None and tensor is not None:
                        tensor.copy_(torch.from_numpy(source.copy()).view_as(tensor))
                    elif tensor is not None and name != "num_batches_tracked":
                        raise ValueError(f"no weights for {node['name']}.{name}")

    def forward(self, x):
        values = {"input": x}
        out = x
        for node in self.nodes:
            inputs = [values[name] for name in node["inputs"]]
            out = apply(node, self.layers[key(node)] if key(node) in self.layers else None, inputs)
            values[node["name"]] = out
        return out


def key(node):
    """ModuleDict keys may not contain dots; convstack's node names do (`layer1.0.conv1`)."""
    return node["name"].replace(".", "__")


def layer(node, channels, weights):
    """One node's module (None for stateless ops) and its output channel count; an FC layer's input size is its weight's."""
    op, a, c = node["op"], node["attrs"], channels[0] if channels else 0
    if op == "conv":
        return nn.Conv2d(c, a["outChannels"], a["kernel"], a["stride"], a["padding"], groups=a["groups"], bias=a["bias"]), a["outChannels"]
    if op == "fc":
        return nn.Linear(weights[f"{node['name']}.weight"].shape[1], a["outFeatures"], bias=a["bias"]), a["outFeatures"]
    if op == "bn":
        return nn.BatchNorm2d(c, eps=a["eps"], momentum=a["momentum"]), c
    if op == "maxpool":
        return nn.MaxPool2d(a["kernel"], a["stride"], a["padding"], ceil_mode=a["rounding"] == "ceil"), c
    if op == "avgpool":
        return nn.AvgPool2d(a["kernel"], a["stride"], a["padding"], ceil_mode=a["rounding"] == "ceil", count_include_pad=a["countIncludePad"]), c
    if op == "lrn":
        return nn.LocalResponseNorm(a["size"], a["alpha"], a["beta"], a["k"]), c
    if op == "dropout":
        return nn.Dropout(a["p"]), c
    if op == "concat":
        return None, sum(channels)
    if op in ("relu", "add", "globalavgpool", "flatten", "softmax"):
        return None, c
    raise Unsupported(f"no torch layer for convstack's '{op}' in this peer")


def apply(node, module, inputs):
    op, x = node["op"], inputs[0]
    if op == "fc":
        return module(torch.flatten(x, 1))
    if module is not None:
        return module(x)
    if op == "relu":
        return F.relu(x)
    if op == "add":
        return x + inputs[1]
    if op == "globalavgpool":
        return F.adaptive_avg_pool2d(x, 1)
    if op == "flatten":
        return torch.flatten(x, 1)
    if op == "softmax":
        return F.softmax(x, 1)
    if op == "concat":
        return torch.cat(inputs, 1)
    raise Unsupported(op)


class Unsupported(Exception):
    pass


def make_step(request):
    """The timed unit of the workload: a forward, a forward+backward, or an SGD-momentum step."""
    batches = read_safetensors(request["batches"])
    images = [torch.from_numpy(x.copy()) for x in batches["images"]]
    labels = [torch.from_numpy(y.astype(np.int64)) for y in batches["labels"]]
    net = SpecNet(request["spec"], read_safetensors(request["weights"]))
    counter = iter(range(1 << 62))

    def pick():
        return next(counter) % len(images)

    kind = request["kind"]
    if kind == "infer":
        net.eval()

        def infer():
            with torch.inference_mode():
                net(images[pick()])

        return infer
    net.train()
    if kind == "fwdbwd":
        # Gradients of sum(y) for the input and every weight: dy = 1, as bench/peers/convstack.ts does.
        def fwdbwd():
            x = images[pick()].detach().requires_grad_(True)
            net.zero_grad(set_to_none=True)
            y = net(x)
            y.backward(torch.ones_like(y))

        return fwdbwd
    sgd = request["sgd"]
    optimizer = torch.optim.SGD(net.parameters(), lr=sgd["lr"], momentum=sgd["momentum"])

    def train():
        i = pick()
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(images[i]), labels[i])
        loss.backward()
        optimizer.step()

    return train


def forward_output(request):
    """The net's eval-mode output on the first batch, flat: how test/bench checks that this side runs the same net."""
    try:
        net = SpecNet(request["spec"], read_safetensors(request["weights"])).eval()
        images = read_safetensors(request["batches"])["images"]
        with torch.inference_mode():
            return {"output": net(torch.from_numpy(images[0].copy())).flatten().tolist()}
    except Exception as error:  # reported to the caller, the process goes on
        return {"error": f"{type(error).__name__}: {error}"}


def measure(step, warmup, warmupMs, maxRuns, budgetMs):
    """bench/measure.ts's rule: warm up (at least `warmup` runs and `warmupMs`, at most half the budget), then the median of the runs that fit the budget."""
    first = 0.0
    start = time.perf_counter()
    i = 0
    while i < warmup or (time.perf_counter() - start) * 1000 < warmupMs:
        t0 = time.perf_counter()
        step()
        first = (time.perf_counter() - t0) * 1000
        i += 1
        if (time.perf_counter() - start) * 1000 > budgetMs / 2:
            break
    runs = max(1, min(maxRuns, math.floor(budgetMs / max(first, 1e-3))))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    mid = len(times) >> 1
    ms = times[mid] if len(times) % 2 == 1 else (times[mid - 1] + times[mid]) / 2
    return {"ms": ms, "runs": runs}


def cpu_capability():
    """The vector ISA ATen's own kernels were dispatched to ("AVX2", "AVX512"), from torch's build summary."""
    found = re.search(r"CPU capability usage: (\S+)", torch.__config__.show())
    return found.group(1) if found else "unknown"


def main():
    threads = int(sys.argv[1])
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    answer({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "capability": cpu_capability()})
    for line in sys.stdin:
        request = json.loads(line)
        if request.get("forward"):
            answer(forward_output(request))
            continue
        try:
            step = make_step(request)
        except Unsupported as reason:
            answer({"skip": str(reason)})
            continue
        except Exception as error:  # reported as this workload's failure, the peer goes on
            answer({"error": f"{type(error).__name__}: {error}"})
            continue
        answer(measure(step, **request["measure"]))


if __name__ == "__main__":
    main()
