import type { Command } from 'commander';
import { lint, renderDiagnostic } from '../notation/index.js';
import { parseInputOption, parseSetOption, readSpec, type SpecOptions } from './model.js';

/**
 * `convstack lint <spec>`: warnings where a net departs from the notes' rules of thumb, each citing
 * the rule; exit 1 when the spec does not make a net at all.
 */
export function registerLint(program: Command): void {
  program
    .command('lint <spec>')
    .description("check a net against the notes' rules of thumb for sizing; exit 1 on errors")
    .option('--input <HxWxC>', 'input volume, overriding INPUT')
    .option('--set <vars>', "values for the spec's variables, e.g. N=2,M=3")
    .action(async (spec: string, options: SpecOptions) => {
      const source = await readSpec(spec);
      const diagnostics = lint(source.text, {
        bindings: { ...source.bindings, ...(options.set !== undefined && parseSetOption(options.set)) },
        ...(options.input !== undefined && { input: parseInputOption(options.input) }),
      });
      for (const d of diagnostics) process.stdout.write(`${d.severity === 'error' ? `${source.origin}: ` : ''}${renderDiagnostic(d)}\n`);
      const errors = diagnostics.filter((d) => d.severity === 'error').length;
      const warnings = diagnostics.length - errors;
      process.stdout.write(`${source.origin}: ${errors} error(s), ${warnings} warning(s)\n`);
      if (errors > 0) process.exitCode = 1;
    });
}
