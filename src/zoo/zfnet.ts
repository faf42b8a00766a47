import type { ZooNet } from './types.js';

/** ZF Net (Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks", ECCV 2014), Fig. 3. */
export const ZFNET = `
# ZF Net, Zeiler & Fergus 2014, Fig. 3: AlexNet with a 7x7 stride-2 first layer (instead of 11x11
# stride 4) and no GPU split:
#   layer 1: 96 7x7 filters, stride 2 -> 110x110; 3x3 max pool, stride 2 -> 55x55; contrast norm.
#   layer 2: 256 5x5 filters, stride 2 -> 26x26; 3x3 max pool, stride 2 -> 13x13; contrast norm.
#   layers 3, 4, 5: 384, 384, 256 3x3 filters -> 13x13; 3x3 max pool, stride 2 -> 6x6.
#   layers 6, 7: 4096 units; output: 1000 classes.
# NOTE: the paper gives no padding; p=1 on layer 1 with flooring gives its 110x110, and its pools
# round up (as Caffe's do) to give 55x55 and 13x13.
let CLASSES = 1000 # the class count (torchvision's num_classes): --classes N or --set CLASSES=N
INPUT[224x224x3]
-> conv1: CONV7-96(s=2, p=1, floor) -> RELU -> pool1: POOL3(s=2, ceil) -> norm1: LRN
-> conv2: CONV5-256(s=2, p=0) -> RELU -> pool2: POOL3(s=2, ceil) -> norm2: LRN
-> conv3: CONV3-384 -> RELU
-> conv4: CONV3-384 -> RELU
-> conv5: CONV3-256 -> RELU -> pool5: POOL3(s=2)
-> fc6: FC-4096 -> RELU -> DROPOUT(0.5)
-> fc7: FC-4096 -> RELU -> DROPOUT(0.5)
-> fc8: FC-CLASSES
`;

/** The zoo's ZF Net. */
export const zfnetNets: ZooNet[] = [{ name: 'zfnet', title: 'ZF Net (Zeiler & Fergus 2014)', source: ZFNET, bindings: {}, torchvision: null }];
