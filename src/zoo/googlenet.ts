import type { ZooNet } from './types.js';

/** GoogLeNet (Szegedy et al., "Going Deeper with Convolutions", CVPR 2015), Table 1, as torchvision builds it. */
export const GOOGLENET = `
# GoogLeNet (Inception v1), Szegedy et al. 2015, Table 1, as torchvision's googlenet builds it.
# NOTE: where the paper differs from torchvision, we follow torchvision so that its weights load:
#  - every conv is a BasicConv2d: CONV without bias, BN(eps=0.001), RELU; the paper has no BN;
#  - the "5x5" branch uses a 3x3 conv (a known quirk kept for the pretrained weights);
#  - max pools round up (ceil_mode=True) and there is no LRN;
#  - the final pool is global (the paper's 7x7 average pool at 224x224);
#  - the auxiliary heads pool adaptively to 4x4 (below).
def conv(C, F, S) = conv: CONV-C(k=F, s=S, bias=no, floor) -> bn: BN(eps=0.001) -> RELU

# An inception module (Fig. 2b); arguments in Table 1's column order: #1x1, #3x3 reduce, #3x3,
# #5x5 reduce, #5x5, pool proj. The four branches are concatenated along channels.
def inception(A, B1, B2, C1, C2, D) = CONCAT[
    branch1: conv(A, 1, 1)
  | branch2: [conv(B1, 1, 1) -> conv(B2, 3, 1)]
  | branch3: [conv(C1, 1, 1) -> conv(C2, 3, 1)]
  | branch4: [POOL3(s=1, p=1, ceil) -> conv(D, 1, 1)]
]

# An auxiliary classifier (Section 5): a pool to 4x4, a 1x1 conv with 128 filters, FC-1024, dropout
# 0.7, and the class scores. torchvision's (aux, AUX=1) pools adaptively, ADAPTIVEPOOL-4: on the 14x14
# maps of a 224x224 input its windows start at 0, 3, 7, 10 and are 4 or 5 wide. The paper's
# (aux_paper, PAPER_AUX=1) is a 5x5 average pool with stride 3, windows at 0, 3, 6, 9: the same sizes,
# other values, so torchvision's weights need torchvision's.
def aux = AUX[ADAPTIVEPOOL-4 -> conv: conv(128, 1, 1) -> fc1: FC-1024 -> RELU -> DROPOUT(0.7) -> fc2: FC-CLASSES]
def aux_paper = AUX[AVGPOOL5(s=3) -> conv: conv(128, 1, 1) -> fc1: FC-1024 -> RELU -> DROPOUT(0.7) -> fc2: FC-CLASSES]

# torchvision's transform_input (TRANSFORM=1, what its ImageNet weights expect, googlenet_imagenet):
# images normalised with ImageNet's mean and std are mapped back to the [-1, 1] scaling GoogLeNet was
# trained on, x * std/0.5 + (mean - 0.5)/0.5 per channel (R, G, B).
def transform = AFFINE(scale=0.458x0.448x0.45, shift=-0.03x-0.088x-0.188)

let AUX = 0
let PAPER_AUX = 0
let TRANSFORM = 0
let CLASSES = 1000 # the class count (torchvision's num_classes): --classes N or --set CLASSES=N
INPUT[224x224x3]
-> transform: transform?TRANSFORM
-> conv1: conv(64, 7, 2) -> maxpool1: POOL3(s=2, ceil)
-> conv2: conv(64, 1, 1) -> conv3: conv(192, 3, 1) -> maxpool2: POOL3(s=2, ceil)
-> inception3a: inception(64, 96, 128, 16, 32, 32)
-> inception3b: inception(128, 128, 192, 32, 96, 64)
-> maxpool3: POOL3(s=2, ceil)
-> inception4a: inception(192, 96, 208, 16, 48, 64)
-> aux1: aux?AUX -> aux1: aux_paper?PAPER_AUX
-> inception4b: inception(160, 112, 224, 24, 64, 64)
-> inception4c: inception(128, 128, 256, 24, 64, 64)
-> inception4d: inception(112, 144, 288, 32, 64, 64)
-> aux2: aux?AUX -> aux2: aux_paper?PAPER_AUX
-> inception4e: inception(256, 160, 320, 32, 128, 128)
-> maxpool4: POOL2(s=2, ceil)
-> inception5a: inception(256, 160, 320, 32, 128, 128)
-> inception5b: inception(384, 192, 384, 48, 128, 128)
-> avgpool: GAP -> dropout: DROPOUT(0.2) -> fc: FC-CLASSES
`;

/**
 * The zoo's GoogLeNet: without and with its auxiliary classifiers (torchvision's adaptive pooling;
 * `--set PAPER_AUX=1` instead of AUX for the paper's), and as torchvision builds it for its ImageNet
 * weights, with `transform_input`.
 */
export const googlenetNets: ZooNet[] = [
  { name: 'googlenet', title: "GoogLeNet (Inception v1), torchvision's, without auxiliary heads", source: GOOGLENET, bindings: {}, torchvision: 'googlenet' },
  {
    name: 'googlenet_aux',
    title: "GoogLeNet with its two auxiliary classifiers, pooled to 4x4 adaptively as torchvision's",
    source: GOOGLENET,
    bindings: { AUX: 1 },
    torchvision: 'googlenet(aux_logits=True)',
  },
  {
    name: 'googlenet_imagenet',
    title: "GoogLeNet as torchvision builds it for its ImageNet weights: transform_input (an AFFINE first), no auxiliary heads",
    source: GOOGLENET,
    bindings: { TRANSFORM: 1 },
    torchvision: 'googlenet(transform_input=True)',
  },
];
