#!/usr/bin/python3
"""torchvision's GoogLeNet as its ImageNet weights build it, saved the way PyTorch saves weights (run with
Debian's /usr/bin/python3), for test/io/pth/torchvision.full.test.ts.

  tools/torchvision_weights.py <dir>

Writes <dir>/googlenet.pth: the state_dict (torch.save's zip) of googlenet(transform_input=True,
aux_logits=True) with random weights and batch-norm statistics far from the defaults, and
googlenet.input.npy (two 224x224 images) with PyTorch's outputs in eval mode (and googlenet.notransform.npy,
the scores without transform_input, which must differ): googlenet.output.npy (the
scores) and googlenet.aux1.npy, googlenet.aux2.npy (each auxiliary head on the inception output it
reads, which torchvision computes only in training mode), each also in float64 (googlenet.output64.npy,
googlenet.aux164.npy, googlenet.aux264.npy). The zoo's `googlenet_imagenet` with AUX=1 must
give all three. The file is 52 MB: too large to commit.
"""
import copy
import os
import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_exports import he_weights, randomise  # noqa: E402


def main(out):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    # He-scaled weights: with torchvision's own init the scores do not depend on the image (see he_weights).
    net = randomise(he_weights(torchvision.models.googlenet(aux_logits=True, transform_input=True, init_weights=True), 0), 0)
    seen = {}
    net.inception4a.register_forward_hook(lambda m, i, o: seen.__setitem__('aux1', o))
    net.inception4d.register_forward_hook(lambda m, i, o: seen.__setitem__('aux2', o))
    x = torch.rand(2, 3, 224, 224, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        y = net(x)
        aux = {name: getattr(net, name)(seen[name]) for name in ('aux1', 'aux2')}
        net.transform_input = False
        plain = net(x)
        net.transform_input = True
        # The same in float64, the truth both PyTorch's float32 scores and convstack's are measured against.
        exact = copy.deepcopy(net).double()
        exact.inception4a.register_forward_hook(lambda m, i, o: seen.__setitem__('aux1', o))
        exact.inception4d.register_forward_hook(lambda m, i, o: seen.__setitem__('aux2', o))
        y64 = exact(x.double())
        aux64 = {name: getattr(exact, name)(seen[name]) for name in ('aux1', 'aux2')}
    torch.save(net.state_dict(), os.path.join(out, 'googlenet.pth'))
    np.save(os.path.join(out, 'googlenet.input.npy'), x.numpy())
    np.save(os.path.join(out, 'googlenet.output.npy'), y.numpy())
    np.save(os.path.join(out, 'googlenet.notransform.npy'), plain.numpy())
    np.save(os.path.join(out, 'googlenet.output64.npy'), y64.numpy())
    for name, value in aux.items():
        np.save(os.path.join(out, f'googlenet.{name}.npy'), value.numpy())
        np.save(os.path.join(out, f'googlenet.{name}64.npy'), aux64[name].numpy())
    print('googlenet', tuple(y.shape), {k: tuple(v.shape) for k, v in aux.items()})


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
