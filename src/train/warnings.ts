/**
 * Watches a run's losses for the two ways a run fails quietly: the loss stays at ln(C), where the net
 * predicts the prior whatever the image (dead ReLUs, or a learning rate too high or too low), or it
 * explodes in the first epoch, on its way to not-a-number. A run that goes on failing quietly would
 * otherwise print nothing but a test accuracy at chance after its last epoch.
 */

/** Within this fraction of ln(C), the mean loss is the prior's. */
const PRIOR_TOLERANCE = 0.02;
/** A first-epoch loss above this many times the larger of ln(C) and the first batch's loss has exploded. */
const EXPLOSION_FACTOR = 3;
/** The learning rate to suggest is the run's divided by this. */
const LR_DIVISOR = 10;

/** What to try, for a message: a lower learning rate than `lr` (or any, when it is 0). */
export function lowerLrAdvice(lr: number): string {
  if (lr === 0) return 'the learning rate is 0: give --lr';
  return `try a lower learning rate (--lr ${Number((lr / LR_DIVISOR).toPrecision(2))})`;
}

/**
 * Follows one run's softmax cross-entropy losses step by step; `afterEpoch` returns a warning the
 * first time an epoch's second half averaged ln(C), and `afterStep` the first time a step's loss
 * in the first epoch exploded. Each warning is given once per run.
 */
export class LossWatch {
  private readonly prior: number;
  private firstLoss = Number.NaN;
  private halfSum = 0;
  private halfCount = 0;
  private warnedPrior = false;
  private warnedExplosion = false;

  /** `classes` is C; `lr` goes into the advice. */
  constructor(
    classes: number,
    private readonly lr: number,
  ) {
    this.prior = Math.log(classes);
  }

  /** One step's loss; `step` and `steps` are its place in the epoch (1-based) and the epoch's length. */
  afterStep(epoch: number, step: number, steps: number, loss: number): string | null {
    if (Number.isNaN(this.firstLoss)) this.firstLoss = loss;
    if (step === 1) [this.halfSum, this.halfCount] = [0, 0];
    if (step > steps / 2) {
      this.halfSum += loss;
      this.halfCount++;
    }
    const limit = EXPLOSION_FACTOR * Math.max(this.prior, this.firstLoss);
    if (epoch !== 1 || this.warnedExplosion || !(loss > limit)) return null;
    this.warnedExplosion = true;
    return `the loss exploded in the first epoch: ${loss.toFixed(2)} at step ${step}, from ${this.firstLoss.toFixed(2)} at the first step (ln(C) = ${this.prior.toFixed(2)}); ${lowerLrAdvice(this.lr)}`;
  }

  /** At the end of an epoch. */
  afterEpoch(epoch: number): string | null {
    if (this.warnedPrior || this.halfCount === 0) return null;
    const mean = this.halfSum / this.halfCount;
    if (Math.abs(mean - this.prior) > PRIOR_TOLERANCE * this.prior) return null;
    this.warnedPrior = true;
    return (
      `the loss stays at ln(C) = ${this.prior.toFixed(3)} (${mean.toFixed(3)} over the second half of epoch ${epoch}): ` +
      `the net predicts the class frequencies whatever the image, so it is not learning; ${lowerLrAdvice(this.lr)}, ` +
      'or look for dead ReLUs (a layer whose outputs are all 0) and for inputs that are not normalised'
    );
  }
}
