import path from 'node:path';
import { writeFileAtomic } from '../io/files.js';
import { exportPytorch, type PytorchSource } from '../io/pytorch/module.js';
import { exportTrainScript } from '../io/pytorch/train_script.js';

/**
 * `convstack export --pytorch net.py [--train-script train_ddp.py]`: writes the net as a torch.nn.Module
 * and, when asked, the torchrun script that trains it (which finds net.py relative to itself).
 */
export async function writePytorch(source: PytorchSource, moduleFile: string, scriptFile: string | undefined): Promise<void> {
  const moduleText = exportPytorch(source);
  await writeFileAtomic(moduleFile, moduleText);
  process.stdout.write(`${moduleFile}: a torch.nn.Module of ${source.spec.nodes.length} layers (class Net)\n`);
  if (scriptFile === undefined) return;
  const netFile = path.relative(path.dirname(path.resolve(scriptFile)), path.resolve(moduleFile));
  await writeFileAtomic(scriptFile, exportTrainScript(source, { netFile }));
  process.stdout.write(`${scriptFile}: trains it under torchrun, e.g. torchrun --nproc_per_node 2 ${scriptFile} --data folder:<dir>\n`);
}
