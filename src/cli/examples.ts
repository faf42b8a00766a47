import type { Command } from 'commander';

/** An example for each command's --help: what a first-time user would type. */
const EXAMPLES: Record<string, string[]> = {
  summary: [
    "convstack summary 'INPUT[32x32x3] -> [CONV3-32 -> RELU]*2 -> POOL2 -> FC-10'",
    'convstack summary vgg16 --input 64x64x3 --classes 3',
  ],
  lint: ["convstack lint 'INPUT[224x224x3] -> CONV3-64 -> RELU -> FC-4096'"],
  compare: ["convstack compare 'CONV7-C' '[CONV3-C -> RELU]*3' --set C=64"],
  zoo: ['convstack zoo', 'convstack zoo --notation vgg16 > vgg16.txt'],
  memory: ['convstack memory vgg16 --batch 64 --optimizer momentum', 'convstack memory vgg16 --budget 12GiB'],
  train: [
    'convstack train',
    "convstack train --model 'INPUT[64x64x3] -> [CONV3-16 -> RELU -> POOL2]*3 -> FC-3' --data folder:photos --epochs 10",
  ],
  finetune: [
    'convstack finetune --from digits.safetensors --data folder:letters --epochs 10 --out letters.safetensors',
    'convstack finetune --from lenet5_mnist --weights lenet.safetensors --data mnist,classes=5-9,per-class=20 --freeze none',
  ],
  eval: ['convstack eval --model model.safetensors --data mnist', 'convstack eval --model pets.safetensors --data folder:pets --split all'],
  predict: ['convstack predict --model pets.safetensors cat.jpg dog.png'],
  convert: ['convstack convert resnet18.pth --out resnet18.safetensors'],
  export: ['convstack export model.safetensors --onnx model.onnx', 'convstack export resnet18 --classes 100 --pytorch net.py --train-script train_ddp.py'],
  run: ['convstack run model.safetensors x.npy --output y.npy', 'convstack run resnet18 x.npy --input 64x64x3 --json'],
  serve: ['convstack serve', 'convstack serve --port 9000'],
  import: ['convstack import resnet18.onnx --notation', 'convstack import resnet18.onnx --out resnet18.safetensors'],
};

/** Adds the examples under each command's --help. */
export function addExamples(program: Command): void {
  for (const command of program.commands) {
    const lines = EXAMPLES[command.name()];
    if (lines !== undefined) command.addHelpText('after', `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`);
  }
}
