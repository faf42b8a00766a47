import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeAddon } from '../src/backends/native/addon.js';

/**
 * The machine's fp32 FMA peak (`gflops1` on one thread, `gflops` on `threads` at once) and what
 * measured it (`source`: the native addon's loop or bench/peak/fma_peak.c), or why it could not.
 */
export type FmaPeak = { isa: string; threads: number; gflops1: number; gflops: number; source: string } | { skip: string };

/**
 * The peak that fractions are taken of: the all-threads figure, but at least `threads` times the
 * one-thread figure. NOTE: on a shared machine the all-threads loop often runs beside another
 * process and measures low, which would flatter every fraction.
 */
export function peakGflops(peak: { threads: number; gflops1: number; gflops: number }): number {
  return Math.max(peak.gflops, peak.threads * peak.gflops1);
}

const SOURCE = fileURLToPath(new URL('./peak/fma_peak.c', import.meta.url));

/**
 * The FMA peak from the native addon's register-only loop (`fmaPeak`, the loop its kernels are
 * measured against), or null where the addon is not available.
 */
function nativeFmaPeak(threads: number): FmaPeak | null {
  const { addon } = nativeAddon();
  if (addon === null) return null;
  const gflops = (t: number): number => Math.round(addon.fmaPeak(addon.createContext(t, 0, 'best')) * 10) / 10;
  const gflops1 = gflops(1);
  return { isa: addon.info().kernel.split(' ')[0] as string, threads, gflops1, gflops: gflops(threads), source: 'the native addon' };
}

/**
 * The machine's FMA peak on one and on `threads` threads: from the native addon where it is built
 * (about 0.2 s), else by compiling bench/peak/fma_peak.c with the system's `cc` in a temporary
 * directory (about 0.5 s in all). Skips, saying why, where neither can run or the CPU has neither
 * AVX-512 nor AVX2 with FMA.
 */
export function measureFmaPeak(threads: number): FmaPeak {
  return nativeFmaPeak(threads) ?? probeFmaPeak(threads);
}

function probeFmaPeak(threads: number): FmaPeak {
  const directory = mkdtempSync(join(tmpdir(), 'convstack-bench-peak-'));
  try {
    const binary = join(directory, 'fma_peak');
    const build = spawnSync('cc', ['-O2', '-pthread', SOURCE, '-o', binary], { encoding: 'utf8' });
    if (build.error !== undefined) return { skip: `no C compiler (cc: ${build.error.message})` };
    if (build.status !== 0) return { skip: `cc failed: ${build.stderr.split('\n')[0]}` };
    const run = spawnSync(binary, [String(threads)], { encoding: 'utf8' });
    if (run.status !== 0) return { skip: `the probe failed (exit ${run.status})` };
    const result = JSON.parse(run.stdout) as { isa: string; threads: number; gflops1: number; gflops: number };
    return result.isa === 'none' ? { skip: 'the CPU has neither AVX-512 nor AVX2 with FMA' } : { ...result, source: 'bench/peak/fma_peak.c' };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** The vector extensions that matter for float32 kernels, as /proc/cpuinfo lists them. */
const SIMD_FLAGS = ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16', 'avx512_fp16', 'amx_tile'];

/** "CPU model, N cores (SIMD flags)": from /proc/cpuinfo on Linux, Node's os.cpus() elsewhere. */
export function describeMachine(): string {
  const model = cpus()[0]?.model ?? 'unknown CPU';
  let flags: string[] = [];
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags')) ?? '';
    const present = new Set(line.split(':')[1]?.trim().split(/\s+/));
    flags = SIMD_FLAGS.filter((f) => present.has(f));
  } catch {
    // NOTE: no /proc/cpuinfo (macOS, Windows): the header goes without the flags.
  }
  return `${model}, ${availableParallelism()} cores${flags.length > 0 ? ` (${flags.join(' ')})` : ''}`;
}
