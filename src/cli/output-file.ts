// Files a command writes at its end (reports). Checked before any work, so that a mistyped directory fails in a
// second, not after an hour of building and pushing; written whole (temp file, rename), so a report is never
// half a report.

import { constants } from 'node:fs';
import { access, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UsageError } from '../errors.js';

/** Refuse an output path whose directory is missing or not writable, or that names a directory. */
export async function checkOutputFile(path: string, flag: string): Promise<void> {
  const dir = dirname(path);
  const dirStat = await stat(dir).catch(() => undefined);
  if (dirStat === undefined || !dirStat.isDirectory()) {
    throw new UsageError(`${flag} ${path}: the directory ${dir} does not exist`, { hint: `create it first (mkdir -p ${dir}), or write the file elsewhere` });
  }
  if ((await stat(path).catch(() => undefined))?.isDirectory()) throw new UsageError(`${flag} ${path} is a directory`, { hint: 'name a file' });
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${path}: the directory ${dir} is not writable`, { hint: 'write the file somewhere you may write' });
  }
}

/** Write `text` to `path` whole: a temporary file beside it, then a rename. */
export async function writeOutputFile(path: string, text: string): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    await writeFile(temp, text);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
}
