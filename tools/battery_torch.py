"""The init battery of tools/battery.ts, in PyTorch: the same nets, digits, split, optimizer, schedule,
batch, augmentation and epochs, for the comparison table in docs/training.md.

    node --import tsx tools/battery.ts --export /tmp/battery     # the nets, the two splits, the settings
    /usr/bin/python3 tools/battery_torch.py /tmp/battery [--init pytorch|he|convstack] [--seeds 0,1,2] [--nets 1,5]

--init pytorch (the default) leaves PyTorch 1.13's own initialisation; `he` puts He-normal on every
CONV and FC with zero biases (convstack's old default, the classifier included); `convstack` is
convstack's default (He-normal by fan-out on hidden CONV layers and by fan-in on hidden FC layers,
N(0, 0.1^2/fanIn) on the classifier, zero biases).
Prints one JSON line per run, as tools/battery.ts does.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
from torch import nn

CLASSIFIER_GAIN = 0.1  # src/net/init.ts


def load(directory):
    with open(os.path.join(directory, "battery.json")) as f:
        battery = json.load(f)
    splits = {}
    for name in ("train", "test"):
        x = torch.from_numpy(np.load(os.path.join(directory, f"{name}_x.npy")))
        y = torch.from_numpy(np.load(os.path.join(directory, f"{name}_y.npy"))).long()
        splits[name] = (x, y)
    return battery, splits


def layer(node, channels):
    """One spec node as a torch module, and the channel (or feature) count it outputs."""
    op, a = node["op"], node["attrs"]
    if op == "conv":
        assert a["rounding"] == "exact"
        conv = nn.Conv2d(channels, a["outChannels"], a["kernel"], a["stride"], a["padding"], groups=a["groups"], bias=a["bias"])
        return conv, a["outChannels"]
    if op == "maxpool":
        return nn.MaxPool2d(a["kernel"], a["stride"], a["padding"]), channels
    if op == "globalavgpool":
        return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten()), channels
    if op == "fc":
        return nn.Sequential(nn.Flatten(), nn.LazyLinear(a["outFeatures"], bias=a["bias"])), a["outFeatures"]
    if op == "relu":
        return nn.ReLU(), channels
    if op == "bn":
        return nn.BatchNorm2d(channels, eps=a["eps"], momentum=a["momentum"]), channels
    if op == "flatten":
        return nn.Flatten(), channels
    if op == "dropout":
        return nn.Dropout(a["p"]), channels
    raise ValueError(f"no torch layer for {op}")


def build(spec):
    """The spec's chain of layers as nn.Sequential; each node must read the one before it."""
    layers, previous, channels = [], "input", spec["input"][0]
    for node in spec["nodes"]:
        assert node["inputs"] == [previous], "the battery's nets are chains"
        module, channels = layer(node, channels)
        layers.append(module)
        previous = node["name"]
    net = nn.Sequential(*layers)
    net(torch.zeros(1, *spec["input"]))  # materialises LazyLinear's weights
    return net


def weighted(net):
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def initialise(net, scheme):
    """Re-initialises the CONV and FC layers as `scheme` says; `pytorch` keeps torch's defaults."""
    if scheme == "pytorch":
        return
    layers = weighted(net)
    for m in layers:
        fan_in = m.weight[0].numel()
        if scheme == "he":
            std = math.sqrt(2 / fan_in)
        elif m is layers[-1]:
            std = CLASSIFIER_GAIN / math.sqrt(fan_in)
        else:
            fan_out = m.weight.shape[0] * m.weight[0][0].numel() if isinstance(m, nn.Conv2d) else fan_in
            std = math.sqrt(2 / fan_out)
        nn.init.normal_(m.weight, 0, std)
        if m.bias is not None:
            nn.init.zeros_(m.bias)


def shift(x, pixels, generator):
    """torchvision's RandomCrop(28, padding=pixels) with zero fill, before normalisation: a random shift."""
    n, _, h, w = x.shape
    padded = nn.functional.pad(x, (pixels,) * 4)
    offsets = torch.randint(0, 2 * pixels + 1, (n, 2), generator=generator)
    return torch.stack([padded[i, :, dy : dy + h, dx : dx + w] for i, (dy, dx) in enumerate(offsets.tolist())])


def run(spec, splits, battery, seed, scheme):
    torch.manual_seed(seed)
    net = build(spec)
    initialise(net, scheme)
    s = battery["settings"]
    epochs = battery["epochs"]
    mean = torch.tensor(battery["normalization"]["mean"]).view(1, -1, 1, 1)
    std = torch.tensor(battery["normalization"]["std"]).view(1, -1, 1, 1)
    optimizer = torch.optim.SGD(net.parameters(), lr=s["lr"], momentum=0.9, nesterov=s["optimizer"] == "nesterov")
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    generator = torch.Generator().manual_seed(seed)
    x_train, y_train = splits["train"]
    x_test, y_test = splits["test"]
    batch, pixels = s["batchSize"], s["augmentation"]["shift"]
    initial_loss = None
    started = time.perf_counter()
    for _ in range(epochs):
        net.train()
        order = torch.randperm(len(y_train), generator=generator)
        for start in range(0, len(order), batch):
            picked = order[start : start + batch]
            x = (shift(x_train[picked], pixels, generator) - mean) / std
            loss = nn.functional.cross_entropy(net(x), y_train[picked])
            if initial_loss is None:
                initial_loss = loss.item()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        schedule.step()
    net.eval()
    with torch.no_grad():
        scores = torch.cat([net((x_test[i : i + 256] - mean) / std) for i in range(0, len(y_test), 256)])
    accuracy = (scores.argmax(1) == y_test).float().mean().item()
    return {"initialLoss": initial_loss, "accuracy": accuracy, "seconds": time.perf_counter() - started}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", help="what `tools/battery.ts --export <dir>` wrote")
    parser.add_argument("--init", default="pytorch", choices=["pytorch", "he", "convstack"])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--nets", help="1-based indices, e.g. 1,5 (default: all)")
    args = parser.parse_args()
    battery, splits = load(args.directory)
    picked = [int(n) - 1 for n in args.nets.split(",")] if args.nets else range(len(battery["nets"]))
    for i in picked:
        net = battery["nets"][i]
        for seed in (int(s) for s in args.seeds.split(",")):
            result = run(net["spec"], splits, battery, seed, args.init)
            print(json.dumps({"index": i + 1, "net": net["text"], "seed": seed, "init": args.init, "torch": torch.__version__, **result}), flush=True)


if __name__ == "__main__":
    main()
