import type { Command } from 'commander';
import { compile } from '../notation/index.js';
import { compact, summarize, thousands } from '../notation/summary.js';
import { zoo } from '../zoo/index.js';

/** `convstack zoo`: every zoo net with its input, parameters, multiply-adds and activations per image. */
export function registerZoo(program: Command): void {
  program
    .command('zoo')
    .description('list the model zoo: input size, parameters, multiply-adds and activations per image')
    .option('--json', 'print the list as JSON')
    .action((options: { json?: boolean }) => {
      const rows = zoo.map((net) => {
        const { totals, layers } = summarize(compile(net.source, { bindings: net.bindings }).net);
        const input = (layers[0] as (typeof layers)[number]).output;
        return { name: net.name, title: net.title, input, params: totals.params, macs: totals.macs, activations: totals.activations, torchvision: net.torchvision };
      });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const table = [
        ['name', 'input', 'params', 'mult-adds', 'activations', 'description'],
        ...rows.map((r) => [r.name, r.input.join('x'), thousands(r.params), compact(r.macs), thousands(r.activations), r.title]),
      ];
      const widths = (table[0] as string[]).map((_, i) => Math.max(...table.map((row) => (row[i] as string).length)));
      const numeric = new Set([2, 3, 4]);
      for (const row of table) {
        process.stdout.write(`${row.map((cell, i) => (numeric.has(i) ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number))).join('  ').trimEnd()}\n`);
      }
    });
}
