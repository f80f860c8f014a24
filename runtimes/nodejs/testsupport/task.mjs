/**
 * Test helper: temporary task roots (folders of user code) for handler-loading tests.
 */

import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function makeTaskRoot(files) {
  const root = mkdtempSync(path.join(tmpdir(), 'lambdabox-task-'));
  for (const [name, text] of Object.entries(files)) {
    const full = path.join(root, name);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
  return root;
}

export function removeTaskRoot(root) {
  rmSync(root, { recursive: true, force: true });
}
