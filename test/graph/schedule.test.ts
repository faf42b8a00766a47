import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { referenceBackend } from '../../src/backends/reference/index.js';
import { referenceWorkspace } from '../../src/backends/reference/workspace.js';
import type { Backend } from '../../src/backends/backend.js';
import type { WorkspaceModel } from '../../src/graph/workspace.js';
import { buildGraph } from '../../src/graph/graph.js';
import { buildSchedule, fusionsOf, NO_FUSIONS, type Schedule } from '../../src/graph/schedule.js';
import { maxPool2dValues } from '../../src/ops/maxpool2d.js';
import { ScheduleReplay } from '../../src/memory/replay.js';
import { Net } from '../../src/net/net.js';
import type { NetSpec } from '../../src/net/spec.js';
import { compile } from '../../src/notation/index.js';
import { Tensor } from '../../src/tensor/tensor.js';

// The schedule is what Net executes and what the memory estimate replays: the same steps, the same
// frees, the same gradient sums.

/** A concat over the images and a pool of them, a residual join, an auxiliary head, then the main head. */
const DAG = 'INPUT[8x8x3] -> CONCAT[ CONV1-4 | POOL3(s=1, p=1) ] -> RES[ CONV3-7 -> BN ] -> AUX[ GAP -> FC-5 ] -> RELU -> GAP -> FC-3';
const NO_FUSION = NO_FUSIONS;

function frees(schedule: Schedule): [string, number[]][] {
  return schedule.forward.map((step) => [step.node.spec.name, step.frees]);
}

describe('the forward schedule', () => {
  const graph = buildGraph(compile(DAG).spec);

  it('inference frees each value after its last reader, and an auxiliary head at once', () => {
    assert.deepEqual(frees(buildSchedule(graph, { training: false, fusions: NO_FUSION })), [
      ['conv1', []],
      ['pool1', []],
      ['concat1', [1, 2]],
      ['conv2', []],
      ['bn1', [4]],
      ['add1', [5, 3]],
      ['globalavgpool1', []],
      ['fc1', [7, 8]],
      ['relu1', [6]],
      ['globalavgpool2', [9]],
      ['fc2', [10]],
    ]);
  });

  it('training frees only what no backward reads, and keeps the auxiliary head for its loss', () => {
    const schedule = buildSchedule(graph, { training: true, fusions: NO_FUSION });
    assert.deepEqual(frees(schedule).filter(([, f]) => f.length > 0), [
      ['concat1', [1, 2]],
      ['add1', [5]],
      ['relu1', [6]],
    ]);
    assert.deepEqual(schedule.seeds, [11, 8]);
  });

  it('fuses a CONV into the RELU after it only where the backend can and the RELU is its only reader', () => {
    const graph = buildGraph(compile('INPUT[8x8x3] -> CONV3-4 -> RELU -> POOL2 -> FC-10').spec);
    const fused = buildSchedule(graph, { training: false, fusions: { ...NO_FUSION, conv2dRelu: true } });
    assert.deepEqual(fused.forward.map((s) => [s.op.type, s.node.spec.name, s.layer.spec.name, s.inputs, s.output]), [
      ['conv+relu', 'relu1', 'conv1', [0], 2],
      ['maxpool', 'pool1', 'pool1', [2], 3],
      ['fc', 'fc1', 'fc1', [3], 4],
    ]);
    assert.deepEqual(buildSchedule(graph, { training: false, fusions: NO_FUSION }).forward.map((s) => s.op.type), ['conv', 'relu', 'maxpool', 'fc']);
    const conv = { outChannels: 3, kernel: [3, 3], stride: [1, 1], padding: [1, 1], rounding: 'exact', groups: 1, bias: true } as const;
    const shared: NetSpec = {
      input: [3, 4, 4],
      nodes: [
        { name: 'c', op: 'conv', attrs: conv, inputs: ['input'] },
        { name: 'r', op: 'relu', attrs: {}, inputs: ['c'] },
        { name: 's', op: 'add', attrs: {}, inputs: ['c', 'r'] },
      ],
    };
    const unfused = buildSchedule(buildGraph(shared), { training: false, fusions: { ...NO_FUSION, conv2dRelu: true } });
    assert.deepEqual(unfused.forward.map((s) => s.op.type), ['conv', 'relu', 'add']);
  });
});

