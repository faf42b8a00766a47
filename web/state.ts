/** The page's state as it lives in the URL's hash, so that a link opens the same design. */
export interface PageState {
  spec: string;
  batch: number;
  optimizer: string;
  dtype: 'float32' | 'float64';
  budget: string;
}

export const DEFAULT_STATE: PageState = {
  spec: 'INPUT[32x32x3] -> [[CONV3-32 -> RELU]*2 -> POOL2]*3 -> [FC-512 -> RELU]*2 -> FC-10',
  batch: 64,
  optimizer: 'momentum',
  dtype: 'float32',
  budget: '12GiB',
};

/** The hash that holds `state`: `#spec=...&batch=...`. */
export function stateToHash(state: PageState): string {
  const params = new URLSearchParams({ spec: state.spec, batch: String(state.batch), optimizer: state.optimizer, dtype: state.dtype, budget: state.budget });
  return `#${params.toString()}`;
}

/** The state a hash holds; what it lacks (or holds wrongly) comes from the defaults. */
export function stateFromHash(hash: string): PageState {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const batch = Number(params.get('batch'));
  const dtype = params.get('dtype');
  return {
    spec: params.get('spec') ?? DEFAULT_STATE.spec,
    batch: Number.isInteger(batch) && batch >= 1 ? batch : DEFAULT_STATE.batch,
    optimizer: params.get('optimizer') ?? DEFAULT_STATE.optimizer,
    dtype: dtype === 'float64' || dtype === 'float32' ? dtype : DEFAULT_STATE.dtype,
    budget: params.get('budget') ?? DEFAULT_STATE.budget,
  };
}
