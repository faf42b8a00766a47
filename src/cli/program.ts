import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { addExamples } from './examples.js';
import { registerMemory } from './memory.js';
import { registerRun } from './run.js';
import { registerTrain } from './train.js';
import { registerFinetune } from './finetune.js';
import { registerEval } from './eval.js';
import { registerPredict } from './predict.js';
import { registerSummary } from './summary.js';
import { registerLint } from './lint.js';
import { registerCompare } from './compare.js';
import { registerZoo } from './zoo.js';
import { registerConvert } from './convert.js';
import { registerExport } from './export.js';
import { registerServe } from './serve.js';
import { registerImport } from './import.js';

// NOTE: the same relative path from src/cli/program.ts (tsx) and dist/cli/program.js (the package).
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** The whole CLI: every command with its options, examples and `--version`, ready to parse. */
export function buildProgram(): Command {
  const program = new Command('convstack')
    .description('Design, size, train and run convolutional networks written in the notation of "ConvNet Architectures".')
    .version(version, '-V, --version', 'print the version')
    .showHelpAfterError();
  // Each command lives in its own file and adds itself here.
  registerRun(program);
  registerMemory(program);
  registerTrain(program);
  registerFinetune(program);
  registerEval(program);
  registerPredict(program);
  registerSummary(program);
  registerLint(program);
  registerCompare(program);
  registerZoo(program);
  registerConvert(program);
  registerExport(program);
  registerServe(program);
  registerImport(program);
  addExamples(program);
  return program;
}

/**
 * A spec that begins with a dash (`convstack summary '->'`) would be taken for an unknown option;
 * a leading space, which the notation skips, makes it an argument, so the notation's own error
 * (or the net) comes out. Options (`-h`, `--json`) and negative numbers (`-1`) are left alone.
 */
export function specsNotOptions(argv: string[]): string[] {
  return argv.map((arg, i) => (i >= 2 && /^-(?!-?[A-Za-z0-9]|-$)./.test(arg) ? ` ${arg}` : arg));
}
