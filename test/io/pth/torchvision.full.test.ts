import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openBackend } from '../../../src/backends/registry.js';
import { parseNpy } from '../../../src/io/npy.js';
import { parsePth } from '../../../src/io/pth/pth.js';
import { Net } from '../../../src/net/net.js';
import { toNetSpec } from '../../../src/notation/index.js';
import type { Tensor } from '../../../src/tensor/tensor.js';
import { zooNet } from '../../../src/zoo/index.js';

// torchvision's GoogLeNet as its ImageNet weights build it (transform_input=True, aux_logits=True),
// its state_dict saved by torch.save, as `tools/torchvision_weights.py <dir>` writes it (52 MB, not
// committed): run with CONVSTACK_TORCHVISION=<dir> npm run test:full. The zoo's googlenet_imagenet with
// its auxiliary heads (AUX=1) loads the .pth as it is and gives PyTorch's scores and both auxiliary
// heads' (torchvision's adaptive 4x4 pooling, which the paper's 5x5/3 pool would not).

const DIR = process.env['CONVSTACK_TORCHVISION'];
const PRESENT = DIR !== undefined && existsSync(join(DIR, 'googlenet.pth'));

/** The largest difference relative to each value, or to 1% of the largest for values near zero. */
function worstRelative(y: Tensor, expected: Tensor): number {
  assert.deepEqual(y.shape, expected.shape);
  const scale = Math.max(...expected.data.map(Math.abs));
  return Math.max(...expected.data.map((e, i) => Math.abs((y.data[i] as number) - e) / Math.max(Math.abs(e), 1e-2 * scale)));
}

test("torchvision's GoogLeNet .pth in the zoo's googlenet_imagenet (AUX=1) gives PyTorch's scores and auxiliary scores", { skip: !PRESENT && 'CONVSTACK_TORCHVISION names no folder with googlenet.pth' }, async () => {
  const dir = DIR as string;
  const entry = zooNet('googlenet_imagenet') ?? assert.fail('googlenet_imagenet');
  const spec = toNetSpec(entry.source, { bindings: { ...entry.bindings, AUX: 1 } });
  const backend = await openBackend('wasm');
  const net = new Net(spec, { backend });
  net.loadState(parsePth(readFileSync(join(dir, 'googlenet.pth')), 'googlenet.pth').tensors);
  const heads = new Map<string, Tensor>();
  const x = parseNpy(readFileSync(join(dir, 'googlenet.input.npy')));
  const y = net.forward(x, { inspect: (node, output) => node.name.endsWith('.fc2') && heads.set(node.name.split('.')[0] as string, output.clone()) });
  // Against the float64 scores where the script wrote them (`<name>64.npy`), else PyTorch's float32 ones.
  const expected = (name: string): Tensor => parseNpy(readFileSync(join(dir, existsSync(join(dir, `googlenet.${name}64.npy`)) ? `googlenet.${name}64.npy` : `googlenet.${name}.npy`)));
  const worst = {
    scores: worstRelative(y, expected('output')),
    aux1: worstRelative(heads.get('aux1') ?? assert.fail('aux1'), expected('aux1')),
    aux2: worstRelative(heads.get('aux2') ?? assert.fail('aux2'), expected('aux2')),
  };
  const torch = worstRelative(parseNpy(readFileSync(join(dir, 'googlenet.output.npy'))), expected('output'));
  console.log(`googlenet_imagenet with AUX=1 from googlenet.pth, worst relative differences: ${Object.entries(worst).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')} (PyTorch's float32 scores: ${torch.toExponential(2)})`);
  for (const [what, value] of Object.entries(worst)) assert.ok(value <= 1e-4, `${what}: ${value}`);
  // The check can fail: without transform_input PyTorch's scores are far from these.
  assert.ok(worstRelative(y, parseNpy(readFileSync(join(dir, 'googlenet.notransform.npy')))) > 1e-2);
  net.dispose();
  await backend.dispose();
});

test("the paper's 5x5/3 auxiliary pool (PAPER_AUX=1) does not give torchvision's auxiliary scores", { skip: !PRESENT && 'CONVSTACK_TORCHVISION names no folder with googlenet.pth' }, async () => {
  const dir = DIR as string;
  const entry = zooNet('googlenet_imagenet') ?? assert.fail('googlenet_imagenet');
  const backend = await openBackend('wasm');
  const net = new Net(toNetSpec(entry.source, { bindings: { ...entry.bindings, PAPER_AUX: 1 } }), { backend });
  // The same parameters: only the pooling windows differ (0, 3, 6, 9 five wide, not 0, 3, 7, 10).
  net.loadState(parsePth(readFileSync(join(dir, 'googlenet.pth')), 'googlenet.pth').tensors);
  let aux1: Tensor | null = null;
  net.forward(parseNpy(readFileSync(join(dir, 'googlenet.input.npy'))), { inspect: (node, output) => (node.name === 'aux1.fc2' ? (aux1 = output.clone()) : null) });
  const worst = worstRelative(aux1 ?? assert.fail('aux1'), parseNpy(readFileSync(join(dir, 'googlenet.aux1.npy'))));
  console.log(`the paper's auxiliary pooling: aux1 is ${worst.toExponential(2)} relative from torchvision's`);
  assert.ok(worst > 1e-2, String(worst));
  net.dispose();
  await backend.dispose();
});
