"""Writes the .pth fixtures of test/fixtures/pth/ with torch.save, as PyTorch users get them.

Run with Debian's python3 and python3-torch (PyTorch 1.13):  /usr/bin/python3 tools/pth_fixtures.py

Every value is sin(i + k) for the i-th element (row-major) of the k-th tensor in file order, computed in
float64 and then cast, so the test (test/io/pth/pth.test.ts) recomputes the expected values instead of
storing them a second time.
"""
import collections
import json
import math
import os

import torch
import torch.nn as nn

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'pth')


def pattern(k, shape, dtype):
    n = math.prod(shape)
    return torch.sin(torch.arange(n, dtype=torch.float64) + k).reshape(shape).to(dtype)


def fill(state):
    """Sets every floating tensor of a state_dict to the pattern (running_var kept positive)."""
    out = collections.OrderedDict()
    for k, (name, t) in enumerate(state.items()):
        if t.is_floating_point():
            v = pattern(k, tuple(t.shape), t.dtype)
            out[name] = v.abs() + 0.5 if name.endswith('running_var') else v
        else:
            out[name] = torch.tensor(k + 100, dtype=t.dtype)
    out._metadata = state._metadata
    return out


def lenet5(bn, width=1.0):
    """The zoo's lenet5 (src/zoo/lenet.ts), with BN after each CONV when `bn`, named as the notation names it;
    `width` scales every layer's channels (the BN variant is at half width, to keep the fixture small)."""
    c1, c3, c5, f6 = (round(n * width) for n in (6, 16, 120, 84))
    layers = collections.OrderedDict()
    layers['c1'] = nn.Conv2d(1, c1, 5)
    if bn:
        layers['bn1'] = nn.BatchNorm2d(c1)
    layers['relu1'] = nn.ReLU()
    layers['s2'] = nn.AvgPool2d(2)
    layers['c3'] = nn.Conv2d(c1, c3, 5)
    if bn:
        layers['bn3'] = nn.BatchNorm2d(c3)
    layers['relu3'] = nn.ReLU()
    layers['s4'] = nn.AvgPool2d(2)
    layers['c5'] = nn.Conv2d(c3, c5, 5)
    layers['relu5'] = nn.ReLU()
    layers['flatten'] = nn.Flatten()
    layers['f6'] = nn.Linear(c5, f6)
    layers['relu6'] = nn.ReLU()
    layers['output'] = nn.Linear(f6, 10)
    return nn.Sequential(layers)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.save(fill(lenet5(False).state_dict()), os.path.join(OUT, 'lenet5.pth'))
    bn_half = lenet5(True, 0.5)
    bn_half.load_state_dict(fill(bn_half.state_dict()))
    torch.save(bn_half.state_dict(), os.path.join(OUT, 'lenet5_bn_half.pth'))
    # Its output in eval mode (running statistics) for the input pattern(0, (2, 1, 32, 32)).
    with torch.no_grad():
        output = bn_half.eval()(pattern(0, (2, 1, 32, 32), torch.float32))
    with open(os.path.join(OUT, 'lenet5_bn_half.output.json'), 'w') as f:
        json.dump({'input': 'sin(i) for i < 2*1*32*32, float32', 'output': output.flatten().tolist()}, f)
        f.write('\n')

    # A plain OrderedDict reaching every storage type the reader knows, views with an offset
    # into a shared storage, a transposed (non-contiguous) tensor and a 0-d tensor.
    shared = pattern(0, (12,), torch.float32)
    plain = collections.OrderedDict()
    plain['float'] = pattern(0, (2, 3), torch.float32)
    plain['double'] = pattern(1, (3,), torch.float64)
    plain['half'] = pattern(2, (2, 2), torch.float16)
    plain['long'] = torch.tensor([-3, 0, 2 ** 40], dtype=torch.int64)
    plain['int'] = torch.tensor([[-7, 8]], dtype=torch.int32)
    plain['view'] = shared[4:10].view(2, 3)
    plain['transposed'] = pattern(3, (2, 3), torch.float32).t()
    plain['scalar'] = torch.tensor(2.5)
    plain['shared'] = shared
    torch.save(plain, os.path.join(OUT, 'plain.pth'))


if __name__ == '__main__':
    main()
