// What RUN does with root's powers. As root, directly; as another user, inside a user namespace where that
// user is root (util-linux `unshare --user --map-root-user`): enough to make overlay whiteouts and to remove
// the directories a sandboxed command made unreadable, over files the user owns anyway.

import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { BuildError } from '../../errors.js';

export const rootless = process.getuid?.() !== 0;

/** Run `argv` with root's powers over the user's own files; resolves when it exits 0. */
export function runPrivileged(argv: readonly string[], what: string, hint: string): Promise<void> {
  const full = rootless ? ['/usr/bin/unshare', '--user', '--map-root-user', ...argv] : [...argv];
  return new Promise<void>((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', (error) => reject(new BuildError(`${what}: ${error.message}`, { cause: error, hint })));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new BuildError(`${what}: ${err.trim() || `exit code ${code}`}`, { hint }))));
  });
}

/** Remove a tree a sandbox wrote (overlay's work directory is mode 000; commands may leave unreadable dirs). */
export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch (error) {
    if (!rootless || (error as NodeJS.ErrnoException).code !== 'EACCES') throw error;
    await runPrivileged(['rm', '-rf', path], `cannot remove ${path}`, 'remove it by hand');
  }
}
