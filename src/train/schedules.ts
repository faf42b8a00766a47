/**
 * Learning-rate schedules as pure functions of the epoch, with torch.optim.lr_scheduler's formulas:
 * the loop sets `optimizer.lr = lrAt(schedule, baseLr, epoch)` before each epoch (epoch 0 first),
 * as calling `scheduler.step()` once per epoch does in PyTorch.
 */
export type Schedule =
  | { kind: 'constant' }
  /** StepLR: lr = base * gamma^floor(epoch / stepSize). */
  | { kind: 'step'; stepSize: number; gamma: number }
  /** CosineAnnealingLR: lr = etaMin + (base - etaMin) * (1 + cos(pi * epoch / tMax)) / 2. */
  | { kind: 'cosine'; tMax: number; etaMin: number };

/** The learning rate for `epoch` (0-based). */
export function lrAt(schedule: Schedule, baseLr: number, epoch: number): number {
  switch (schedule.kind) {
    case 'constant':
      return baseLr;
    case 'step':
      return baseLr * schedule.gamma ** Math.floor(epoch / schedule.stepSize);
    case 'cosine':
      return schedule.etaMin + ((baseLr - schedule.etaMin) * (1 + Math.cos((Math.PI * epoch) / schedule.tMax))) / 2;
  }
}

/**
 * Parses the CLI's `--schedule`: `constant`, `cosine` (over all epochs, to 0), `cosine:<etaMin>`,
 * `step:<stepSize>` (gamma 0.1) or `step:<stepSize>:<gamma>`.
 */
export function parseSchedule(text: string, epochs: number): Schedule {
  const [kind, ...args] = text.split(':');
  const nums = args.map(Number);
  const bad = (): never => {
    throw new Error(`bad --schedule '${text}' (use constant, cosine, cosine:<etaMin>, step:<stepSize> or step:<stepSize>:<gamma>)`);
  };
  if (nums.some((n) => !Number.isFinite(n) || n < 0)) bad();
  if (kind === 'constant' && nums.length === 0) return { kind: 'constant' };
  if (kind === 'cosine' && nums.length <= 1) return { kind: 'cosine', tMax: Math.max(1, epochs), etaMin: nums[0] ?? 0 };
  if (kind === 'step' && (nums.length === 1 || nums.length === 2) && Number.isInteger(nums[0]) && (nums[0] as number) > 0) {
    return { kind: 'step', stepSize: nums[0] as number, gamma: nums[1] ?? 0.1 };
  }
  return bad();
}
