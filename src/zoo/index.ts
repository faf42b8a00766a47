/**
 * The model zoo: every named net of the notes' case studies, each written in the notation in its
 * own file (lenet, alexnet, zfnet, vgg, googlenet, resnet, preact_resnet).
 */
import { alexnetNets } from './alexnet.js';
import { googlenetNets } from './googlenet.js';
import { lenetNets } from './lenet.js';
import { preactResnetNets } from './preact_resnet.js';
import { resnetNets } from './resnet.js';
import type { ZooNet } from './types.js';
import { vggNets } from './vgg.js';
import { zfnetNets } from './zfnet.js';

export type { ZooNet } from './types.js';

/** Every zoo net, in the order of the notes' case studies. */
export const zoo: readonly ZooNet[] = [...lenetNets, ...alexnetNets, ...zfnetNets, ...googlenetNets, ...vggNets, ...resnetNets, ...preactResnetNets];

/** The zoo net called `name`, or undefined. */
export function zooNet(name: string): ZooNet | undefined {
  return zoo.find((net) => net.name === name);
}
