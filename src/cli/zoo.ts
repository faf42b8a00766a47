import type { Command } from 'commander';
import { compile } from '../notation/index.js';
import { compact, summarize, thousands } from '../notation/summary.js';
import { zoo, zooNet, zooNotation } from '../zoo/index.js';
import { unknownZooName } from './model.js';

/**
 * `convstack zoo`: every zoo net with its input, parameters, multiply-adds and activations per image;
 * `convstack zoo --notation vgg16`: one net's notation text, to copy and edit.
 */
export function registerZoo(program: Command): void {
  program
    .command('zoo')
    .description('list the model zoo: input size, parameters, multiply-adds and activations per image')
    .option('--json', 'print the list as JSON')
    .option('--notation <name>', "print a net's notation text, which compiles on its own, to copy and edit")
    .action((options: { json?: boolean; notation?: string }) => {
      if (options.notation !== undefined) {
        const net = zooNet(options.notation);
        if (net === undefined) throw new Error(unknownZooName(options.notation));
        process.stdout.write(zooNotation(net));
        return;
      }
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
