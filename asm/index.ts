/**
 * convstack's WebAssembly kernels (AssemblyScript, 128-bit SIMD): the module's entry, whose exports
 * are the kernels. Built twice by asm/build.mjs: a plain-SIMD binary (mul + add) and a relaxed-SIMD
 * binary whose multiply-adds are fused (`f32x4.relaxed_madd`); src/backends/wasm/ picks one with
 * WebAssembly.validate.
 *
 * Every exported kernel is called on every thread at once as `kernel(tid, nt, ...)`: the products
 * take jobs from a shared counter, the memory-bound kernels split their range by `tid` (jobs.ts);
 * no job depends on another, so there is no barrier inside a kernel. Results never depend on the
 * thread count: each output value is computed whole by one job, and reductions are blocked by sizes
 * fixed here (KC), never by the number of threads.
 * Pointers are byte offsets into the shared memory; the TS side (src/backends/wasm/) owns all
 * allocation, so this module has no runtime, no heap and no static data. Mode flags, tile sizes
 * and descriptor field offsets come from src/backends/wasm/abi.ts, which the TS side imports too.
 *
 * Kernels by file, and the reference each must match (src/backends/reference/):
 * - gemm.ts         gemm: linear, linearGradInput, linearGradWeight (strided operands cover the
 *                   transposes); tile.ts holds the 4x8 micro-kernels every product ends in
 * - conv.ts         convForward: conv2d, with fused bias and optional ReLU (conv2dRelu), or scale,
 *                   shift and optional ReLU (conv2dAffine); also conv2dGradInput for
 *                   stride 1 (the transposed convolution is a convolution with flipped filters)
 *                   convGradWeight: conv2dGradWeight
 *                   convGradInput: conv2dGradInput by col2im, for strides > 1 and convolutions that
 *                   shrink the image (im2col.ts packs the panels for the first two)
 * - conv_direct.ts  convForwardDirect, convGradWeightDirect: the same for stride 1 and small K, the
 *                   padded input rows read in place (no im2col)
 * - elementwise.ts  relu, reluGrad, add, biasGrad: the kernels of those names; scaleShift:
 *                   batchNormInfer (one scale and shift per channel) and the end of conv2dAffine
 *                   run as a linear layer; sgdUpdate: the Backend's
 *                   optional sgdUpdate (torch.optim.SGD, in place)
 * - pooling.ts      maxPool (also maxPool2dValues: no argmax), maxPoolGrad, avgPool, avgPoolGrad:
 *                   the kernels of those names
 * - batchnorm.ts    batchNormTrain, batchNormGrad: the kernels of those names
 */
export { gemm } from './gemm';
export { convForward, convGradWeight, convGradInput } from './conv';
export { convForwardDirect, convGradWeightDirect } from './conv_direct';
export { relu, reluGrad, add, biasGrad, scaleShift, sgdUpdate } from './elementwise';
export { maxPool, maxPoolGrad, avgPool, avgPoolGrad } from './pooling';
export { batchNormTrain, batchNormGrad } from './batchnorm';
