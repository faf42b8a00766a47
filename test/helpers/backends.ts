import type { Backend } from '../../src/backends/backend.js';
import { availableBackends } from '../../src/backends/registry.js';

// One instance of every registered backend this runtime can open, for the whole test file.
const opened = await Promise.all(availableBackends().map((entry) => entry.create()));

/**
 * The backends every backend-agnostic test body runs on: the registry's, reference first. A test
 * loops over this list so that a new backend is checked by the same assertions as the reference one.
 */
export function testBackends(): Backend[] {
  return [...opened];
}
