import type { Backend } from '../../backends/backend.js';
import type { Parameter } from '../../net/net.js';
import { Adagrad } from './adagrad.js';
import { Adam } from './adam.js';
import type { Optimizer } from './optimizer.js';
import { Rmsprop } from './rmsprop.js';
import { Sgd } from './sgd.js';

export { Sgd, type SgdOptions } from './sgd.js';
export { Adagrad, type AdagradOptions } from './adagrad.js';
export { Rmsprop, type RmspropOptions } from './rmsprop.js';
export { Adam, type AdamOptions } from './adam.js';
export type { Optimizer, OptimizerState } from './optimizer.js';

/** The optimizers by the names the CLI and checkpoints use. */
export const OPTIMIZER_NAMES = ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam', 'adamw'] as const;
/** One of OPTIMIZER_NAMES. */
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/**
 * Every optimizer's hyperparameters in one record; each optimizer reads the ones it has (torch's
 * defaults for the rest). `momentum` defaults to 0.9 for `momentum` and `nesterov`.
 */
export interface OptimizerOptions {
  /** Learning rate (the base rate the schedule scales). */
  lr: number;
  /** SGD momentum, RMSprop momentum. */
  momentum?: number;
  /** SGD dampening. */
  dampening?: number;
  /** L2 penalty (AdamW: decoupled decay), for every optimizer. */
  weightDecay?: number;
  /** Adam's moment decay rates. */
  betas?: readonly [number, number];
  /** Adagrad's, RMSprop's and Adam's denominator guard. */
  eps?: number;
  /** RMSprop's smoothing. */
  alpha?: number;
  /** Adagrad's learning-rate decay. */
  lrDecay?: number;
  /** Adagrad's starting sum of squares. */
  initialAccumulatorValue?: number;
  /** The parameters' backend (`net.backend`): SGD runs its update there when it has `sgdUpdate`. */
  backend?: Backend;
}

/** `T` with every field optional and never `undefined`, as exactOptionalPropertyTypes wants options. */
type Defined<T> = { [K in keyof T]?: Exclude<T[K], undefined> };

/** `fields` without the ones that are undefined, to spread into an optimizer's options. */
function defined<T extends object>(fields: T): Defined<T> {
  const kept: Partial<Record<keyof T, unknown>> = {};
  for (const key of Object.keys(fields) as (keyof T)[]) if (fields[key] !== undefined) kept[key] = fields[key];
  return kept as Defined<T>;
}

/** Builds the named optimizer over `params` (normally `net.trainableParams()`). */
export function createOptimizer(name: OptimizerName, params: readonly Parameter[], o: OptimizerOptions): Optimizer {
  const common = { lr: o.lr, ...defined({ weightDecay: o.weightDecay }) };
  const eps = defined({ eps: o.eps });
  switch (name) {
    case 'sgd':
      return new Sgd(params, { ...common, ...defined({ backend: o.backend }) });
    case 'momentum':
    case 'nesterov':
      return new Sgd(params, {
        ...common,
        momentum: o.momentum ?? 0.9,
        nesterov: name === 'nesterov',
        ...defined({ backend: o.backend, dampening: o.dampening }),
      });
    case 'adagrad':
      return new Adagrad(params, { ...common, ...eps, ...defined({ lrDecay: o.lrDecay, initialAccumulatorValue: o.initialAccumulatorValue }) });
    case 'rmsprop':
      return new Rmsprop(params, { ...common, ...eps, ...defined({ alpha: o.alpha, momentum: o.momentum }) });
    case 'adam':
    case 'adamw':
      return new Adam(params, { ...common, ...eps, ...defined({ betas: o.betas }) }, { decoupled: name === 'adamw' });
  }
}

/** Narrows a user's string to an optimizer name, or says which names exist. */
export function parseOptimizerName(name: string): OptimizerName {
  const found = OPTIMIZER_NAMES.find((n) => n === name);
  if (found === undefined) throw new Error(`unknown optimizer '${name}' (choose one of ${OPTIMIZER_NAMES.join(', ')})`);
  return found;
}
