import type { Command } from 'commander';
import { renderSummary } from '../notation/index.js';
import { summarize } from '../notation/summary.js';
import { compileSpec, type SpecOptions } from './model.js';

interface SummaryOptions extends SpecOptions {
  json?: boolean;
}

/**
 * `convstack summary <spec|zoo name> [--input HxWxC] [--set N=2,...] [--json]`: the notes' per-layer
 * table (output volume, activations, weights, biases, multiply-adds, receptive field) and totals.
 */
export function registerSummary(program: Command): void {
  program
    .command('summary <spec>')
    .description('the per-layer table of a net (notation text, a file holding it, or a zoo name), as the notes draw it for VGGNet')
    .option('--input <HxWxC>', 'input volume, overriding INPUT, e.g. 64x64x3')
    .option('--set <vars>', "values for the spec's variables, e.g. N=2,M=3,K=1,POOL=1")
    .option('--classes <n>', 'class count of a zoo net (sets CLASSES), e.g. 3')
    .option('--json', 'print the table as JSON: { layers: [...], totals: {...} }')
    .action(async (spec: string, options: SummaryOptions) => {
      const compiled = await compileSpec(spec, options);
      const table = summarize(compiled.net);
      if (options.json) {
        const layers = table.layers.map(({ name, text, output, activations, weights, biases, params, macs, receptiveField }) => ({
          name,
          text,
          output,
          activations,
          weights,
          biases,
          params,
          macs,
          receptiveField,
        }));
        process.stdout.write(`${JSON.stringify({ layers, totals: table.totals }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${compiled.origin === '<spec>' ? '' : `${compiled.origin}\n`}${renderSummary(table)}\n`);
    });
}
