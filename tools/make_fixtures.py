"""Golden values from PyTorch for every convstack op, and for one small whole net.

Run with Debian's system Python and its PyTorch 1.13 (package `python3-torch`), not a pyenv python:

    /usr/bin/python3 tools/make_fixtures.py

It writes, replacing what was there:

    test/fixtures/ops/manifest.json   one entry per fixture: name, kind, op, attrs in convstack's
                                      format (src/ops/*.ts), and the list of tensors with their shapes
    test/fixtures/ops/<name>.bin      those tensors, little-endian float32, one after another in the
                                      manifest's order, nothing else

Tensor names in a fixture:
    input.<i>          the i-th input of the op
    param.<name>       a parameter or buffer, named as in PyTorch's state_dict (`weight`,
                       `running_mean`); a net's are `param.<module>.<name>`
    dy                 the upstream gradient fed to backward (a fixed random tensor)
    output             the forward output (a loss fixture's is the scalar loss, shape []; a net's
                       the logits)
    loss               a net fixture's cross-entropy loss, shape []
    grad.input.<i>     dLoss/dinput i, from torch autograd
    grad.param.<name>  dLoss/dparam for every trainable parameter
    updated.<name>     a buffer after the forward pass (BN's running statistics in training)

Everything is float32, seeded per case from its name and computed on one CPU thread, so a rerun
writes the same bytes. test/ops/torch.test.ts reads these files and needs no Python. Each case below
shows the exact torch call behind its golden values; test/fixtures/README.md says when to regenerate.
"""

import json
import os
import struct
import zlib

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'ops')

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

fixtures = []
blobs = {}


def seeded(name):
    """Reseeds torch from a case's name and returns the name, so that adding or changing one case
    leaves every other case's values alone. Called before any of the case's tensors are drawn (Python
    evaluates a call's arguments left to right, so `op_case(seeded(name), ..., [randn(...)])` works)."""
    torch.manual_seed(zlib.crc32(name.encode()))
    return name


def randn(*shape, scale=1.0):
    return torch.randn(*shape, dtype=torch.float32) * scale


def away_from_zero(t):
    """Each value moved 0.5 further from zero, keeping its sign."""
    return torch.sign(t) * (0.5 + t.abs())


def store(name, entry, tensors):
    """Adds a manifest entry and its tensors (a list of (name, tensor)) to what `write` saves."""
    assert name not in blobs, name
    entry = {'name': name, **entry, 'tensors': [{'name': n, 'shape': list(t.shape)} for n, t in tensors]}
    fixtures.append(entry)
    blobs[name] = b''.join(struct.pack(f'<{t.numel()}f', *t.detach().reshape(-1).tolist()) for _, t in tensors)


def op_case(name, op, attrs, inputs, params, forward, *, training=True, buffers=None, backward=True):
    """Runs `forward(xs, p)` with autograd and stores inputs, params, dy, output and every gradient.

    `params` are trainable; `buffers` are passed in `p` too but are state the forward may update (BN).
    """
    buffers = buffers or {}
    xs = [x.clone().requires_grad_(backward) for x in inputs]
    p = {k: v.clone().requires_grad_(backward) for k, v in params.items()}
    p.update({k: v.clone() for k, v in buffers.items()})
    y = forward(xs, p)
    tensors = [(f'input.{i}', x) for i, x in enumerate(inputs)]
    tensors += [(f'param.{k}', v) for k, v in params.items()]
    tensors += [(f'param.{k}', v) for k, v in buffers.items()]
    tensors.append(('output', y))
    if backward:
        dy = randn(*y.shape)
        y.backward(dy)
        tensors.append(('dy', dy))
        tensors += [(f'grad.input.{i}', x.grad) for i, x in enumerate(xs)]
        tensors += [(f'grad.param.{k}', p[k].grad) for k in params]
    if training:
        tensors += [(f'updated.{k}', p[k]) for k in buffers]
    store(name, {'kind': 'op', 'op': op, 'attrs': attrs, 'training': training, 'inputs': len(inputs), 'backward': backward}, tensors)


# --- conv: F.conv2d -----------------------------------------------------------------------------

