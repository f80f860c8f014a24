/**
 * The zygote waits on stdin, then becomes the runtime of the function it is given.
 */

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { replaceEnv } from '../lib/zygote.mjs';

const ZYGOTE = fileURLToPath(new URL('../lib/zygote.mjs', import.meta.url));

function runZygote(input) {
  const code = `
    const { awaitAssignment } = await import(${JSON.stringify(ZYGOTE)});
    awaitAssignment();
    console.log(JSON.stringify({ cwd: process.cwd(), mine: process.env.MINE, zygoteOnly: 'ZYGOTE_ONLY' in process.env,
      hour: new Date(Date.UTC(2024, 0, 1, 12)).getHours() }));`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    input,
    encoding: 'utf8',
    timeout: 20000,
    env: { PATH: process.env.PATH, ZYGOTE_ONLY: '1', TZ: 'Asia/Tokyo' },
  });
}

test('the environment is replaced, the time zone follows and the cwd is the task root', () => {
  const task = mkdtempSync(path.join(tmpdir(), 'zygote-'));
  try {
    const done = runZygote(JSON.stringify({ MINE: 'yes', LAMBDA_TASK_ROOT: task, TZ: 'UTC' }));
    assert.equal(done.status, 0, done.stderr);
    assert.deepEqual(JSON.parse(done.stdout), { cwd: realpathSync(task), mine: 'yes', zygoteOnly: false, hour: 12 });
  } finally {
    rmSync(task, { recursive: true, force: true });
  }
});

test('a zygote retired unused exits quietly', () => {
  const done = runZygote('');
  assert.deepEqual([done.status, done.stdout, done.stderr], [0, '', '']);
});

test('replaceEnv keeps exactly the assigned variables, as strings', () => {
  const env = { A: '1', B: '2' };
  replaceEnv(env, { B: 'two', C: 3 });
  assert.deepEqual(env, { B: 'two', C: '3' });
});
