#!/usr/bin/env node
import { fail } from './errors.js';
import { buildProgram, specsNotOptions } from './program.js';

buildProgram().parseAsync(specsNotOptions(process.argv)).catch(fail);
