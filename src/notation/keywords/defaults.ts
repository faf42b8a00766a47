/**
 * The documented defaults of bare layers. INPUT is a CIFAR-10 image (the notes' first example); a
 * bare CONV follows the notes' advice (3x3, stride 1, size-preserving padding); a bare POOL is the
 * notes' most common 2x2 max pool, stride 2; a bare FC is the 10 class scores when no FC follows
 * it, a hidden layer of 512 otherwise.
 */
export const DEFAULTS = {
  input: [3, 32, 32] as const,
  convFilter: 3,
  convFilters: 32,
  poolFilter: 2,
  hiddenFc: 512,
  classes: 10,
  bnEps: 1e-5,
  bnMomentum: 0.1,
  dropout: 0.5,
  lrn: { size: 5, alpha: 1e-4, beta: 0.75, k: 2 },
} as const;

