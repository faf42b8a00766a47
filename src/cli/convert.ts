import type { Command } from 'commander';
import { readPth } from '../io/pth/pth.js';
import { writeSafetensors } from '../io/safetensors.js';

interface ConvertOptions {
  out?: string;
}

/**
 * `convstack convert weights.pth --out weights.safetensors`: a PyTorch state_dict (torch.save's zip)
 * to safetensors, tensors in the file's order under the same names, integer tensors (BN's
 * `num_batches_tracked`) kept as integers. The pickle is read by a restricted unpickler that executes
 * nothing: a file naming anything but what a state_dict needs is refused.
 */
export function registerConvert(program: Command): void {
  program
    .command('convert <weights>')
    .description('convert PyTorch weights (a state_dict saved by torch.save, .pth/.pt) to safetensors, which --weights and Python read alike')
    .option('--out <file>', 'the safetensors file to write')
    .action(async (weights: string, options: ConvertOptions) => {
      if (options.out === undefined) throw new Error('convert: say where the safetensors file goes with --out weights.safetensors');
      const { tensors, integers } = await readPth(weights);
      await writeSafetensors(options.out, tensors, {}, integers);
      const values = [...tensors.values()].reduce((n, t) => n + t.size, 0);
      process.stdout.write(`${options.out}: ${tensors.size} tensors, ${values.toLocaleString('en-US')} values\n`);
    });
}