describe('the inference schedule with conv2dAffine', () => {
  const ALL = { conv2dRelu: true, conv2dAffine: true, maxPool2dValues: false };
  const steps = (schedule: Schedule): unknown[] => schedule.forward.map((s) => [s.op.type, s.node.spec.name, s.layer.spec.name, s.folded?.spec.name ?? null]);

  it("folds a CONV's BN, and the BN's RELU, into one step; a RES join's ADD after the BN too, its shortcut read as the step's second input", () => {
    const graph = buildGraph(compile('INPUT[8x8x3] -> CONV3-4 -> BN -> RELU -> RES[ CONV3-4 -> BN ] -> CONV1-4 -> BN -> POOL2 -> FC-10').spec);
    const schedule = buildSchedule(graph, { training: false, fusions: ALL });
    assert.deepEqual(steps(schedule), [
      ['conv+bn', 'relu1', 'conv1', 'bn1'],
      ['conv+bn', 'add1', 'conv2', 'bn2'],
      ['conv+bn', 'bn3', 'conv3', 'bn3'],
      ['maxpool', 'pool1', 'pool1', null],
      ['fc', 'fc1', 'fc1', null],
    ]);
    const attrs = schedule.forward.map((s) => s.attrs as { relu?: boolean; residual?: boolean; eps?: number });
    assert.deepEqual(attrs.map((a) => [a.residual ?? null, a.relu ?? null]), [[false, true], [true, false], [false, false], [null, null], [null, null]]);
    assert.equal(attrs[0]?.eps, 1e-5);
    // The RES block's input (relu1's value) is both the conv's input and the shortcut.
    const relu1 = (graph.nodes[2] as { index: number }).index + 1;
    assert.deepEqual(schedule.forward[1]?.inputs, [relu1, relu1]);
  });

  it("adds a projection shortcut in the conv that ends the RES join's last branch, then its RELU: ResNet's downsampling block", () => {
    const text = 'INPUT[8x8x4] -> RES[ CONV3-8(s=2, floor) -> BN -> RELU -> CONV3-8 -> BN | CONV1-8(s=2, floor) -> BN ] -> RELU -> FC-10';
    const graph = buildGraph(compile(text).spec);
    const schedule = buildSchedule(graph, { training: false, fusions: ALL });
    assert.deepEqual(
      schedule.forward.map((s) => [s.op.type, s.node.spec.op, (s.attrs as { residual?: boolean }).residual ?? null]),
      [['conv+bn', 'relu', false], ['conv+bn', 'bn', false], ['conv+bn', 'relu', true], ['fc', 'fc', null]],
    );
    // The main branch's BN output is the shortcut step's residual.
    assert.deepEqual(schedule.forward[2]?.inputs, [0, schedule.forward[1]?.output]);
    assert.deepEqual(buildSchedule(graph, { training: true, fusions: ALL }).forward.map((s) => s.op.type), ['conv', 'bn', 'relu', 'conv', 'bn', 'conv', 'bn', 'add', 'relu', 'fc']);
  });

  it('runs an undilated max POOL without its argmax in inference only', () => {
    const graph = buildGraph(compile('INPUT[12x12x3] -> CONV3-4 -> POOL2 -> POOL3(s=1, d=2) -> FC-10').spec);
    const fusions = { ...NO_FUSION, maxPool2dValues: true };
    const values = (training: boolean): boolean[] => buildSchedule(graph, { training, fusions }).forward.map((s) => s.op === maxPool2dValues);
    assert.deepEqual(values(false), [false, true, false, false]);
    assert.deepEqual(values(true), [false, false, false, false]);
  });

  it('keeps the CONV and BN apart in training, and where the conv has another reader', () => {
    const graph = buildGraph(compile('INPUT[8x8x3] -> CONV3-4 -> BN -> RELU -> FC-10').spec);
    assert.deepEqual(buildSchedule(graph, { training: true, fusions: ALL }).forward.map((s) => s.op.type), ['conv', 'bn', 'relu', 'fc']);
    const shared = buildGraph(compile('INPUT[8x8x3] -> CONV3-4 -> RES[ BN ] -> FC-10').spec);
    assert.deepEqual(buildSchedule(shared, { training: false, fusions: ALL }).forward.map((s) => s.op.type), ['conv', 'bn', 'add', 'fc']);
  });
});

