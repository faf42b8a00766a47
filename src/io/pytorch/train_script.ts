import { classifierLayers } from '../../net/init.js';
import { TRAIN_DEFAULTS } from '../../train/defaults.js';
import { modelMetadata } from '../../train/model_file.js';
import type { PytorchSource } from './module.js';
import { TRAIN_TEMPLATE } from './train_template.js';

/**
 * The training script `convstack export --train-script train_ddp.py` writes beside the module: it
 * trains the exported net under `torchrun` with DistributedDataParallel, with `convstack train`'s
 * data, optimizer, schedule, augmentation, normalisation and initialisation, and writes a convstack
 * model file (safetensors by convstack's names; the notation, classes and normalisation in the
 * metadata) that `convstack eval`, `run`, `predict` and `finetune` take as it is. Its body is
 * TRAIN_TEMPLATE; this file writes what is the net's own above it.
 */

/** convstack train's default number of epochs (the `npm start` job's). */
const TRAIN_EPOCHS = 20;

/** What the script needs besides the net: where the module lies, relative to the script. */
export interface TrainScriptOptions {
  /** The module file (`--pytorch`), as a path relative to the script's folder. */
  netFile: string;
}

/** The Python source of the training script for `source`'s net. */
export function exportTrainScript(source: PytorchSource, options: TrainScriptOptions): string {
  const described = modelMetadata({ spec: source.spec, ...(source.architecture !== undefined && { architecture: source.architecture }), ...(source.compileOptions !== undefined && { compileOptions: source.compileOptions }), classes: [], normalization: { mean: [], std: [] } });
  const { classes: _classes, normalization: _normalization, ...metadata } = described;
  const defaults = {
    epochs: TRAIN_EPOCHS,
    batch: TRAIN_DEFAULTS.batchSize,
    optimizer: TRAIN_DEFAULTS.optimizer,
    lr: TRAIN_DEFAULTS.lr,
    schedule: TRAIN_DEFAULTS.schedule,
    shift: TRAIN_DEFAULTS.augmentation.shift ?? 0,
    loss: TRAIN_DEFAULTS.loss,
    seed: TRAIN_DEFAULTS.seed,
    init: 'he',
  };
  return [
    '#!/usr/bin/env python3',
    `"""Trains the convstack net of ${options.netFile} under torchrun, as \`convstack train\` would, and writes a convstack model file.`,
    '',
    'Written by convstack (`convstack export --pytorch --train-script`); PyTorch 1.13 or newer, with Pillow and NumPy.',
    'One process per GPU (NCCL, chosen when CUDA is available) or per CPU slot (gloo):',
    '',
    '    torchrun --nproc_per_node 2 train_ddp.py --data folder:images --epochs 10 --out model.safetensors',
    '',
    'On several machines, the same command on each with --nnodes N --node_rank R and --rdzv_backend c10d',
    '--rdzv_endpoint HOST:29500 --rdzv_id JOB (docs/scale.md). --data is an image folder as convstack train',
    'reads it: one sub-folder per class, or train/ and test/ (or val/) each laid out so; a flat folder holds',
    'out 20% of each class (holdout=F), the same images convstack holds out. --batch counts the images of a',
    'step over all processes. The defaults are convstack train\'s: Nesterov momentum 0.9 at lr 0.05 on a',
    'cosine schedule, batch 64, shifts of up to 2 pixels, softmax cross-entropy, He initialisation, the',
    "normalisation measured on the training images (a --weights model file's own when it has one).",
    'Rank 0 writes a checkpoint after each epoch (--resume goes on from it) and, at the end, --out: the',
    "weights under convstack's names, the notation, classes and normalisation in the metadata, which",
    'convstack eval, run, predict and finetune take as it is.',
    '"""',
    'import argparse',
    'import hashlib',
    'import importlib.util',
    'import json',
    'import math',
    'import os',
    'import struct',
    'import sys',
    'import time',
    '',
    'import numpy as np',
    'import torch',
    'import torch.distributed as dist',
    'from PIL import Image, ImageOps',
    'from torch import nn',
    'from torch.nn import functional as F',
    'from torch.nn.parallel import DistributedDataParallel',
    'from torch.utils.data import DataLoader, Dataset',
    'from torch.utils.data.distributed import DistributedSampler',
    '',
    `NET_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), ${JSON.stringify(options.netFile)})`,
    "_spec = importlib.util.spec_from_file_location('net', NET_FILE)",
    'net_module = importlib.util.module_from_spec(_spec)',
    '_spec.loader.exec_module(net_module)',
    '',
    "#: What the model file says of the net, under convstack's metadata keys (src/train/model_file.ts).",
    'MODEL_METADATA = {',
    ...Object.entries(metadata).map(([key, value]) => `    ${JSON.stringify(key)}: ${JSON.stringify(value)},`),
    '}',
    "#: The layers that compute scores (the output's and each auxiliary head's), which He initialisation starts small.",
    `CLASSIFIERS = {${[...classifierLayers(source.spec)].map((name) => JSON.stringify(name)).join(', ')}}`,
    "#: convstack train's defaults.",
    `DEFAULTS = {${Object.entries(defaults).map(([key, value]) => `${JSON.stringify(key)}: ${JSON.stringify(value)}`).join(', ')}}`,
    '',
    TRAIN_TEMPLATE.trimStart(),
  ].join('\n');
}
