import type { ZooNet } from './types.js';

/** Pre-activation ResNet-18 (He, Zhang, Ren, Sun, "Identity Mappings in Deep Residual Networks", ECCV 2016). */
export const PREACT_RESNET18 = `
# Pre-activation ResNet-18, He et al. 2016 ("Identity Mappings"), Fig. 1(b) and Fig. 4(e): the
# "full pre-activation" unit BN -> RELU -> CONV, twice, and nothing after the addition, so that
# the shortcut path is a clean identity from block to block. Stages as ResNet-18 (2 2 2 2).
# Where a unit halves the size and doubles the channels, its shortcut is a 1x1 projection.
# The stem's conv has no BN/RELU of its own (the first unit begins with them); one BN -> RELU
# after the last unit activates the features before the global pool, as in the paper's code.
def preact(C, S, PROJ) =
  RES[bn1: BN -> RELU -> conv1: CONV3-C(s=S, bias=no, floor) -> bn2: BN -> RELU -> conv2: CONV3-C(bias=no)
    | shortcut: CONV1-C(s=S, bias=no, floor)?PROJ]

let CLASSES = 1000 # the class count (torchvision's num_classes): --classes N or --set CLASSES=N
INPUT[224x224x3]
-> conv1: CONV7-64(s=2, bias=no, floor) -> maxpool: POOL3(s=2, p=1, floor)
-> layer1: [preact(64, 1, 0) -> preact(64, 1, 0)]
-> layer2: [preact(128, 2, 1) -> preact(128, 1, 0)]
-> layer3: [preact(256, 2, 1) -> preact(256, 1, 0)]
-> layer4: [preact(512, 2, 1) -> preact(512, 1, 0)]
-> bn: BN -> RELU -> avgpool: GAP -> fc: FC-CLASSES
`;

/** The zoo's The pre-activation ResNet-18. */
export const preactResnetNets: ZooNet[] = [
  { name: 'preact_resnet18', title: 'Pre-activation ResNet-18 (He et al. 2016, Identity Mappings)', source: PREACT_RESNET18, bindings: {}, torchvision: null },
];