describe('the backward schedule', () => {
  const graph = buildGraph(compile(DAG).spec);
  const schedule = buildSchedule(graph, { training: true, fusions: NO_FUSION });

  it('runs the steps in reverse, adds the gradients of a value with several readers, and skips the images\' gradient', () => {
    assert.deepEqual(
      schedule.backward.map((b) => [schedule.forward[b.step]?.node.spec.name, b.inputGrads, b.frees]),
      [
        ['fc2', ['set'], []],
        ['globalavgpool2', ['set'], [10]],
        ['relu1', ['set'], [9]],
        ['fc1', ['set'], [8]],
        // relu1 gave value 6 its gradient first; the auxiliary head's GAP adds to it.
        ['globalavgpool1', ['add'], [7]],
        // value 6 was freed in forward (no backward reads it): nothing to free here.
        ['add1', ['set', 'set'], []],
        ['bn1', ['set'], []],
        ['conv2', ['add'], [4]],
        // The pool of the images trains nothing and has nothing upstream that does: no gradient, no backward step.
        ['concat1', ['set', 'drop'], [3]],
        ['conv1', ['drop'], []],
      ],
    );
    assert.deepEqual(schedule.backward.at(-1)?.wanted, [false]);
    assert.equal(schedule.forward[1]?.backward, false);
  });

  it('with inputGrad, the images\' gradient is set by the last step back and added by the next', () => {
    const withInput = buildSchedule(graph, { training: true, fusions: NO_FUSION, inputGrad: true });
    assert.deepEqual(withInput.backward.slice(-2).map((b) => [withInput.forward[b.step]?.node.spec.name, b.wanted, b.inputGrads]), [
      ['pool1', [true], ['set']],
      ['conv1', [true], ['add']],
    ]);
    assert.ok(withInput.forward.every((step) => step.backward));
  });
});

