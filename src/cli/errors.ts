/**
 * The CLI's last stop for errors: a user's mistake (bad spec, missing file, wrong shape) is printed
 * as one clear line and exits 1; there is no stack trace unless CONVSTACK_DEBUG is set.
 */
export function fail(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`convstack: ${message}\n`);
  if (process.env['CONVSTACK_DEBUG'] && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exit(1);
}

/** A warning on stderr: the command goes on, but the user should know (`convstack: warning: ...`). */
export { printWarning as warn } from '../data/errors.js';
