import type { ZooNet } from './types.js';

/**
 * LeNet-5 (LeCun, Bottou, Bengio, Haffner, "Gradient-based learning applied to document
 * recognition", 1998), Fig. 2, in its common modern form.
 */
export const LENET5 = `
# LeNet-5, LeCun et al. 1998, Fig. 2:
#   C1: 6 feature maps 28x28 (5x5 convs)   S2: 6 maps 14x14 (2x2 subsampling)
#   C3: 16 maps 10x10 (5x5 convs)          S4: 16 maps 5x5
#   C5: 120 maps 1x1 (5x5 convs)           F6: 84 units          OUTPUT: 10 classes
# NOTE: the paper's squashing units are tanh, its S layers have a trainable gain and bias, C3 connects
# each map to a subset of S2's maps and the outputs are RBF units; as is usual today this version
# uses RELU, plain average pooling, full C3 connectivity and an FC output (61,706 parameters
# against the paper's ~60,000).
# P pads C1: 0 on the paper's 32x32 images, 2 on MNIST's 28x28 so that C1 still gives 28x28.
let P = 0
let CLASSES = 10 # the class count: --classes N or --set CLASSES=N
INPUT[32x32x1]
-> c1: CONV5-6(p=P) -> RELU -> s2: AVGPOOL2
-> c3: CONV5-16(p=0) -> RELU -> s4: AVGPOOL2
-> c5: CONV5-120(p=0) -> RELU
-> f6: FC-84 -> RELU
-> output: FC-CLASSES
`;

/** The zoo's LeNet-5 on 32x32 images and on 28x28 MNIST digits. */
export const lenetNets: ZooNet[] = [
  { name: 'lenet5', title: 'LeNet-5 on 32x32x1 (LeCun et al. 1998)', source: LENET5, bindings: {}, torchvision: null },
  {
    name: 'lenet5_mnist',
    title: 'LeNet-5 on 28x28x1 MNIST, C1 padded by 2',
    source: LENET5.replace('INPUT[32x32x1]', 'INPUT[28x28x1]'),
    bindings: { P: 2 },
    torchvision: null,
  },
];
