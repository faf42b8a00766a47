/**
 * What a backend allocates inside its kernels besides their outputs: the contract between a backend
 * and the step schedule (`schedule.ts`). The memory estimate asks the backend that will run the net
 * for each kernel call's workspace, so the estimate of `convstack memory` follows that backend's
 * kernels: the reference backend's im2row patches and float64 sums (`backends/reference/workspace.ts`),
 * the wasm backend's tiles and scratch.
 */
import type { KernelName } from '../ops/op.js';
import type { Shape } from '../tensor/shape.js';
import type { DType } from '../tensor/tensor.js';

export type { KernelName } from '../ops/op.js';

/** One kernel call, as the schedule knows it before anything runs. */
export interface KernelCall {
  /**
   * The calling op's forward inputs, batched: (N, C, H, W) or (N, F). Backward kernels get the same
   * shapes as the forward ones of their op (conv2dGradInput's x is inputs[0], its dy has `output`'s shape).
   */
  inputs: readonly Shape[];
  /** The calling op's forward output, batched. */
  output: Shape;
  /** The attrs the kernel is called with: the op's own (Conv2dAttrs, ...), or global average pooling's whole-plane window. */
  attrs: unknown;
  /** The tensors' element type. */
  dtype: DType;
}

/**
 * When a workspace buffer exists, relative to the buffers the kernel returns:
 * - `beforeOutput`: allocated before the kernel's outputs, freed when the kernel returns;
 * - `afterOutput`: allocated after its outputs, freed when the kernel returns;
 * - `retained`: kept by the backend after the call for later calls, grown to the largest request and
 *   never shrunk (a per-thread tile area). Requested after the outputs; counted only where it grows.
 * Buffers freed when the kernel returns are freed in the order they were allocated.
 */
export type WorkspaceLifetime = 'beforeOutput' | 'afterOutput' | 'retained';

/** One scratch buffer of one kernel call. */
export interface WorkspaceBuffer {
  /** Its size in bytes. */
  bytes: number;
  /** When it is freed relative to the kernel's output. */
  lifetime: WorkspaceLifetime;
  /** The width of the numbers it holds (8 for float64 sums), for the breakdown in values; default 1 (counted as bytes). */
  bytesPerValue?: number;
}

/** A backend's description of its kernels' scratch memory, in the order each kernel allocates it. */
export interface WorkspaceModel {
  /** The scratch buffers `kernel` allocates for `call` ([] for none). */
  workspace(kernel: KernelName, call: KernelCall): readonly WorkspaceBuffer[];
}
