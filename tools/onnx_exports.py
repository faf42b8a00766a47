#!/usr/bin/python3
"""ONNX exports of torchvision's nets for the importer's tests (run with Debian's /usr/bin/python3).

Writes, for each net and each opset (13 and 9), <name>_opset<k>.onnx with random weights and
non-default batch-norm statistics, plus <name>.input.npy and <name>.output.npy (PyTorch's output).
Batch norm is kept as BatchNormalization nodes (training=PRESERVE, no constant folding), so the
importer's BN is what is tested, not PyTorch's folding of it into the convs.

  tools/onnx_exports.py small test/fixtures/onnx   # reduced-width nets built from torchvision's own
                                                   # blocks, small enough to commit (the test uses them)
  tools/onnx_exports.py full <dir> [names]         # torchvision's AlexNet, VGG-16, GoogLeNet
                                                   # (transform_input=True), ResNet-18, ResNet-50 at full
                                                   # size (or only the names given, comma-separated:
                                                   # resnet50,vgg16); test/io/onnx/exports.full.test.ts
                                                   # reads <dir> from CONVSTACK_ONNX_EXPORTS when set
"""
import copy
import os
import sys

import numpy as np
import torch
import torchvision
from torch import nn
from torchvision.models.googlenet import BasicConv2d, Inception
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet

OPSETS = (13, 9)


def randomise(net, seed):
    """Random weights and running statistics far from the defaults (mean 0, var 1)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                m.momentum = 0.2
    net.eval()
    return net


def he_weights(net, seed):
    """He-scaled random conv and linear weights (std sqrt(2 / fan_in)). NOTE: with torchvision's
    GoogLeNet init (truncated normal, std 0.01) the signal dies out layer by layer: its scores are its
    last biases whatever the image (they differ by 2e-8 between two images), which would check nothing."""
    g = torch.Generator().manual_seed(1000 + seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2 / m.weight[0].numel()) ** 0.5)
    return net


class TinyResNet(ResNet):
    """torchvision's ResNet with its stem and stages at a width of 8 (its blocks, its wiring)."""

    def __init__(self, block, layers):
        super().__init__(block, layers, num_classes=10)
        self.inplanes = 8
        self.conv1 = nn.Conv2d(3, 8, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = self._make_layer(block, 8, layers[0])
        self.layer2 = self._make_layer(block, 16, layers[1], stride=2)
        self.layer3 = self._make_layer(block, 16, layers[2], stride=2)
        self.layer4 = self._make_layer(block, 16, layers[3], stride=2)
        self.fc = nn.Linear(16 * block.expansion, 10)


class TinyGoogLeNet(nn.Module):
    """GoogLeNet's stem, transform_input and two inception modules (torchvision's), at reduced width."""

    def __init__(self):
        super().__init__()
        self.conv1 = BasicConv2d(3, 8, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = Inception(8, 4, 4, 8, 2, 4, 4)
        self.inception3b = Inception(20, 8, 4, 8, 2, 4, 4)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(24, 10)

    def forward(self, x):
        # torchvision's GoogLeNet._transform_input, as it is for its pretrained weights.
        x_ch0 = torch.unsqueeze(x[:, 0], 1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5
        x_ch1 = torch.unsqueeze(x[:, 1], 1) * (0.224 / 0.5) + (0.456 - 0.5) / 0.5
        x_ch2 = torch.unsqueeze(x[:, 2], 1) * (0.225 / 0.5) + (0.406 - 0.5) / 0.5
        x = torch.cat((x_ch0, x_ch1, x_ch2), 1)
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        return self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))


class TinyAlexNet(nn.Module):
    """torchvision's AlexNet layer sequence (no LRN, as torchvision has none) at reduced width."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2),
            nn.Conv2d(8, 16, kernel_size=5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2),
            nn.Conv2d(16, 16, kernel_size=3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(3, stride=2),
        )
        self.classifier = nn.Sequential(nn.Dropout(), nn.Linear(16, 32), nn.ReLU(inplace=True), nn.Linear(32, 10), nn.Softmax(dim=1))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def small_nets():
    return {
        'tiny_resnet_basic': (TinyResNet(BasicBlock, [2, 1, 1, 1]), 64),
        'tiny_resnet_bottleneck': (TinyResNet(Bottleneck, [1, 1, 1, 1]), 64),
        'tiny_googlenet': (TinyGoogLeNet(), 64),
        'tiny_alexnet': (TinyAlexNet(), 63),
    }


def full_nets():
    m = torchvision.models
    return {
        'alexnet': (m.alexnet(), 224),
        'vgg16': (m.vgg16(), 224),
        'googlenet': (he_weights(m.googlenet(aux_logits=False, transform_input=True, init_weights=True), 0), 224),
        'resnet18': (m.resnet18(), 224),
        'resnet50': (m.resnet50(), 224),
    }


def export(nets, out):
    os.makedirs(out, exist_ok=True)
    for seed, (name, (net, size)) in enumerate(sorted(nets.items())):
        torch.manual_seed(seed)
        randomise(net, seed)
        x = torch.rand(2, 3, size, size, generator=torch.Generator().manual_seed(100 + seed))
        with torch.no_grad():
            y = net(x)
            # The same net in float64: the truth that both PyTorch's float32 output and convstack's
            # are measured against (VGG-16's float32 sums differ from it by more than 1e-4 relative
            # at values near 1% of the largest).
            exact = copy.deepcopy(net).double()(x.double())
        np.save(os.path.join(out, f'{name}.input.npy'), x.numpy())
        np.save(os.path.join(out, f'{name}.output.npy'), y.numpy())
        np.save(os.path.join(out, f'{name}.output64.npy'), exact.numpy())
        for opset in OPSETS:
            torch.onnx.export(net, x, os.path.join(out, f'{name}_opset{opset}.onnx'), opset_version=opset,
                              training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
                              input_names=['images'], output_names=['scores'])
        print(name, tuple(y.shape))


if __name__ == '__main__':
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ('small', 'full'):
        sys.exit(__doc__)
    nets = small_nets() if sys.argv[1] == 'small' else full_nets()
    if len(sys.argv) == 4:
        unknown = set(sys.argv[3].split(',')) - set(nets)
        if unknown:
            sys.exit(f'unknown nets {sorted(unknown)}; the {sys.argv[1]} nets are {sorted(nets)}')
        nets = {name: nets[name] for name in sys.argv[3].split(',')}
    export(nets, sys.argv[2])
