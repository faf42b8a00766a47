import type { Bindings } from '../notation/index.js';

/** A named net of the notes' case studies: notation text and the variable values that pick a variant. */
export interface ZooNet {
  /** The name every command takes: `vgg16`, `resnet50`, ... */
  name: string;
  /** What it is and where it comes from. */
  title: string;
  /** The net in the notation; a person can read it beside the paper's table. */
  source: string;
  /** Values for the text's variables (block counts, switches). */
  bindings: Bindings;
  /** torchvision's constructor when the layer names and parameter order follow its state_dict. */
  torchvision: string | null;
}
