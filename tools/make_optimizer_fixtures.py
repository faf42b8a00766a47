#!/usr/bin/python3
"""Writes test/fixtures/optim/*.json: a few steps of each torch.optim optimizer and LR scheduler on
fixed parameters and gradients, so test/train/optimizers.test.ts checks convstack's update rules
against PyTorch's (written against torch 1.13; run with Debian's /usr/bin/python3 and python3-torch).

Usage: /usr/bin/python3 tools/make_optimizer_fixtures.py
"""
import json
import os

import torch

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'optim')
STEPS = 5
SHAPES = {'conv.weight': [2, 1, 2, 2], 'conv.bias': [2], 'fc.weight': [3, 4]}

# (case name, convstack optimizer name, convstack options, torch constructor)
CASES = [
    ('sgd', 'sgd', {'lr': 0.1}, lambda p: torch.optim.SGD(p, lr=0.1)),
    ('sgd_weight_decay', 'sgd', {'lr': 0.1, 'weightDecay': 0.01},
     lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.01)),
    ('momentum', 'momentum', {'lr': 0.1, 'momentum': 0.9},
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    ('momentum_dampening', 'momentum', {'lr': 0.05, 'momentum': 0.8, 'dampening': 0.1, 'weightDecay': 0.01},
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.1, weight_decay=0.01)),
    ('nesterov', 'nesterov', {'lr': 0.1, 'momentum': 0.9, 'weightDecay': 0.001},
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.001)),
    ('adagrad', 'adagrad', {'lr': 0.1}, lambda p: torch.optim.Adagrad(p, lr=0.1)),
    ('adagrad_decay', 'adagrad', {'lr': 0.1, 'lrDecay': 0.05, 'weightDecay': 0.01, 'initialAccumulatorValue': 0.1},
     lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.05, weight_decay=0.01, initial_accumulator_value=0.1)),
    ('rmsprop', 'rmsprop', {'lr': 0.01}, lambda p: torch.optim.RMSprop(p, lr=0.01)),
    ('rmsprop_momentum', 'rmsprop', {'lr': 0.01, 'alpha': 0.9, 'momentum': 0.9, 'weightDecay': 0.01},
     lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, momentum=0.9, weight_decay=0.01)),
    ('adam', 'adam', {'lr': 0.01}, lambda p: torch.optim.Adam(p, lr=0.01)),
    ('adam_weight_decay', 'adam', {'lr': 0.01, 'betas': [0.8, 0.99], 'eps': 1e-6, 'weightDecay': 0.1},
     lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ('adamw', 'adamw', {'lr': 0.01, 'weightDecay': 0.1},
     lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1)),
]

# (case name, convstack schedule, base lr, epochs, torch constructor)
SCHEDULES = [
    ('step', {'kind': 'step', 'stepSize': 3, 'gamma': 0.1}, 0.1, 10,
     lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.1)),
    ('cosine', {'kind': 'cosine', 'tMax': 10, 'etaMin': 0.001}, 0.1, 13,
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001)),
]


def values(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def optimizer_case(name, optimizer, options, make):
    gen = torch.Generator().manual_seed(1234)
    params = {k: torch.randn(s, generator=gen, dtype=torch.float32).requires_grad_() for k, s in SHAPES.items()}
    case = {
        'name': name,
        'optimizer': optimizer,
        'options': options,
        'params': {k: {'shape': SHAPES[k], 'values': values(p)} for k, p in params.items()},
        'steps': [],
    }
    opt = make(list(params.values()))
    for _ in range(STEPS):
        grads = {k: torch.randn(s, generator=gen, dtype=torch.float32) for k, s in SHAPES.items()}
        for k, p in params.items():
            p.grad = grads[k].clone()
        opt.step()
        case['steps'].append({
            'grads': {k: values(g) for k, g in grads.items()},
            'expected': {k: values(p) for k, p in params.items()},
        })
    return case


def schedule_case(name, schedule, base_lr, epochs, make):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
    sched = make(opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]['lr'])
        opt.step()
        sched.step()
    return {'name': name, 'schedule': schedule, 'baseLr': base_lr, 'lrs': lrs}


def main():
    os.makedirs(OUT, exist_ok=True)
    optimizers = {'torch': torch.__version__, 'cases': [optimizer_case(*c) for c in CASES]}
    schedules = {'torch': torch.__version__, 'cases': [schedule_case(*c) for c in SCHEDULES]}
    with open(os.path.join(OUT, 'optimizers.json'), 'w') as f:
        json.dump(optimizers, f, indent=1)
    with open(os.path.join(OUT, 'schedules.json'), 'w') as f:
        json.dump(schedules, f, indent=1)


if __name__ == '__main__':
    main()
