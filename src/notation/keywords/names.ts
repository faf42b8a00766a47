/**
 * The notation's keywords by name: a leaf module, so that the AST can name them without importing
 * the entries (which read the AST's node types). `keywords/index.ts` holds one entry per name, and
 * its tables are checked against these lists, so the two cannot disagree.
 */

/** Layer keywords other than INPUT, in the order error messages list them. */
export const LAYER_NAMES = ['CONV', 'POOL', 'AVGPOOL', 'GAP', 'FC', 'RELU', 'BN', 'DROPOUT', 'LRN', 'SOFTMAX', 'FLATTEN', 'PAD', 'AFFINE', 'LEAKYRELU', 'ADAPTIVEPOOL'] as const;
/** A keyword that makes a layer, INPUT included (it is written as one, though it makes no node). */
export type LayerKeyword = 'INPUT' | (typeof LAYER_NAMES)[number];

/** Keywords that take a bracketed body, in the order error messages list them. */
export const BLOCK_NAMES = ['RES', 'CONCAT', 'MUL', 'DIV', 'AUX'] as const;
/** A keyword that takes a bracketed body: RES, CONCAT, MUL, DIV, AUX. */
export type BlockKeyword = (typeof BLOCK_NAMES)[number];
