import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import * as abi from '../../src/backends/wasm/abi.js';
import { writeConv, writeGemm, writePool, type ConvGeometry, type GemmDescriptor, type GemmOperands, type PoolDescriptor } from '../../src/backends/wasm/descriptors.js';
import { KERNEL_ARGS, POOLED, pooledKernels } from '../../src/backends/wasm/exports.js';

// The ABI between asm/ and src/backends/wasm/: each descriptor writer stores every field at the
// offset abi.ts gives it, no two fields share a word, and the binaries export exactly the kernels of
// KERNEL_ARGS, each taking (tid, nt) and the arguments the table names.

/** The runtime's descriptor block holds 32 words (runtime.ts). */
const BLOCK_WORDS = 32;
/** Pooled kernels get their arguments through the thread pool's control block: 11 at most (threads.ts). */
const MAX_ARGS = 11;

/**
 * Writes `descriptor` with `write`, then reads each field back at its offset: `fields` names each
 * field's [offset, the value written] (distinct values, so a field at another's offset shows).
 */
function roundTrip<T>(write: (block: Int32Array, descriptor: T) => void, descriptor: T, fields: Record<string, [number, number]>): void {
  const block = new Int32Array(BLOCK_WORDS).fill(-1);
  write(block, descriptor);
  const words = new Set<number>();
  for (const [name, [offset, value]] of Object.entries(fields)) {
    assert.equal(offset % 4, 0, `${name}: offset ${offset} is not a whole word`);
    assert.ok(offset / 4 < BLOCK_WORDS, `${name}: offset ${offset} is past the descriptor block`);
    assert.ok(!words.has(offset), `${name}: offset ${offset} is another field's`);
    words.add(offset);
    assert.equal(block[offset / 4], value, `${name} at offset ${offset}`);
  }
  assert.equal(block.filter((v) => v !== -1).length, words.size, 'the writer stores only the named fields');
}

describe('wasm ABI', () => {
  it('writeGemm stores each field at its G_* offset', () => {
    const operands: GemmOperands = { m: 11, n: 12, k: 13, a: 14, ars: 15, acs: 16, b: 17, brs: 18, bcs: 19, c: 20, ldc: 21, ccs: 22, bias: 23 };
    const descriptor: GemmDescriptor = { operands, mode: 24, mb: 25, nb: 26 };
    roundTrip(writeGemm, descriptor, {
      m: [abi.G_M, 11], n: [abi.G_N, 12], k: [abi.G_K, 13], a: [abi.G_A, 14], ars: [abi.G_ARS, 15], acs: [abi.G_ACS, 16],
      b: [abi.G_B, 17], brs: [abi.G_BRS, 18], bcs: [abi.G_BCS, 19], c: [abi.G_C, 20], ldc: [abi.G_LDC, 21], ccs: [abi.G_CCS, 22],
      bias: [abi.G_BIAS, 23], mode: [abi.G_MODE, 24], mb: [abi.G_MB, 25], nb: [abi.G_NB, 26],
    });
  });

  it('writeConv stores each field at its C_* offset', () => {
    const geometry: ConvGeometry = { n: 11, c: 12, h: 13, w: 14, o: 15, oh: 16, ow: 17, kh: 18, kw: 19, sh: 20, sw: 21, ph: 22, pw: 23, groups: 24 };
    roundTrip(writeConv, { geometry, block: 25 }, {
      n: [abi.C_N, 11], c: [abi.C_C, 12], h: [abi.C_H, 13], w: [abi.C_W, 14], o: [abi.C_O, 15], oh: [abi.C_OH, 16], ow: [abi.C_OW, 17],
      kh: [abi.C_KH, 18], kw: [abi.C_KW, 19], sh: [abi.C_SH, 20], sw: [abi.C_SW, 21], ph: [abi.C_PH, 22], pw: [abi.C_PW, 23],
      groups: [abi.C_G, 24], block: [abi.C_NB, 25],
    });
  });

  it('writePool stores each field at its P_* offset', () => {
    for (const includePad of [false, true]) {
      const descriptor: PoolDescriptor = { planes: 11, h: 12, w: 13, oh: 14, ow: 15, kh: 16, kw: 17, sh: 18, sw: 19, ph: 20, pw: 21, includePad };
      roundTrip(writePool, descriptor, {
        planes: [abi.P_PLANES, 11], h: [abi.P_H, 12], w: [abi.P_W, 13], oh: [abi.P_OH, 14], ow: [abi.P_OW, 15], kh: [abi.P_KH, 16],
        kw: [abi.P_KW, 17], sh: [abi.P_SH, 18], sw: [abi.P_SW, 19], ph: [abi.P_PH, 20], pw: [abi.P_PW, 21],
        includePad: [abi.P_INCLUDE_PAD, includePad ? 1 : 0],
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