describe('the backward schedule of a fine-tune stops where no gradient is needed', () => {
  const graph = buildGraph(compile(DAG).spec);
  const names = (schedule: Schedule): string[] => schedule.backward.map((b) => schedule.forward[b.step]?.node.spec.name as string);
  const frozenSchedule = (...frozen: string[]): Schedule => buildSchedule(graph, { training: true, fusions: NO_FUSION, frozen: new Set(frozen) });

  it('a frozen prefix has no backward steps, and the first trained layers ask for their parameters\' gradients only', () => {
    const schedule = frozenSchedule('conv1', 'conv2', 'bn1');
    // Trained: the two FCs. Nothing upstream of either trains, so neither passes a gradient on.
    assert.deepEqual(names(schedule), ['fc2', 'fc1']);
    assert.deepEqual(schedule.backward.map((b) => [b.wanted, b.inputGrads]), [[[false], ['drop']], [[false], ['drop']]]);
    assert.deepEqual(schedule.needsGradient.flatMap((needs, j) => (needs ? [j] : [])), [8, 11]);
    // Each FC frees its input, whose producer has no backward step; fc1 frees its own output too (the auxiliary head's).
    assert.deepEqual(schedule.backward.map((b) => b.frees), [[10], [7, 8]]);
  });

  it('a trained layer early in the net passes gradients through the frozen layers after it, on every path it reaches', () => {
    const schedule = frozenSchedule('conv1', 'fc1');
    // conv2 trains: the frozen fc1 of the auxiliary head still passes its gradient back to value 6.
    assert.deepEqual(names(schedule), ['fc2', 'globalavgpool2', 'relu1', 'fc1', 'globalavgpool1', 'add1', 'bn1', 'conv2']);
    assert.deepEqual(schedule.backward[3]?.wanted, [true]);
    // The residual's skip path comes from the frozen conv1 and the pool: its gradient is not wanted.
    assert.deepEqual(schedule.backward[5]?.inputGrads, ['set', 'drop']);
    assert.deepEqual(schedule.backward.at(-1)?.wanted, [false]);
    // conv2 is the last to read the concat's output, whose producer has no backward step: it frees it.
    assert.deepEqual(schedule.backward.at(-1)?.frees, [3, 4]);
    assert.deepEqual(names(frozenSchedule('conv2', 'bn1', 'fc1', 'fc2')), names(buildSchedule(graph, { training: true, fusions: NO_FUSION })));
  });

  it('a frozen CONV, BN or FC on the path of gradients reads none of its input back, so forward does not keep it', () => {
    // Trained: conv1 and the heads. The frozen conv2 needs only its input's shape, the frozen BN only its parameters.
    const schedule = frozenSchedule('conv2', 'bn1');
    assert.deepEqual(frees(schedule).filter(([, f]) => f.length > 0), [
      ['concat1', [1, 2]],
      ['bn1', [4]],
      ['add1', [5, 3]],
      ['relu1', [6]],
    ]);
    assert.deepEqual(frees(buildSchedule(graph, { training: true, fusions: NO_FUSION })).filter(([, f]) => f.length > 0), [
      ['concat1', [1, 2]],
      ['add1', [5]],
      ['relu1', [6]],
    ]);
    assert.deepEqual(schedule.backward.find((b) => schedule.forward[b.step]?.node.spec.name === 'conv2')?.wanted, [true]);
  });

  it('everything frozen: no backward at all, and the auxiliary output is freed when backward starts', () => {
    const schedule = frozenSchedule('conv1', 'conv2', 'bn1', 'fc1', 'fc2');
    assert.deepEqual(schedule.backward, []);
    assert.deepEqual(schedule.freedBeforeBackward, [8]);
    assert.ok(schedule.forward.every((step) => !step.backward));
    // Forward frees as inference does, the auxiliary output aside.
    assert.deepEqual(frees(schedule), frees(buildSchedule(graph, { training: false, fusions: NO_FUSION })).map(([name, f]) => [name, f.filter((j) => j !== 8)]));
  });

  it('only the head trained: forward keeps no activation before the head\'s input', () => {
    const head = frozenSchedule('conv1', 'conv2', 'bn1', 'fc1');
    assert.deepEqual(frees(head).filter(([, f]) => f.length > 0), [
      ['concat1', [1, 2]],
      ['bn1', [4]],
      ['add1', [5, 3]],
      ['fc1', [7]],
      ['relu1', [6]],
      ['globalavgpool2', [9]],
    ]);
    assert.deepEqual(names(head), ['fc2']);
    assert.deepEqual(head.backward[0]?.frees, [10]);
    assert.deepEqual(head.freedBeforeBackward, [8]);
  });
});

/** Every allocation and free the reference backend's tracker sees while `run` runs, as signed byte counts. */
function trackerEvents(run: () => void): number[] {
  const tracker = referenceBackend.allocator.tracker;
  const events: number[] = [];
  const { allocated, freed } = tracker;
  tracker.allocated = (bytes: number) => {
    events.push(bytes);
    allocated.call(tracker, bytes);
  };
  tracker.freed = (bytes: number) => {
    events.push(-bytes);
    freed.call(tracker, bytes);
  };
  try {
    run();
  } finally {
    tracker.allocated = allocated;
    tracker.freed = freed;
  }
  return events;
}

/** Records `replay`'s ledger: `during(run)` gives every allocation and free while `run` runs, as signed byte counts. */
function recordLedger(replay: ScheduleReplay): { during: (run: () => void) => number[] } {
  let events: number[] = [];
  const sizes = new Map<number, number>();
  const ledger = replay.ledger;
  const { alloc, free } = ledger;
  ledger.alloc = (kind, values, bytesPerValue) => {
    const id = alloc.call(ledger, kind, values, bytesPerValue);
    sizes.set(id, values * bytesPerValue);
    events.push(values * bytesPerValue);
    return id;
  };
  ledger.free = (id) => {
    events.push(-(sizes.get(id) ?? Number.NaN));
    free.call(ledger, id);
  };
  return {
    during(run) {
      events = [];
      run();
      return events;
    },
  };
}

