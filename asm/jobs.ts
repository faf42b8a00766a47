// How a kernel's work is shared between the threads that all run it at once (see asm/index.ts).
import { JOB_COUNTER } from '../src/backends/wasm/abi';

/**
 * Takes the next job from the shared counter (an i32 at JOB_COUNTER the TS side zeroes before each
 * call): threads take jobs one at a time, so a thread that the OS preempts (other processes share
 * these cores) delays one job, not a fixed share. Which thread runs a job never changes its arithmetic.
 */
@inline
export function nextJob(): i32 {
  return atomic.add<i32>(JOB_COUNTER, 1);
}

/**
 * Splits `count` items into `nt` contiguous runs of whole vectors; returns [start, end) of run `tid`.
 * In i64: the pool cuts ranges into up to 8 pieces per thread, and vectors x tid can pass 2^31.
 */
@inline
export function runStart(count: i32, tid: i32, nt: i32): i32 {
  return <i32>((<i64>((count + 3) >> 2) * <i64>tid) / <i64>nt) << 2;
}
