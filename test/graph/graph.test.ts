import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NetError } from '../../src/graph/errors.js';
import { buildGraph } from '../../src/graph/graph.js';
import { Net } from '../../src/net/net.js';
import type { NetSpec, NodeSpec } from '../../src/net/spec.js';
import { compile } from '../../src/notation/index.js';
import { SizingError } from '../../src/ops/errors.js';

// The graph is built once from a spec by the ops' own rules; the table, Net and the estimate read it.

/** A concat over the images and a pool of them, a residual join, an auxiliary head, then the main head. */
const DAG = 'INPUT[8x8x3] -> CONCAT[ CONV1-4 | POOL3(s=1, p=1) ] -> RES[ CONV3-7 -> BN ] -> AUX[ GAP -> FC-5 ] -> RELU -> GAP -> FC-3';

describe('the graph of a spec', () => {
  const graph = buildGraph(compile(DAG).spec);

  it('numbers values 0 (the images) and i + 1 (node i), wired to what each node reads', () => {
    assert.deepEqual(
      graph.nodes.map((n) => [n.spec.name, n.inputs]),
      [
        ['conv1', [0]],
        ['pool1', [0]],
        ['concat1', [1, 2]],
        ['conv2', [3]],
        ['bn1', [4]],
        ['add1', [5, 3]],
        ['globalavgpool1', [6]],
        ['fc1', [7]],
        ['relu1', [6]],
        ['globalavgpool2', [9]],
        ['fc2', [10]],
      ],
    );
  });

  it('works out each value\'s per-image shape, parameters and multiply-adds by the ops\' rules', () => {
    assert.deepEqual(graph.shapes, [[3, 8, 8], [4, 8, 8], [3, 8, 8], [7, 8, 8], [7, 8, 8], [7, 8, 8], [7, 8, 8], [7, 1, 1], [5], [7, 8, 8], [7, 1, 1], [3]]);
    const conv2 = graph.nodes[3];
    assert.deepEqual(conv2?.inShapes, [[7, 8, 8]]);
    assert.deepEqual(conv2?.params.map((p) => [p.name, p.shape, p.trainable]), [['weight', [7, 7, 3, 3], true], ['bias', [7], true]]);
    assert.equal(conv2?.macs, 7 * 8 * 8 * 7 * 3 * 3);
    assert.deepEqual(graph.nodes[4]?.params.map((p) => [p.name, p.trainable]), [['weight', true], ['bias', true], ['running_mean', false], ['running_var', false]]);
    assert.equal(graph.nodes[10]?.macs, 7 * 3);
  });

  it('lists each value\'s readers and last reader; the residual input stays until the join', () => {
    assert.deepEqual(graph.readers, [[0, 1], [2], [2], [3, 5], [4], [5], [6, 8], [7], [], [9], [10], []]);
    assert.deepEqual(graph.lastReader, [1, 2, 2, 5, 4, 5, 8, 7, -1, 9, 10, -1]);
  });

  it('keeps for backward exactly what a backward reads: CONV, BN and FC inputs, RELU outputs', () => {
    const kept = graph.keptForBackward.flatMap((k, j) => (k ? [j] : []));
    // 0 and 3 feed convs, 4 feeds BN, 7 and 10 feed FCs; the pool, concat, add and GAP read nothing back.
    assert.deepEqual(kept, [0, 3, 4, 7, 9, 10]);
  });

  it('finds the auxiliary heads: the outputs nobody reads, the net\'s own output aside', () => {
    assert.deepEqual(graph.auxHeads, [8]);
    assert.equal(graph.nodes[7]?.spec.name, 'fc1');
    assert.deepEqual(buildGraph(compile('INPUT[8x8x3] -> CONV3-4 -> FC-2').spec).auxHeads, []);
  });
});

describe('errors name the layer from 1, as the notation does', () => {
  const conv = (name: string, input: string, stride: number): NodeSpec => ({
    name,
    op: 'conv',
    inputs: [input],
    attrs: { outChannels: 4, kernel: [3, 3], stride: [stride, stride], padding: [0, 0], rounding: 'exact', groups: 1, bias: true },
  });

  it('a window that does not tile its input: the SizingError of layer 2, with the input volume', () => {
    const spec: NetSpec = { input: [3, 10, 10], nodes: [conv('c1', 'input', 1), conv('c2', 'c1', 2)] };
    assert.throws(
      () => buildGraph(spec),
      (e: unknown) =>
        e instanceof NetError &&
        e.index === 2 &&
        e.node.name === 'c2' &&
        e.reason instanceof SizingError &&
        e.message === "layer 2 'c2': conv: the height does not work out: (8 - 3 + 2*0)/2 + 1 = 5/2 + 1 = 3.5, not a whole number" &&
        e.inputs.length === 1 &&
        (e.inputs[0] as number[]).join() === '4,8,8',
    );
  });

  it('a name read before any layer makes it, and a name used twice', () => {
    const missing: NetSpec = { input: [3, 9, 9], nodes: [conv('c1', 'input', 1), conv('c2', 'nope', 1)] };
    assert.throws(() => buildGraph(missing), /^NetError: layer 2 'c2': reads 'nope', which no earlier layer produces$/);
    const twice: NetSpec = { input: [3, 9, 9], nodes: [conv('c1', 'input', 1), conv('c1', 'c1', 1)] };
    assert.throws(() => buildGraph(twice), /^NetError: layer 2 'c1': the name 'c1' is used twice$/);
  });

  it('Net throws the same NetError, and the notation the same layer number with its caret', () => {
    const spec = compile('INPUT[8x8x3] -> CONV3-4(p=0) -> POOL2').spec;
    assert.throws(() => new Net({ ...spec, input: [3, 7, 7] }), (e: unknown) => e instanceof NetError && e.index === 2 && /^layer 2 'pool1'/.test(e.message));
    assert.throws(() => compile('INPUT[7x7x3] -> CONV3-4(p=0) -> POOL2'), /layer 2 POOL2 \('pool1'\): the height does not work out: \(5 - 2 \+ 2\*0\)\/2 \+ 1/);
  });
});