describe('the estimate replays the schedule Net runs, allocation by allocation', () => {
  const spec = compile(DAG).spec;
  const batch = 2;

  for (const dtype of ['float32', 'float64'] as const) {
    it(`training forward and backward, ${dtype}: the ledger sees the tracker's sequence of allocations and frees`, () => {
      const net = new Net(spec, { backend: referenceBackend, dtype, seed: 1 });
      const x = Tensor.zeros([batch, 3, 8, 8], dtype);
      const dy = Tensor.zeros([batch, 3], dtype);
      const auxGrad = Tensor.zeros([batch, 5], dtype);
      let scores: Tensor | null = null;
      const forward = trackerEvents(() => (scores = net.forward(x, { training: true })));
      const backward = trackerEvents(() => net.backward(dy, { auxGrads: [auxGrad] }));

      const schedule = buildSchedule(buildGraph(spec), { training: true, fusions: NO_FUSION });
      const replay = new ScheduleReplay(batch, dtype, referenceWorkspace);
      const ledger = recordLedger(replay);
      const input = replay.batched('data', spec.input);
      let state: ReturnType<ScheduleReplay['forward']> | null = null;
      assert.deepEqual(ledger.during(() => (state = replay.forward(schedule, input))), forward);
      assert.deepEqual(ledger.during(() => replay.backward(schedule, state as NonNullable<typeof state>)), backward);
      // Not vacuous: convs, BN, the concat's split and two gradient sums all allocate in backward.
      assert.ok(backward.filter((bytes) => bytes > 0).length >= 20, `${backward.length} events`);
      [x, dy, auxGrad, scores as unknown as Tensor].forEach((t) => t.dispose());
      net.dispose();
    });
  }

  for (const frozen of [['conv1', 'conv2', 'bn1'], ['conv1', 'fc1'], ['conv1', 'conv2', 'bn1', 'fc1', 'fc2']]) {
    it(`training with [${frozen.join(', ')}] frozen: the same sequence, the frozen steps' saved state freed at once`, () => {
      const net = new Net(spec, { backend: referenceBackend, seed: 1, frozen });
      const x = Tensor.zeros([batch, 3, 8, 8]);
      const dy = Tensor.zeros([batch, 3]);
      const auxGrad = Tensor.zeros([batch, 5]);
      let scores: Tensor | null = null;
      const forward = trackerEvents(() => (scores = net.forward(x, { training: true })));
      const backward = trackerEvents(() => net.backward(dy, { auxGrads: [auxGrad] }));
      const schedule = buildSchedule(buildGraph(spec), { training: true, fusions: NO_FUSION, frozen: new Set(frozen) });
      const replay = new ScheduleReplay(batch, 'float32', referenceWorkspace);
      const ledger = recordLedger(replay);
      const input = replay.batched('data', spec.input);
      let state: ReturnType<ScheduleReplay['forward']> | null = null;
      assert.deepEqual(ledger.during(() => (state = replay.forward(schedule, input))), forward);
      assert.deepEqual(ledger.during(() => replay.backward(schedule, state as NonNullable<typeof state>)), backward);
      // Nothing taped outlives backward: what the pass left allocated is the scores and the trained parameters' gradients.
      const gradBytes = net.trainableParams().reduce((sum, p) => sum + (p.grad?.data.byteLength ?? 0), 0);
      const total = (events: number[]): number => events.reduce((a, b) => a + b, 0);
      assert.equal(total(forward) + total(backward), (scores as unknown as Tensor).data.byteLength + gradBytes);
      [x, dy, auxGrad, scores as unknown as Tensor].forEach((t) => t.dispose());
      net.dispose();
    });
  }

  it('inference: the same sequence, auxiliary head and saved state freed at once', () => {
    const net = new Net(spec, { backend: referenceBackend, seed: 1 });
    const x = Tensor.zeros([batch, 3, 8, 8]);
    let scores: Tensor | null = null;
    const measured = trackerEvents(() => (scores = net.forward(x)));
    const replay = new ScheduleReplay(batch, 'float32', referenceWorkspace);
    const input = replay.batched('data', spec.input);
    assert.deepEqual(recordLedger(replay).during(() => replay.forward(buildSchedule(buildGraph(spec), { training: false, fusions: NO_FUSION }), input)), measured);
    assert.ok(measured.length >= 20);
    x.dispose();
    (scores as unknown as Tensor).dispose();
    net.dispose();
  });
});

