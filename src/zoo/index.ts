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

/**
 * A zoo net's notation as one text that compiles alone, to copy and edit: its variable values
 * (`vgg16`'s convs per stage) become `let` lines, written where the text declares its defaults.
 */
export function zooNotation(net: ZooNet): string {
  let text = net.source.trim();
  const added: string[] = [];
  for (const [name, value] of Object.entries(net.bindings)) {
    const declared = new RegExp(`^let ${name} = -?\\d+`, 'm');
    if (declared.test(text)) text = text.replace(declared, `let ${name} = ${value}`);
    else added.push(`let ${name} = ${value}`);
  }
  // NOTE: every zoo text declares CLASSES just before its INPUT, so the new lines go there too.
  const at = text.search(/^let CLASSES/m);
  const header = `# ${net.name}: ${net.title}`;
  if (added.length === 0) return `${header}\n${text}\n`;
  return `${header}\n${text.slice(0, at)}${added.join('\n')}\n${text.slice(at)}\n`;
}
