import type { ZooNet } from './types.js';

/** VGG (Simonyan & Zisserman, "Very Deep Convolutional Networks", ICLR 2015), Table 1. */
export const VGG = `
# VGG, Simonyan & Zisserman 2015, Table 1. Every conv is "conv3" (3x3, stride 1, pad 1), every pool
# 2x2 max with stride 2. The configurations differ in the convs per stage, N1..N5:
#   A (VGG-11): 1 1 2 2 2   B (VGG-13): 2 2 2 2 2   D (VGG-16): 2 2 3 3 3   E (VGG-19): 2 2 4 4 4
# BN=1 adds batch normalisation after every conv (torchvision's vgg*_bn).
# torchvision numbers the layers of 'features' and 'classifier' one by one, RELU and POOL included,
# which is what a labelled group does, so the weights come out as features.0, ..., classifier.6.
# Its AdaptiveAvgPool2d((7, 7)) is the identity at 224x224 input and is left out.
let BN = 0
let CLASSES = 1000 # the class count (torchvision's num_classes): --classes N or --set CLASSES=N
INPUT[224x224x3]
-> features: [
     [CONV3-64 -> BN? -> RELU]*N1 -> POOL2
  -> [CONV3-128 -> BN? -> RELU]*N2 -> POOL2
  -> [CONV3-256 -> BN? -> RELU]*N3 -> POOL2
  -> [CONV3-512 -> BN? -> RELU]*N4 -> POOL2
  -> [CONV3-512 -> BN? -> RELU]*N5 -> POOL2
]
-> classifier: [FC-4096 -> RELU -> DROPOUT(0.5) -> FC-4096 -> RELU -> DROPOUT(0.5) -> FC-CLASSES]
`;

const CONFIGS = {
  vgg11: { label: 'A', layers: 11, counts: [1, 1, 2, 2, 2] },
  vgg13: { label: 'B', layers: 13, counts: [2, 2, 2, 2, 2] },
  vgg16: { label: 'D', layers: 16, counts: [2, 2, 3, 3, 3] },
  vgg19: { label: 'E', layers: 19, counts: [2, 2, 4, 4, 4] },
} as const;

/** The zoo's VGG-11, 13, 16 and 19, each without and with batch normalisation. */
export const vggNets: ZooNet[] = Object.entries(CONFIGS).flatMap(([name, { label, layers, counts }]) => {
  const stages = Object.fromEntries(counts.map((n, i) => [`N${i + 1}`, n]));
  return [
    { name, title: `VGG-${layers} (configuration ${label})`, source: VGG, bindings: stages, torchvision: name },
    { name: `${name}_bn`, title: `VGG-${layers} with batch normalisation`, source: VGG, bindings: { ...stages, BN: 1 }, torchvision: `${name}_bn` },
  ];
});
