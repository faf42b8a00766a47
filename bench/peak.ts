import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The machine's fp32 FMA peak as bench/peak/fma_peak.c measures it (`gflops1` on one thread,
 * `gflops` on `threads` at once), or why it could not.
 */
export type FmaPeak = { isa: string; threads: number; gflops1: number; gflops: number } | { skip: string };

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
 * Compiles bench/peak/fma_peak.c with the system's `cc` in a temporary directory and runs it on
 * `threads` threads (about 0.5 s in all). Skips, saying why, where there is no C compiler or the
 * CPU has neither AVX-512 nor AVX2 with FMA.
 */
export function measureFmaPeak(threads: number): FmaPeak {
  const directory = mkdtempSync(join(tmpdir(), 'convstack-bench-peak-'));
  try {
    const binary = join(directory, 'fma_peak');
    const build = spawnSync('cc', ['-O2', '-pthread', SOURCE, '-o', binary], { encoding: 'utf8' });
    if (build.error !== undefined) return { skip: `no C compiler (cc: ${build.error.message})` };
    if (build.status !== 0) return { skip: `cc failed: ${build.stderr.split('\n')[0]}` };
    const run = spawnSync(binary, [String(threads)], { encoding: 'utf8' });
    if (run.status !== 0) return { skip: `the probe failed (exit ${run.status})` };
    const result = JSON.parse(run.stdout) as FmaPeak & { isa: string };
    return result.isa === 'none' ? { skip: 'the CPU has neither AVX-512 nor AVX2 with FMA' } : result;
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
