#!/usr/bin/python3
"""The state_dict names and shapes of exported modules and of the torchvision models they stand for.

    /usr/bin/python3 tools/torchvision_names.py cases.json

cases.json is a list of {"net_py": path, "torchvision": "resnet18" or "googlenet(aux_logits=True)"};
prints a JSON object of {"exported": {name: shape}, "torchvision": {name: shape}} per case, in order.
BN's num_batches_tracked, which convstack has no use for, is left out. Run with Debian's
/usr/bin/python3 (python3-torch and python3-torchvision).
"""
import importlib.util
import json
import sys

import torch
import torchvision

# NOTE: only names and shapes are compared: the initialisers are made no-ops so that VGG's 138M weights
# are allocated, not drawn.
for _name in ('kaiming_normal_', 'kaiming_uniform_', 'normal_', 'uniform_', 'constant_', 'trunc_normal_', 'xavier_uniform_'):
    setattr(torch.nn.init, _name, lambda tensor, *args, **kwargs: tensor)


def shapes(module):
    return {k: list(v.shape) for k, v in module.state_dict().items() if not k.endswith('num_batches_tracked')}


def exported(path):
    spec = importlib.util.spec_from_file_location('exported_net', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Net()


def torchvision_model(call):
    name, _, args = call.partition('(')
    kwargs = eval(f'dict({args.rstrip(")")})') if args else {}
    if name == 'googlenet':
        kwargs.setdefault('aux_logits', False)
        kwargs['init_weights'] = False
    return getattr(torchvision.models, name)(**kwargs)


def main(cases_file):
    with open(cases_file) as f:
        cases = json.load(f)
    print(json.dumps([{'exported': shapes(exported(c['net_py'])), 'torchvision': shapes(torchvision_model(c['torchvision']))} for c in cases]))


if __name__ == '__main__':
    main(*sys.argv[1:])
