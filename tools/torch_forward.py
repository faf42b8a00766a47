#!/usr/bin/python3
"""Runs a module written by `convstack export --pytorch` on a batch, for the tests of that export.

    /usr/bin/python3 tools/torch_forward.py net.py weights.safetensors x.npy out_dir [--train]

Loads the weights (safetensors, or a .pth state_dict) into the module strictly, by name, runs it on
x.npy (float32, NCHW) in eval mode and writes out_dir/output.npy (the scores) and
out_dir/state.safetensors (every parameter and buffer after the pass). With --train, it does that in
out_dir/eval/, then from the same weights in training mode in out_dir/train/, with each auxiliary
head's scores in aux1.npy, aux2.npy, ... (BN's running statistics move in training mode). Run with Debian's /usr/bin/python3 (python3-torch 1.13).
"""
import importlib.util
import json
import os
import struct
import sys

import numpy as np
import torch

DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'I64': torch.int64, 'I32': torch.int32, 'F16': torch.float16}


def read_safetensors(path):
    """The tensors of a safetensors file, by name."""
    with open(path, 'rb') as f:
        data = f.read()
    (size,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + size])
    body = data[8 + size:]
    tensors = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        start, end = info['data_offsets']
        raw = bytearray(body[start:end])
        tensors[name] = torch.frombuffer(raw, dtype=DTYPES[info['dtype']]).reshape(info['shape']).clone()
    return tensors


def write_safetensors(path, tensors):
    """Float tensors as float32 safetensors, in the given order."""
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        raw = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(chunks))


def load_module(path):
    spec = importlib.util.spec_from_file_location('exported_net', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(net_py, weights, x, out_dir, training):
    """One pass from freshly loaded weights; writes the outputs and the state after it to out_dir."""
    torch.manual_seed(0)
    net = load_module(net_py).Net()
    state = read_safetensors(weights) if weights.endswith('.safetensors') else torch.load(weights)
    net.load_state_dict(state, strict=True)
    net.train(training)
    with torch.no_grad():
        outputs = net(x)
    if not isinstance(outputs, tuple):
        outputs = (outputs,)
    os.makedirs(out_dir, exist_ok=True)
    for i, y in enumerate(outputs):
        np.save(os.path.join(out_dir, 'output.npy' if i == 0 else f'aux{i}.npy'), y.numpy().astype(np.float32))
    state = {k: v for k, v in net.state_dict().items() if not k.endswith('num_batches_tracked')}
    write_safetensors(os.path.join(out_dir, 'state.safetensors'), state)


def main(net_py, weights, x_npy, out_dir, *flags):
    x = torch.from_numpy(np.load(x_npy))
    if '--train' in flags:
        run(net_py, weights, x, os.path.join(out_dir, 'eval'), False)
        run(net_py, weights, x, os.path.join(out_dir, 'train'), True)
    else:
        run(net_py, weights, x, out_dir, False)


if __name__ == '__main__':
    main(*sys.argv[1:])
