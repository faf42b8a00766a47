import type { Command } from 'commander';
import { lint, renderDiagnostic } from '../notation/index.js';
import { countOf } from './format.js';
import { parseInputOption, readSpec, specBindings, type SpecOptions } from './model.js';

interface LintOptions extends SpecOptions {
  json?: boolean;
}

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
    .option('--classes <n>', 'class count of a zoo net (sets CLASSES)')
    .option('--json', 'print the diagnostics as JSON: { spec, errors, warnings, diagnostics: [...] }')
    .action(async (spec: string, options: LintOptions) => {
      const source = await readSpec(spec);
      const diagnostics = lint(source.text, {
        bindings: specBindings(source, options),
        ...(options.input !== undefined && { input: parseInputOption(options.input) }),
      });
      const errors = diagnostics.filter((d) => d.severity === 'error').length;
      const warnings = diagnostics.length - errors;
      if (errors > 0) process.exitCode = 1;
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ spec: source.origin, errors, warnings, diagnostics }, null, 2)}\n`);
        return;
      }
      for (const d of diagnostics) process.stdout.write(`${d.severity === 'error' ? `${source.origin}: ` : ''}${renderDiagnostic(d)}\n`);
      process.stdout.write(`${source.origin}: ${countOf(errors, 'error')}, ${countOf(warnings, 'warning')}\n`);
    });
}
