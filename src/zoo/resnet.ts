import type { ZooNet } from './types.js';

const STEM = `INPUT[224x224x3]
-> conv1: CONV7-64(s=2, bias=no, floor) -> bn1: BN -> relu: RELU -> maxpool: POOL3(s=2, p=1, floor)`;

/** ResNet-18/34 (He, Zhang, Ren, Sun, "Deep Residual Learning", CVPR 2016), Table 1, basic blocks. */
export const RESNET_BASIC = `
# ResNet with basic blocks, He et al. 2016, Table 1 (18 and 34 layers), as torchvision builds it.
# Each stage has 1 + B<n> blocks: ResNet-18 2 2 2 2, ResNet-34 3 4 6 3. Every conv is followed by BN
# and has no bias; PyTorch floors the sizes of strided layers, so they say floor.
# A basic block (Fig. 2 left): two 3x3 convs added to the block's input; where the block halves the
# size and doubles the channels, the shortcut is a 1x1 projection (option B, Section 3.3).
def basic(C, S, PROJ) =
  RES[conv1: CONV3-C(s=S, bias=no, floor) -> bn1: BN -> relu: RELU -> conv2: CONV3-C(bias=no) -> bn2: BN
    | downsample: [CONV1-C(s=S, bias=no, floor) -> BN]?PROJ]
  -> relu: RELU

let CLASSES = 1000 # the class count (torchvision's num_classes): --classes N or --set CLASSES=N
${STEM}
-> layer1: [basic(64, 1, 0) -> basic(64, 1, 0)*B1]
-> layer2: [basic(128, 2, 1) -> basic(128, 1, 0)*B2]
-> layer3: [basic(256, 2, 1) -> basic(256, 1, 0)*B3]
-> layer4: [basic(512, 2, 1) -> basic(512, 1, 0)*B4]
-> avgpool: GAP -> fc: FC-CLASSES
`;

/** ResNet-50/101/152, Table 1, bottleneck blocks with the stride on the 3x3 conv ("ResNet v1.5"). */
export const RESNET_BOTTLENECK = `
# ResNet with bottleneck blocks, He et al. 2016, Table 1 (50, 101 and 152 layers), as torchvision
# builds it. Each stage has 1 + B<n> blocks: ResNet-50 3 4 6 3, ResNet-101 3 4 23 3,
# ResNet-152 3 8 36 3.
# A bottleneck (Fig. 5 right): 1x1 down to W channels, 3x3, 1x1 up to OUT = 4W, added to the
# block's input or its 1x1 projection. NOTE: torchvision strides the 3x3 conv, not the first 1x1
# as the paper does ("ResNet v1.5"); the parameter count is the same.
def bottleneck(W, OUT, S, PROJ) =
  RES[conv1: CONV1-W(bias=no) -> bn1: BN -> relu: RELU
   -> conv2: CONV3-W(s=S, bias=no, floor) -> bn2: BN -> relu: RELU
   -> conv3: CONV1-OUT(bias=no) -> bn3: BN
    | downsample: [CONV1-OUT(s=S, bias=no, floor) -> BN]?PROJ]
  -> relu: RELU

let CLASSES = 1000 # the class count (torchvision's num_classes): --classes N or --set CLASSES=N
${STEM}
-> layer1: [bottleneck(64, 256, 1, 1) -> bottleneck(64, 256, 1, 0)*B1]
-> layer2: [bottleneck(128, 512, 2, 1) -> bottleneck(128, 512, 1, 0)*B2]
-> layer3: [bottleneck(256, 1024, 2, 1) -> bottleneck(256, 1024, 1, 0)*B3]
-> layer4: [bottleneck(512, 2048, 2, 1) -> bottleneck(512, 2048, 1, 0)*B4]
-> avgpool: GAP -> fc: FC-CLASSES
`;

const DEPTHS: [number, string, number[]][] = [
  [18, RESNET_BASIC, [2, 2, 2, 2]],
  [34, RESNET_BASIC, [3, 4, 6, 3]],
  [50, RESNET_BOTTLENECK, [3, 4, 6, 3]],
  [101, RESNET_BOTTLENECK, [3, 4, 23, 3]],
  [152, RESNET_BOTTLENECK, [3, 8, 36, 3]],
];

/** The zoo's ResNet-18, 34, 50, 101 and 152. */
export const resnetNets: ZooNet[] = DEPTHS.map(([depth, source, blocks]) => ({
  name: `resnet${depth}`,
  title: `ResNet-${depth} (${blocks.join('-')} ${source === RESNET_BASIC ? 'basic' : 'bottleneck'} blocks)`,
  source,
  bindings: Object.fromEntries(blocks.map((n, i) => [`B${i + 1}`, n - 1])),
  torchvision: `resnet${depth}`,
}));