describe('a fused CONV+RELU: Net and the replay take the same schedule', () => {
  // A backend with a fused kernel: the reference conv, then ReLU in place, so that it allocates the
  // output and the conv's patches, as its workspace model says.
  const fused: Backend = {
    ...referenceBackend,
    name: 'reference+fused',
    conv2dRelu(x, weight, bias, attrs) {
      const y = referenceBackend.conv2d(x, weight, bias, attrs);
      for (let i = 0; i < y.size; i++) y.data[i] = Math.max(0, y.data[i] as number);
      return y;
    },
  };
  const fusedWorkspace: WorkspaceModel = { workspace: (kernel, call) => referenceWorkspace.workspace(kernel === 'conv2dRelu' ? 'conv2d' : kernel, call) };
  const spec = compile('INPUT[8x8x3] -> CONV3-4 -> RELU -> RES[ CONV3-4 -> RELU ] -> POOL2 -> FC-3').spec;

  it('training: the fused steps\' allocations and frees, the RELU gradient inside the fused backward included', () => {
    const net = new Net(spec, { backend: fused, seed: 1 });
    const x = Tensor.zeros([2, 3, 8, 8]);
    const dy = Tensor.zeros([2, 3]);
    let scores: Tensor | null = null;
    const forward = trackerEvents(() => (scores = net.forward(x, { training: true })));
    const backward = trackerEvents(() => net.backward(dy));
    const schedule = buildSchedule(buildGraph(spec), { training: true, fusions: fusionsOf(fused) });
    assert.deepEqual(schedule.forward.map((s) => s.op.type), ['conv+relu', 'conv+relu', 'add', 'maxpool', 'fc']);
    const replay = new ScheduleReplay(2, 'float32', fusedWorkspace);
    const ledger = recordLedger(replay);
    const input = replay.batched('data', spec.input);
    let state: ReturnType<ScheduleReplay['forward']> | null = null;
    assert.deepEqual(ledger.during(() => (state = replay.forward(schedule, input))), forward);
    assert.deepEqual(ledger.during(() => replay.backward(schedule, state as NonNullable<typeof state>)), backward);
    [x, dy, scores as unknown as Tensor].forEach((t) => t.dispose());
    net.dispose();
  });
});

describe('workspace a backend keeps between calls', () => {
  const spec = compile('INPUT[4x4x1] -> CONV3-2 -> CONV3-2 -> FC-2').spec;
  const schedule = buildSchedule(buildGraph(spec), { training: false, fusions: NO_FUSION });
  const retained = (conv: number, fc: number): WorkspaceModel => ({
    workspace: (kernel) => (kernel === 'conv2d' ? [{ bytes: conv, lifetime: 'retained' }] : kernel === 'linear' ? [{ bytes: fc, lifetime: 'retained' }] : []),
  });
  /** The events of 400 bytes and more: the workspace, here (no tensor is larger than 128 bytes). */
  const workspaceEvents = (model: WorkspaceModel): number[] => {
    const replay = new ScheduleReplay(1, 'float32', model);
    const ledger = recordLedger(replay);
    const input = replay.batched('data', spec.input);
    return ledger.during(() => replay.forward(schedule, input)).filter((bytes) => Math.abs(bytes) >= 400);
  };

  it('is allocated once at its largest request so far, and stays', () => {
    assert.deepEqual(workspaceEvents(retained(1000, 400)), [1000]);
  });

  it('grows as a backend grows it: the old block freed, the larger one allocated', () => {
    assert.deepEqual(workspaceEvents(retained(400, 1000)), [400, -400, 1000]);
  });
});
