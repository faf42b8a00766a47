import { test, after } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { killWriters } from './faults_kill.js';

const dir = await mkdtemp(path.join(tmpdir(), 'convstack-kills-'));
after(() => rm(dir, { recursive: true, force: true }));

test('a writer killed at 20 random moments leaves the model file and the checkpoint loadable and whole', async (t) => {
  const versions = await killWriters(dir, 20, 20261202);
  t.diagnostic(`writes completed before each kill: ${versions.join(', ')}`);
});
