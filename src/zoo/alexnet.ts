import type { ZooNet } from './types.js';

/** AlexNet as torchvision builds it: the single-tower variant of "One weird trick" (Krizhevsky 2014). */
export const ALEXNET = `
# AlexNet, torchvision's alexnet (the one-tower variant, Krizhevsky 2014, "One weird trick ...").
# NOTE: (224 - 11 + 2*2)/4 + 1 = 55.25: the first conv relies on flooring, as PyTorch does.
# torchvision's AdaptiveAvgPool2d((6, 6)) sits after the features; at 224x224 they are already
# 6x6x256, so it is the identity and left out. The FC flattens [6x6x256] to 9216 values itself.
let CLASSES = 1000 # the class count (torchvision's num_classes): --classes N or --set CLASSES=N
INPUT[224x224x3]
-> features: [
     CONV11-64(s=4, p=2, floor) -> RELU -> POOL3(s=2)
  -> CONV5-192 -> RELU -> POOL3(s=2)
  -> CONV3-384 -> RELU
  -> CONV3-256 -> RELU
  -> CONV3-256 -> RELU -> POOL3(s=2)
]
-> classifier: [DROPOUT(0.5) -> FC-4096 -> RELU -> DROPOUT(0.5) -> FC-4096 -> RELU -> FC-CLASSES]
`;

/** The original two-GPU AlexNet (Krizhevsky, Sutskever, Hinton, NIPS 2012), Fig. 2 and Section 3. */
export const ALEXNET_GROUPED = `
# AlexNet, Krizhevsky, Sutskever & Hinton 2012, Fig. 2: two towers, one per GPU. conv2, conv4 and
# conv5 only see the maps of their own GPU (groups=2); conv3 and the FC layers see both.
# Section 3.3: LRN with k=2, n=5, alpha=1e-4, beta=0.75 after the ReLUs of conv1 and conv2;
# Section 3.4: overlapping 3x3 max pools, stride 2; Section 4.2: dropout 0.5 in fc6 and fc7.
# NOTE: the paper says 224x224 inputs, but (224 - 11)/4 + 1 is not whole; 227x227 gives its 55x55.
# NOTE: our LRN (like PyTorch's and Caffe's) divides alpha by n, as the Caffe reference model does.
let CLASSES = 1000 # the class count (torchvision's num_classes): --classes N or --set CLASSES=N
INPUT[227x227x3]
-> conv1: CONV11-96(s=4, p=0) -> RELU -> norm1: LRN(size=5, alpha=0.0001, beta=0.75, k=2) -> pool1: POOL3(s=2)
-> conv2: CONV5-256(groups=2) -> RELU -> norm2: LRN(size=5, alpha=0.0001, beta=0.75, k=2) -> pool2: POOL3(s=2)
-> conv3: CONV3-384 -> RELU
-> conv4: CONV3-384(groups=2) -> RELU
-> conv5: CONV3-256(groups=2) -> RELU -> pool5: POOL3(s=2)
-> fc6: FC-4096 -> RELU -> DROPOUT(0.5)
-> fc7: FC-4096 -> RELU -> DROPOUT(0.5)
-> fc8: FC-CLASSES
`;

/** The zoo's AlexNet: torchvision's single tower and the paper's two groups. */
export const alexnetNets: ZooNet[] = [
  { name: 'alexnet', title: "AlexNet, torchvision's single-tower variant", source: ALEXNET, bindings: {}, torchvision: 'alexnet' },
  { name: 'alexnet_grouped', title: 'AlexNet, the original two-group net (Krizhevsky et al. 2012)', source: ALEXNET_GROUPED, bindings: {}, torchvision: null },
];
