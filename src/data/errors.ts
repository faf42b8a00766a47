/** A dataset could not be read: a missing folder, an unreadable image, a file of the wrong size. Names the file. */
export class DataError extends Error {
  override name = 'DataError';
}

/**
 * Where the data readers' warnings go unless the caller says otherwise: stderr, in the CLI's words
 * (`convstack: warning: ...`), so that `train`, `eval` and `predict` say the same thing.
 */
export function printWarning(message: string): void {
  process.stderr.write(`convstack: warning: ${message}\n`);
}
