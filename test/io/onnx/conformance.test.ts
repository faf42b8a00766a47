import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { Net } from '../../../src/net/net.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { decodeModel, IMPORTERS, importOnnx } from '../../../src/io/onnx/import.js';
import { OnnxError } from '../../../src/io/onnx/errors.js';
import { TensorProtoSchema } from '../../../src/io/onnx/onnx_pb.js';
import { readTensor, type ConstTensor } from '../../../src/io/onnx/tensor.js';

// The ONNX project's own backend test cases (Debian libonnx-testdata, ONNX 1.12): every node case and
// every pytorch-converted case whose ops are all ones convstack imports. A case that imports must give
// the expected outputs within ONNX's tolerance, |a - e| <= 1e-7 + 1e-3 |e|; a case that does not
// import must fail with an OnnxError (never a crash), and is listed with its reason.
//
// NOTE: a convstack net has one input, its axis 0 the batch, so the cases' later graph inputs are fed
// as constants. That is right for weights, but the element-wise cases (test_add, test_mul, ...) give
// x and y as two data inputs of one shape: y is then a constant that varies along x's batch axis,
// which no net holds (its constants are the same for every image), and the _bcast cases' y of shape
// (5,) varies along the last axis of x's per-image (4, 5), which AFFINE (one value per channel) does
// not scale. The MUL and DIV joins multiply and divide two values a net computes from its one input
// (test/io/onnx/arithmetic.test.ts); these cases are listed with that reason.

const DATA = '/usr/share/libonnx-testdata/data';

interface Case {
  name: string;
  dir: string;
}

function cases(): Case[] {
  return ['node', 'pytorch-converted'].flatMap((group) =>
    readdirSync(join(DATA, group))
      .sort()
      .map((name) => ({ name: `${group}/${name}`, dir: join(DATA, group, name) })),
  );
}

/** The op types of a case's graph, when every one is an op convstack imports; else null. */
function importableOps(model: Uint8Array, name: string): string[] | null {
  const ops = (decodeModel(model, name).graph?.node ?? []).map((n) => n.opType);
  return ops.length > 0 && ops.every((op) => op in IMPORTERS) ? ops : null;
}

function readPb(file: string): ConstTensor {
  return readTensor(fromBinary(TensorProtoSchema, readFileSync(file)), file, null);
}

test('ONNX backend test cases of the imported ops give the expected outputs', { skip: !existsSync(DATA) && 'libonnx-testdata is not installed' }, () => {
  let ran = 0;
  const skipped: string[] = [];
  const failures: string[] = [];
  for (const c of cases()) {
    const modelBytes = readFileSync(join(c.dir, 'model.onnx'));
    if (importableOps(modelBytes, c.name) === null) continue;
    const set = join(c.dir, 'test_data_set_0');
    // Inputs after the first (weights, pads, shapes) are values known at import, as initializers.
    const graphInputs = decodeModel(modelBytes, c.name).graph?.input.map((v) => v.name) ?? [];
    let imported;
    let known: Map<string, ConstTensor> = new Map();
    try {
      known = new Map(graphInputs.slice(1).flatMap((name, k) => {
        const file = join(set, `input_${k + 1}.pb`);
        return existsSync(file) ? [[name, readPb(file)] as const] : [];
      }));
      imported = importOnnx(modelBytes, { file: c.name, known });
    } catch (error) {
      assert.ok(error instanceof OnnxError, `${c.name}: ${(error as Error).stack}`);
      const fed = known.size === 0 ? '' : ` (graph input${known.size === 1 ? '' : 's'} ${[...known.keys()].join(', ')} fed as ${known.size === 1 ? 'a constant' : 'constants'})`;
      skipped.push(`${c.name}${fed}: ${error.message.replace(`${c.name}: `, '').replace(`${set}/`, '')}`);
      continue;
    }
    const x = readPb(join(set, 'input_0.pb'));
    const expected = readPb(join(set, 'output_0.pb'));
    const net = new Net(imported.spec);
    net.loadState(imported.weights);
    const y = net.forward(Tensor.from(x.dims, x.data, 'float32'));
    ran++;
    const bad = [...expected.data].findIndex((e, i) => !(Math.abs((y.data[i] as number) - e) <= 1e-7 + 1e-3 * Math.abs(e)));
    if (y.size !== expected.data.length) failures.push(`${c.name}: ${y.size} values, expected ${expected.data.length}`);
    else if (bad >= 0) failures.push(`${c.name}: value ${bad} is ${y.data[bad]}, expected ${expected.data[bad]}`);
    net.dispose();
  }
  console.log(`ONNX conformance: ${ran} cases ran, ${skipped.length} skipped`);
  for (const s of skipped) console.log(`  skipped ${s}`);
  assert.deepEqual(failures, []);
  assert.ok(ran >= 81, `only ${ran} cases ran (81 do: 73 before dilated Conv and MaxPool and Softmax over one axis of a volume)`);
});
