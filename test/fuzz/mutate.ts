/**
 * Byte-level mutations for fuzzing the file readers: truncations, bit flips, random overwrites,
 * numbers pushed to their limits (2^32 - 1, 2^63, 2^64 - 1) at random places, insertions and
 * deletions. Seeded, so that every run of `npm test` sees the same files.
 */

/** How many cases a fuzzer tries: a few hundred in `npm test`, FUZZ_RUNS under `npm run fuzz`. */
export function fuzzRuns(bounded: number): number {
  const asked = process.env['FUZZ_RUNS'];
  return asked === undefined ? bounded : Math.max(bounded, Number(asked));
}

/** The seed of every fuzzer (FUZZ_SEED picks another). */
export const FUZZ_SEED = Number(process.env['FUZZ_SEED'] ?? 20261202);

/** mulberry32: a small seeded generator in [0, 1). */
export function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Little-endian byte patterns of numbers at the edges: lengths and counts that overflow. */
const EXTREMES: readonly number[][] = [
  [0xff, 0xff, 0xff, 0xff],
  [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0, 0, 0, 0, 0, 0, 0, 0x80],
  [0xf8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
  [0, 0, 0, 0x80],
  [0, 0, 0, 0],
  [0xff, 0xff],
];

/** One mutant of `bytes`: one to three edits, sometimes confined to the first `head` bytes (the header). */
export function mutateBytes(bytes: Uint8Array, random: () => number, head = bytes.length): Uint8Array {
  const int = (n: number): number => Math.floor(random() * n);
  let out: Uint8Array = Uint8Array.from(bytes);
  const edits = 1 + int(3);
  for (let e = 0; e < edits; e++) {
    const span = random() < 0.6 ? Math.min(head, out.length) : out.length;
    const at = int(Math.max(span, 1));
    switch (int(6)) {
      case 0:
        out = out.subarray(0, int(out.length + 1));
        break;
      case 1:
        for (let k = 1 + int(8); k > 0 && out.length > 0; k--) {
          const i = int(span);
          out[i] = (out[i] as number) ^ (1 << int(8));
        }
        break;
      case 2:
        for (let k = 1 + int(16); k > 0 && at + k - 1 < out.length; k--) out[at + k - 1] = int(256);
        break;
      case 3: {
        const pattern = EXTREMES[int(EXTREMES.length)] as number[];
        pattern.forEach((b, k) => {
          if (at + k < out.length) out[at + k] = b;
        });
        break;
      }
      case 4: {
        const inserted = Uint8Array.from({ length: 1 + int(32) }, () => int(256));
        out = concat(out.subarray(0, at), inserted, out.subarray(at));
        break;
      }
      default:
        out = concat(out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + int(32))));
    }
  }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Mutates a JSON or notation text: a character dropped, doubled or replaced, or a number made huge. */
export function mutateText(text: string, random: () => number): string {
  const int = (n: number): number => Math.floor(random() * n);
  const at = int(text.length + 1);
  const pieces = ['9999999999', '1e999', '-1', 'null', '"x"', '[', ']', '{', '}', ',', ':', '"', 'NaN', '0', '[[[[[[[[', '\u0000', '😀'];
  switch (int(5)) {
    case 0:
      return text.slice(0, at) + text.slice(at + 1);
    case 1:
      return text.slice(0, at) + text.slice(at, at + 1).repeat(2) + text.slice(at + 1);
    case 2:
      return text.slice(0, at) + (pieces[int(pieces.length)] as string) + text.slice(at + 1);
    case 3:
      return text.replace(/\d+(\.\d+)?/g, (n) => (random() < 0.3 ? (pieces[int(3)] as string) : n));
    default:
      return text.slice(0, at);
  }
}

/** Asserts what every reader promises of an error: its own type, one line, naming the file first. */
export function checkReaderError(error: unknown, file: string, types: readonly (abstract new (...args: never[]) => Error)[], what: string): void {
  const ok = types.some((type) => error instanceof type);
  if (!ok) throw new Error(`${what}: threw ${error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error)}`);
  const message = (error as Error).message;
  if (message.includes('\n')) throw new Error(`${what}: the error spans lines: ${JSON.stringify(message)}`);
  if (!message.includes(file)) throw new Error(`${what}: the error does not name ${file}: ${message}`);
}
