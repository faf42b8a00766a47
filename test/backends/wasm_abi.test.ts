import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import * as abi from '../../src/backends/wasm/abi.js';
import { writeConv, writeGemm, writePool, type ConvDescriptor, type GemmDescriptor, type PoolDescriptor } from '../../src/backends/wasm/descriptors.js';
import { KERNEL_ARGS, POOLED, pooledKernels } from '../../src/backends/wasm/exports.js';

// The ABI between asm/ and src/backends/wasm/: each descriptor writer stores every field at the
// offset abi.ts gives it, no two fields share a word, and the binaries export exactly the kernels of
// KERNEL_ARGS, each taking (tid, nt) and the arguments the table names.

/** The runtime's descriptor block holds 32 words (runtime.ts). */
const BLOCK_WORDS = 32;
/** Pooled kernels get their arguments through the thread pool's control block: 11 at most (threads.ts). */
const MAX_ARGS = 11;

/** Writes `fields` (distinct values) with `write`, then reads each back at the offset `offsetOf` names. */
function roundTrip<T extends object>(write: (block: Int32Array, fields: T) => void, fields: T, offsetOf: Record<keyof T, number>): void {
  const block = new Int32Array(BLOCK_WORDS).fill(-1);
  write(block, fields);
  const words = new Set<number>();
  for (const [name, offset] of Object.entries(offsetOf) as [keyof T & string, number][]) {
    assert.equal(offset % 4, 0, `${name}: offset ${offset} is not a whole word`);
    assert.ok(offset / 4 < BLOCK_WORDS, `${name}: offset ${offset} is past the descriptor block`);
    assert.ok(!words.has(offset), `${name}: offset ${offset} is another field's`);
    words.add(offset);
    const value = fields[name];
    assert.equal(block[offset / 4], typeof value === 'boolean' ? Number(value) : value, `${name} at offset ${offset}`);
  }
  assert.equal(block.filter((v) => v !== -1).length, words.size, 'the writer stores only the named fields');
}

describe('wasm ABI', () => {
  it('writeGemm stores each field at its G_* offset', () => {
    const fields: GemmDescriptor = { m: 11, n: 12, k: 13, a: 14, ars: 15, acs: 16, b: 17, brs: 18, bcs: 19, c: 20, ldc: 21, ccs: 22, bias: 23, mode: 24, mb: 25, nb: 26 };
    roundTrip(writeGemm, fields, {
      m: abi.G_M, n: abi.G_N, k: abi.G_K, a: abi.G_A, ars: abi.G_ARS, acs: abi.G_ACS, b: abi.G_B, brs: abi.G_BRS, bcs: abi.G_BCS,
      c: abi.G_C, ldc: abi.G_LDC, ccs: abi.G_CCS, bias: abi.G_BIAS, mode: abi.G_MODE, mb: abi.G_MB, nb: abi.G_NB,
    });
  });

  it('writeConv stores each field at its C_* offset', () => {
    const fields: ConvDescriptor = { n: 11, c: 12, h: 13, w: 14, o: 15, oh: 16, ow: 17, kh: 18, kw: 19, sh: 20, sw: 21, ph: 22, pw: 23, groups: 24, block: 25 };
    roundTrip(writeConv, fields, {
      n: abi.C_N, c: abi.C_C, h: abi.C_H, w: abi.C_W, o: abi.C_O, oh: abi.C_OH, ow: abi.C_OW, kh: abi.C_KH, kw: abi.C_KW,
      sh: abi.C_SH, sw: abi.C_SW, ph: abi.C_PH, pw: abi.C_PW, groups: abi.C_G, block: abi.C_NB,
    });
  });

  it('writePool stores each field at its P_* offset', () => {
    for (const includePad of [false, true]) {
      const fields: PoolDescriptor = { planes: 11, h: 12, w: 13, oh: 14, ow: 15, kh: 16, kw: 17, sh: 18, sw: 19, ph: 20, pw: 21, includePad };
      roundTrip(writePool, fields, {
        planes: abi.P_PLANES, h: abi.P_H, w: abi.P_W, oh: abi.P_OH, ow: abi.P_OW, kh: abi.P_KH, kw: abi.P_KW,
        sh: abi.P_SH, sw: abi.P_SW, ph: abi.P_PH, pw: abi.P_PW, includePad: abi.P_INCLUDE_PAD,
      });
    }
  });

  it('mode flags of one kind are distinct bits', () => {
    for (const flags of [[abi.ACC, abi.BIAS_ROW, abi.BIAS_COL, abi.RELU], [abi.SGD_MOMENTUM, abi.SGD_FIRST, abi.SGD_NESTEROV]]) {
      assert.equal(flags.reduce((a, b) => a | b, 0), flags.reduce((a, b) => a + b, 0));
      for (const f of flags) assert.equal(f & (f - 1), 0, `${f} is one bit`);
    }
  });

  for (const file of ['convstack-simd.wasm', 'convstack-relaxed.wasm']) {
    it(`${file} exports the kernels of KERNEL_ARGS, each with (tid, nt) and its arguments`, async () => {
      // Node 20 compiles relaxed SIMD only behind this flag (the runtime sets it the same way).
      setFlagsFromString('--experimental-wasm-relaxed-simd');
      const bytes = await readFile(new URL(`../../src/backends/wasm/build/${file}`, import.meta.url));
      const module = await WebAssembly.compile(bytes);
      const functions = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
      assert.deepEqual([...functions].sort(), [...POOLED].sort());
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared: true });
      const instance = await WebAssembly.instantiate(module, { env: { memory } });
      const kernels = pooledKernels(instance.exports as Record<string, unknown>);
      POOLED.forEach((name, i) => {
        assert.ok(KERNEL_ARGS[name].length <= MAX_ARGS, `${name} takes more arguments than the pool passes`);
        assert.equal(kernels[i]?.length, 2 + KERNEL_ARGS[name].length, name);
      });
    });
  }

  it('pooledKernels names the kernel a stale binary lacks or declares differently', () => {
    const exports: Record<string, unknown> = {};
    for (const name of POOLED) exports[name] = new Function(...['tid', 'nt', ...KERNEL_ARGS[name]], '');
    assert.equal(pooledKernels(exports).length, POOLED.length);
    exports.relu = (tid: number, nt: number, x: number, y: number): number => tid + nt + x + y;
    assert.throws(() => pooledKernels(exports), /wasm kernel relu takes 4 arguments where the glue passes 5: rebuild/);
    delete exports.gemm;
    assert.throws(() => pooledKernels(exports), /wasm binary has no kernel gemm: rebuild/);
  });
});
