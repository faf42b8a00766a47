import { test } from 'node:test';
import assert from 'node:assert/strict';
import { candidateFixes, sizingFixes } from '../../web/fixes.js';
import { summary, NotationError } from '../../src/browser.js';

const sizes = (text: string): boolean => {
  try {
    summary(text);
    return true;
  } catch {
    return false;
  }
};

/** The location of the sizing error `source` raises. */
function sizingError(source: string): { offset: number; end: number } {
  try {
    summary(source);
  } catch (error) {
    if (error instanceof NotationError && error.kind === 'sizing') return error.location;
    throw error;
  }
  throw new Error(`${source} sizes`);
}

test('the quick fixes offered for a sizing error each give a net that sizes', () => {
  const cases = [
    // (33 - 3 + 2*0)/4 + 1 = 8.5; with p=1, (33 - 3 + 2)/4 + 1 = 9
    ['INPUT[33x33x3] -> CONV3-8(s=4, p=0) -> FC-10', ['CONV3-8(s=4, p=1)', 'CONV3-8(s=1, p=0)', 'CONV3-8(s=4, p=0, floor)', 'CONV3-8(s=4, p=0, ceil)']],
    ['INPUT[32x32x3] -> CONV5-8(s=2) -> FC-10', ['CONV5-8(s=1)', 'CONV5-8(s=2, floor)', 'CONV5-8(s=2, ceil)']],
    ['INPUT[32x32x3] -> CONV3-8 -> POOL3 -> FC-10', ['POOL3(floor)', 'POOL3(ceil)']],
  ] as const;
  for (const [source, expected] of cases) {
    const { offset, end } = sizingError(source);
    const fixes = sizingFixes(source, offset, end, sizes);
    assert.deepEqual(fixes.map((f) => f.text), expected, source);
    for (const fix of fixes) assert.ok(sizes(source.slice(0, offset) + fix.text + source.slice(end)), `${source}: ${fix.label}`);
  }
});

test('a candidate that does not make the net size is not offered', () => {
  const source = 'INPUT[32x32x3] -> CONV5-8(s=2) -> FC-10';
  const { offset, end } = sizingError(source);
  assert.ok(candidateFixes(source.slice(offset, end)).some((f) => f.text === 'CONV5-8(s=2, p=2)'), 'padding is a candidate');
  assert.ok(!sizingFixes(source, offset, end, sizes).some((f) => f.text === 'CONV5-8(s=2, p=2)'), 'but p=2 is the default and still gives 16.5');
  assert.deepEqual(candidateFixes('CONV4-8(floor)'), [], 'an even filter has no centring padding, and it rounds already');
});
