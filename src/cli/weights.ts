import { readWeights } from '../io/pth/weights.js';
import type { Net } from '../net/net.js';
import { describeMismatch, isExactMatch, StateMismatchError, type StateMatch } from '../net/state.js';
import { warn } from './errors.js';

/** `--weights` help: which files, and that loading is strict. */
export const WEIGHTS_HELP = "weights by state_dict name (safetensors, or PyTorch .pth): exactly the net's, or the mismatches are listed and nothing runs";
/** `--partial` help. */
export const PARTIAL_HELP = 'with --weights: load the tensors that match, keep the seeded values for the rest, and list what was left out';

/**
 * `--weights file [--partial]`: loads the file's tensors into the net by name, strictly unless
 * `partial` (then what was left out is a warning on stderr). `--partial` without weights is an error.
 */
export async function loadWeightsOption(net: Net, command: string, file: string | undefined, partial: boolean): Promise<void> {
  if (file === undefined) {
    if (partial) throw new Error(`${command}: --partial applies to --weights; give the weights file`);
    return;
  }
  const state = await readWeights(file);
  let match: StateMatch;
  try {
    match = net.loadState(state, { partial });
  } catch (error) {
    throw error instanceof StateMismatchError ? new StateMismatchError(error.match, file) : error;
  }
  if (!isExactMatch(match)) warn(`${file}: loaded ${match.matching.length} of the net's ${net.params.size} tensors; left out:\n${describeMismatch(match)}`);
}
