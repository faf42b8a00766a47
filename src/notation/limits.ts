/**
 * The documented limits of the notation (docs/notation.md, "Limits"). Each keeps a hostile or
 * mistaken text from exhausting the stack, the memory or the time, and is reported as a
 * NotationError at the place in the text that exceeds it.
 */

/** How deep brackets (`[`, `RES[`, `CONCAT[`, `AUX[`) may nest in the text. */
export const MAX_NESTING = 100;

/** How deep brackets may nest once blocks are expanded (a block's brackets add to its caller's). */
export const MAX_EXPANDED_NESTING = 500;

/** How deep blocks may call blocks; deeper means a block calls itself. */
export const MAX_BLOCK_DEPTH = 64;

/** The most layers one text may expand to; stops `[...]*1000000` before it eats the memory. */
export const MAX_LAYERS = 100_000;

/** The most parts desugaring visits, switched-off ones included: stops `[[X?]*100000]*100000`. */
export const MAX_EXPANSION_STEPS = 1_000_000;

/**
 * The most values one tensor can hold (a typed array's limit). A number written in the text that
 * counts or sizes something beyond it, or a layer whose output or weights would exceed it, is an error.
 */
export const MAX_TENSOR_VALUES = 2 ** 32 - 1;
