#!/usr/bin/env node
import { Command } from 'commander';
import { fail } from './errors.js';
import { registerMemory } from './memory.js';
import { registerRun } from './run.js';
import { registerTrain } from './train.js';
import { registerEval } from './eval.js';
import { registerPredict } from './predict.js';
import { registerSummary } from './summary.js';
import { registerLint } from './lint.js';
import { registerCompare } from './compare.js';
import { registerZoo } from './zoo.js';

const program = new Command('convstack')
  .description('Design, size, train and run convolutional networks written in the notation of "ConvNet Architectures".')
  .showHelpAfterError();

// Each command lives in its own file and adds itself here.
registerRun(program);
registerMemory(program);
registerTrain(program);
registerEval(program);
registerPredict(program);
registerSummary(program);
registerLint(program);
registerCompare(program);
registerZoo(program);

program.parseAsync(process.argv).catch(fail);