def conv(name, n, c, h, w, out, kernel, stride, padding, groups, bias):
    seeded(name)
    attrs = {'outChannels': out, 'kernel': kernel, 'stride': stride, 'padding': padding,
             'rounding': 'floor', 'groups': groups, 'bias': bias}
    params = {'weight': randn(out, c // groups, *kernel, scale=0.3)}
    if bias:
        params['bias'] = randn(out)
    op_case(name, 'conv', attrs, [randn(n, c, h, w)], params,
            lambda xs, p: F.conv2d(xs[0], p['weight'], p.get('bias'), stride=stride, padding=padding, groups=groups))


conv('conv_3x3_p1', 2, 3, 7, 9, 4, [3, 3], [1, 1], [1, 1], 1, True)
conv('conv_3x5_s2_p2x1_nobias', 1, 2, 8, 11, 3, [3, 5], [2, 2], [2, 1], 1, False)
conv('conv_2x3_s2x1_p0_groups2', 3, 4, 9, 6, 6, [2, 3], [2, 1], [0, 0], 2, True)
conv('conv_1x1_groups2', 2, 6, 5, 5, 4, [1, 1], [1, 1], [0, 0], 2, False)
conv('conv_5x5_s2_p2', 2, 3, 11, 13, 5, [5, 5], [2, 2], [2, 2], 1, True)
# (10 - 4 + 2)/3 + 1 is not whole: the last partial window is dropped, as torch floors.
conv('conv_4x4_s3_p1_floor', 2, 2, 10, 7, 3, [4, 4], [3, 3], [1, 1], 1, True)
# Wider, so a fast backend's vectorised and tiled paths run, with remainders (15 columns).
conv('conv_3x3_p1_8to16', 2, 8, 12, 15, 16, [3, 3], [1, 1], [1, 1], 1, True)


def dilated_conv(name, n, c, h, w, out, kernel, stride, padding, dilation, groups):
    seeded(name)
    attrs = {'outChannels': out, 'kernel': kernel, 'stride': stride, 'padding': padding,
             'rounding': 'floor', 'groups': groups, 'bias': True, 'dilation': dilation}
    params = {'weight': randn(out, c // groups, *kernel, scale=0.3), 'bias': randn(out)}
    op_case(name, 'conv', attrs, [randn(n, c, h, w)], params,
            lambda xs, p: F.conv2d(xs[0], p['weight'], p['bias'], stride=stride, padding=padding, dilation=dilation, groups=groups))


# A dilated conv runs as a dense one with zeros between the taps (src/ops/dilation.ts).
dilated_conv('conv_3x3_d2_p2', 2, 3, 9, 10, 4, [3, 3], [1, 1], [2, 2], [2, 2], 1)
dilated_conv('conv_3x2_d3x2_s2_groups2', 2, 4, 11, 9, 4, [3, 2], [2, 1], [1, 0], [3, 2], 2)


# --- max pool: F.max_pool2d ---------------------------------------------------------------------

def maxpool(name, n, c, h, w, kernel, stride, padding, ceil):
    seeded(name)
    attrs = {'kernel': kernel, 'stride': stride, 'padding': padding, 'rounding': 'ceil' if ceil else 'floor'}
    op_case(name, 'maxpool', attrs, [randn(n, c, h, w)], {},
            lambda xs, p: F.max_pool2d(xs[0], kernel, stride, padding, ceil_mode=ceil))


maxpool('maxpool_2x2_s2', 2, 3, 8, 8, [2, 2], [2, 2], [0, 0], False)
maxpool('maxpool_3x3_s2_overlap', 2, 2, 9, 11, [3, 3], [2, 2], [0, 0], False)
maxpool('maxpool_3x3_s2_p1', 1, 3, 7, 8, [3, 3], [2, 2], [1, 1], False)
maxpool('maxpool_3x3_s2_ceil', 2, 2, 8, 10, [3, 3], [2, 2], [0, 0], True)
# ceil mode with padding where a last window would start in the right padding, so torch drops it.
maxpool('maxpool_2x2_s2_p1_ceil', 2, 2, 5, 7, [2, 2], [2, 2], [1, 1], True)
maxpool('maxpool_3x2_s2x1', 2, 2, 7, 6, [3, 2], [2, 1], [0, 0], False)


# A dilated window (taps 2 apart) runs on the optional maxPool2dDilated kernel; ceil mode and padding.
op_case(seeded('maxpool_3x3_d2_s2_p1_ceil'), 'maxpool',
        {'kernel': [3, 3], 'stride': [2, 2], 'padding': [1, 1], 'rounding': 'ceil', 'dilation': [2, 2]},
        [randn(2, 2, 9, 10)], {}, lambda xs, p: F.max_pool2d(xs[0], 3, 2, 1, dilation=2, ceil_mode=True))


# --- average pool: F.avg_pool2d -----------------------------------------------------------------

def avgpool(name, n, c, h, w, kernel, stride, padding, ceil, count_include_pad):
    seeded(name)
    attrs = {'kernel': kernel, 'stride': stride, 'padding': padding, 'rounding': 'ceil' if ceil else 'floor',
             'countIncludePad': count_include_pad}
    op_case(name, 'avgpool', attrs, [randn(n, c, h, w)], {},
            lambda xs, p: F.avg_pool2d(xs[0], kernel, stride, padding, ceil_mode=ceil,
                                       count_include_pad=count_include_pad))


avgpool('avgpool_3x3_p1_includepad', 2, 2, 6, 7, [3, 3], [1, 1], [1, 1], False, True)
avgpool('avgpool_3x3_p1_excludepad', 2, 2, 6, 7, [3, 3], [1, 1], [1, 1], False, False)
# NOTE: in ceil mode a window hanging past the padded input divides by the part inside it, even
# when padding counts.
avgpool('avgpool_3x3_s2_p1_ceil_includepad', 2, 2, 8, 9, [3, 3], [2, 2], [1, 1], True, True)
avgpool('avgpool_3x3_s2_p1_ceil_excludepad', 2, 2, 8, 9, [3, 3], [2, 2], [1, 1], True, False)
avgpool('avgpool_2x2_s2_ceil', 2, 3, 7, 5, [2, 2], [2, 2], [0, 0], True, True)
avgpool('avgpool_5x3_s3x2_p2x1', 2, 2, 11, 8, [5, 3], [3, 2], [2, 1], False, True)


# --- global average pool: F.adaptive_avg_pool2d(x, 1) -------------------------------------------

op_case(seeded('globalavgpool'), 'globalavgpool', {}, [randn(2, 3, 5, 7)], {},
        lambda xs, p: F.adaptive_avg_pool2d(xs[0], 1))


# --- fully connected: F.linear on torch.flatten(x, 1) -------------------------------------------

op_case(seeded('fc_volume'), 'fc', {'outFeatures': 5, 'bias': True}, [randn(3, 2, 3, 4)],
        {'weight': randn(5, 24, scale=0.2), 'bias': randn(5)},
        lambda xs, p: F.linear(torch.flatten(xs[0], 1), p['weight'], p['bias']))
op_case(seeded('fc_vector_nobias'), 'fc', {'outFeatures': 7, 'bias': False}, [randn(4, 10)],
        {'weight': randn(7, 10, scale=0.3)},
        lambda xs, p: F.linear(xs[0], p['weight']))
op_case(seeded('fc_wide'), 'fc', {'outFeatures': 33, 'bias': True}, [randn(4, 150)],
        {'weight': randn(33, 150, scale=0.1), 'bias': randn(33)},
        lambda xs, p: F.linear(xs[0], p['weight'], p['bias']))


# --- relu: F.relu -------------------------------------------------------------------------------

op_case(seeded('relu'), 'relu', {}, [randn(2, 3, 4, 5)], {}, lambda xs, p: F.relu(xs[0]))


# --- batch norm: F.batch_norm, momentum 0.1, eps 1e-5 -------------------------------------------

def batchnorm(name, shape, training):
    seeded(name)
    c = shape[1]
    params = {'weight': 1 + randn(c, scale=0.3), 'bias': randn(c, scale=0.5)}
    buffers = {'running_mean': randn(c, scale=0.5), 'running_var': 0.5 + torch.rand(c)}
    op_case(name, 'bn', {'eps': 1e-5, 'momentum': 0.1}, [2 + randn(*shape, scale=1.5)], params,
            lambda xs, p: F.batch_norm(xs[0], p['running_mean'], p['running_var'], p['weight'], p['bias'],
                                       training=training, momentum=0.1, eps=1e-5),
            training=training, buffers=buffers, backward=training)


batchnorm('bn_train', (3, 4, 5, 6), True)
batchnorm('bn_train_vector', (6, 5), True)
# NOTE: convstack's BN has no backward after an inference forward (nothing trains in eval mode), so
# this fixture holds the forward only.
batchnorm('bn_eval', (2, 4, 3, 5), False)


# --- dropout at inference: F.dropout(training=False) is the identity ----------------------------

op_case(seeded('dropout_eval'), 'dropout', {'p': 0.5}, [randn(2, 6)], {},
        lambda xs, p: F.dropout(xs[0], 0.5, training=False), training=False)


# --- local response norm: torch.nn.LocalResponseNorm --------------------------------------------

def lrn(name, shape, size, alpha, beta, k):
    seeded(name)
    op_case(name, 'lrn', {'size': size, 'alpha': alpha, 'beta': beta, 'k': k}, [randn(*shape, scale=2.0)], {},
            lambda xs, p: torch.nn.LocalResponseNorm(size, alpha=alpha, beta=beta, k=k)(xs[0]))


lrn('lrn_alexnet', (2, 7, 3, 4), 5, 1e-4, 0.75, 2.0)
# Large alpha so the normalisation matters; an even size makes the channel window lopsided.
lrn('lrn_size4_strong', (2, 6, 3, 3), 4, 0.5, 0.75, 1.0)


# --- add, concat, flatten, softmax --------------------------------------------------------------

op_case(seeded('add'), 'add', {}, [randn(2, 3, 4, 5), randn(2, 3, 4, 5)], {}, lambda xs, p: xs[0] + xs[1])
# MUL and DIV: the product and the quotient of two values of one shape; the divisor is kept 0.5 or
# more from zero (of both signs), where the quotient and its gradients are ordinary numbers.
op_case(seeded('mul'), 'mul', {}, [randn(2, 3, 4, 5), randn(2, 3, 4, 5)], {}, lambda xs, p: xs[0] * xs[1])
op_case(seeded('div'), 'div', {}, [randn(2, 3, 4, 5), away_from_zero(randn(2, 3, 4, 5))], {}, lambda xs, p: xs[0] / xs[1])
op_case(seeded('concat'), 'concat', {}, [randn(2, 2, 3, 4), randn(2, 3, 3, 4), randn(2, 1, 3, 4)], {},
        lambda xs, p: torch.cat(xs, 1))
op_case(seeded('flatten'), 'flatten', {}, [randn(2, 3, 4, 5)], {}, lambda xs, p: torch.flatten(xs[0], 1))
op_case(seeded('softmax'), 'softmax', {}, [randn(3, 6, scale=2.0)], {}, lambda xs, p: torch.softmax(xs[0], 1))
# Over one axis of a volume: the channels of each pixel, and the last axis (the backend's kernel).
op_case(seeded('softmax_over_channels'), 'softmax', {'axis': 0}, [randn(2, 4, 3, 5, scale=2.0)], {},
        lambda xs, p: torch.softmax(xs[0], 1))
op_case(seeded('softmax_over_columns'), 'softmax', {'axis': 2}, [randn(2, 3, 4, 5, scale=2.0)], {},
        lambda xs, p: torch.softmax(xs[0], 3))



# --- the ONNX importer's ops: pad (F.pad), affine (a fixed per-channel x * scale + shift), leaky relu

op_case(seeded('pad_asymmetric'), 'pad', {'top': 0, 'left': 1, 'bottom': 2, 'right': 1, 'value': 0, 'forMax': False},
        [randn(2, 3, 3, 4)], {}, lambda xs, p: F.pad(xs[0], (1, 1, 0, 2)))
op_case(seeded('affine'), 'affine', {}, [randn(2, 3, 4, 5)], {}, lambda xs, p: xs[0] * p['scale'] + p['shift'],
        buffers={'scale': randn(3, 1, 1), 'shift': randn(3, 1, 1)})
op_case(seeded('leakyrelu'), 'leakyrelu', {'alpha': 0.1}, [randn(2, 3, 4, 5)], {}, lambda xs, p: F.leaky_relu(xs[0], 0.1))
# AFFINE with its values written in the notation: torchvision GoogLeNet's _transform_input, as it computes it.
op_case(seeded('affine_written'), 'affine', {'scale': [0.458, 0.448, 0.45], 'shift': [-0.03, -0.088, -0.188]}, [randn(2, 3, 4, 5)], {},
        lambda xs, p: torch.cat([torch.unsqueeze(xs[0][:, 0], 1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5,
                                 torch.unsqueeze(xs[0][:, 1], 1) * (0.224 / 0.5) + (0.456 - 0.5) / 0.5,
                                 torch.unsqueeze(xs[0][:, 2], 1) * (0.225 / 0.5) + (0.406 - 0.5) / 0.5], 1))


# --- adaptive average pooling: F.adaptive_avg_pool2d ----------------------------------------------

def adaptive(name, shape, output):
    op_case(seeded(name), 'adaptiveavgpool', {'output': output}, [randn(*shape)], {},
            lambda xs, p: F.adaptive_avg_pool2d(xs[0], output))


# torchvision GoogLeNet's auxiliary heads: 14x14 to 4x4, windows at 0, 3, 7, 10, 4 or 5 wide.
adaptive('adaptivepool_14_to_4', (2, 3, 14, 14), [4, 4])
# Overlapping windows (5 to 4), and a grid larger than the input along one axis (3 to 4).
adaptive('adaptivepool_5x3_to_4x4', (2, 2, 5, 3), [4, 4])
adaptive('adaptivepool_7x9_to_3x2', (1, 2, 7, 9), [3, 2])


# --- losses: F.cross_entropy and F.multi_margin_loss, mean over the batch ------------------------

def loss_case(name, loss, scores, labels, forward):
    s = scores.clone().requires_grad_(True)
    value = forward(s, labels)
    value.backward()
    store(name, {'kind': 'loss', 'loss': loss, 'labels': labels.tolist()},
          [('input.0', scores), ('output', value), ('grad.input.0', s.grad)])


def cross_entropy(name, n, k, scale):
    seeded(name)
    loss_case(name, 'softmax_cross_entropy', randn(n, k, scale=scale), torch.randint(0, k, (n,)),
              lambda s, labels: F.cross_entropy(s, labels))


def svm(name, n, k, scale):
    seeded(name)
    loss_case(name, 'svm_loss', randn(n, k, scale=scale), torch.randint(0, k, (n,)),
              lambda s, labels: F.multi_margin_loss(s, labels, p=1, margin=1.0))


cross_entropy('cross_entropy', 4, 5, 1.0)
# Scores in the hundreds: a softmax without the max subtracted would overflow float32.
cross_entropy('cross_entropy_large_scores', 3, 7, 300.0)
svm('svm_loss', 5, 4, 1.0)
svm('svm_loss_wide', 3, 10, 0.5)


# --- a whole net: conv-bn-relu-pool-fc, one cross-entropy training step --------------------------

class SmallNet(torch.nn.Module):
    """The same net as the NetSpec in test/ops/torch.test.ts; module names are its node names."""

    def __init__(self):
        super().__init__()
        # NOTE: no bias before BN: BN subtracts the batch mean, so that bias's gradient is zero up to
        # rounding noise, which no relative tolerance can compare.
        self.conv1 = torch.nn.Conv2d(3, 6, 3, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(6)
        self.conv2 = torch.nn.Conv2d(6, 8, (3, 2), stride=2, padding=(1, 0))
        self.fc = torch.nn.Linear(8 * 3 * 2, 5)

    def forward(self, x):  # x is (4, 3, 10, 8)
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2, 2)  # (4, 6, 5, 4)
        x = F.relu(self.conv2(x))  # (4, 8, 3, 2)
        return self.fc(torch.flatten(x, 1))  # (4, 5)


def small_net():
    name = seeded('net_conv_bn_relu_pool_fc')
    net = SmallNet()
    with torch.no_grad():
        net.bn1.weight.copy_(1 + randn(6, scale=0.2))
        net.bn1.bias.copy_(randn(6, scale=0.2))
        net.bn1.running_mean.copy_(randn(6, scale=0.2))
        net.bn1.running_var.copy_(0.5 + torch.rand(6))
    net.train()
    state = {k: v.clone() for k, v in net.state_dict().items() if not k.endswith('num_batches_tracked')}
    x = randn(4, 3, 10, 8)
    labels = torch.randint(0, 5, (4,))
    logits = net(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    tensors = [('input.0', x)] + [(f'param.{k}', v) for k, v in state.items()]
    tensors += [('output', logits), ('loss', loss)]
    tensors += [(f'grad.param.{k}', p.grad) for k, p in net.named_parameters()]
    tensors += [(f'updated.{k}', v) for k, v in net.state_dict().items() if k.startswith('bn1.running')]
    store(name, {'kind': 'net', 'labels': labels.tolist()}, tensors)


small_net()


def write():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith('.bin'):
            os.remove(os.path.join(OUT, f))
    for name, blob in blobs.items():
        with open(os.path.join(OUT, f'{name}.bin'), 'wb') as f:
            f.write(blob)
    with open(os.path.join(OUT, 'manifest.json'), 'w') as f:
        # One fixture a line, so that a diff of regenerated fixtures reads case by case.
        f.write(f'{{"generator": "tools/make_fixtures.py", "torch": "{torch.__version__}", "fixtures": [\n')
        f.write(',\n'.join(json.dumps(entry) for entry in fixtures))
        f.write('\n]}\n')
    size = sum(len(b) for b in blobs.values())
    print(f'wrote {len(fixtures)} fixtures, {size} bytes of tensors, to {os.path.relpath(OUT)}')


write()
