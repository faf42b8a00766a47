import { spawnSync } from 'node:child_process';

/** Runs the CLI as a user does (`convstack ...args`) and returns its exit status and output. */
export function convstack(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
