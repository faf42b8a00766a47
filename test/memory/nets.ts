import type { NetSpec } from '../../src/net/spec.js';
import { compile } from '../../src/notation/index.js';
import { zooNet } from '../../src/zoo/index.js';

/** A zoo net as a NetSpec, at its own input size or at `input` ([H, W, C]). */
export function zooSpec(name: string, input?: readonly [number, number, number]): NetSpec {
  const net = zooNet(name);
  if (net === undefined) throw new Error(`no zoo net '${name}'`);
  return compile(net.source, { bindings: net.bindings, ...(input !== undefined && { input }) }).spec;
}
