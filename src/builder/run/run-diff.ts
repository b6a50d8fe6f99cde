// What a RUN changed, as layer entries: overlayfs already recorded it. Every file the command created or
// touched was copied up into the upper directory (so a same-size rewrite within the same second is not
// missed: there is no timestamp comparison at all), deletions are 0/0 character devices there, and a
// directory that was deleted and made again is opaque. Opacity is an xattr Node cannot read, so it is found
// by comparison: a directory of the upper layer whose merged listing lacks names the lower layers show,
// with no whiteout for them, hides the lower content as a whole.

import { createReadStream, lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { LayerEntry } from '../layer/types.js';
import { joinPath } from '../layer/paths.js';
import { readXattrTree } from '../layer/xattrs.js';
import { isWhiteout } from './layer-dirs.js';
import { rootless } from './privileges.js';
import type { SandboxView } from './sandbox.js';

export interface RunDiff {
  entries: LayerEntry[];
  /** Directories the command made opaque (for the layer cache, which must know them). */
  opaque: string[];
  /** Entries that cannot go into a layer (sockets, device nodes), by path. */
  skipped: string[];
}

// The walk is synchronous: a RUN may leave tens of thousands of entries, and for each one Node's thread-pool
// round trip costs ~10x the system call.
function names(dir: string): Set<string> {
  try {
    return new Set(readdirSync(dir));
  } catch {
    return new Set();
  }
}

function lstatOrUndefined(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}

// Without root the sandbox's root is the invoking user: what it owns is root's in the image.
const hostUid = process.getuid?.() ?? 0;
const hostGid = process.getgid?.() ?? 0;
const owner = (id: number, mine: number): number => (rootless && id === mine ? 0 : id);

/** The changes in `view.upper`, read while the sandbox still shows the merged and lower views. */
export async function diffRun(view: SandboxView): Promise<RunDiff> {
  const entries: LayerEntry[] = [];
  const opaque: string[] = [];
  const skipped: string[] = [];
  const inodes = new Map<number, string>();

  // `lowerIsDir`: every component of `dir` is a directory in the lower view too. Only then is the lower view
  // looked into below it: a lower symlink on the way would be followed from the host's root (paths through
  // /proc/<pid>/root resolve absolute links against the reader's root).
  // A mount point Slipway made (a stub) is no change while it is as it was made: an empty file, or a directory
  // holding nothing but such stubs. Whatever the command put in one is its change, and goes into the layer.
  const pristine = (path: string): boolean => {
    if (!view.stubs.has(path)) return false;
    const st = lstatOrUndefined(join(view.upper, path));
    if (st === undefined) return true;
    if (st.isFile()) return st.size === 0;
    if (!st.isDirectory()) return false;
    return [...names(join(view.upper, path))].every((name) => pristine(joinPath(path, name)));
  };

  const walk = (dir: string, lowerIsDir: boolean): boolean => {
    let changed = false;
    const children = [...names(join(view.upper, dir))].sort().filter((name) => !pristine(joinPath(dir, name)));
    for (const name of children) {
      const path = joinPath(dir, name);
      const full = join(view.upper, path);
      const st = lstatSync(full);
      const base = { path, mode: st.mode & 0o7777, uid: owner(st.uid, hostUid), gid: owner(st.gid, hostGid) };
      if (isWhiteout(st)) {
        entries.push({ ...base, type: 'whiteout' });
        changed = true;
      } else if (st.isDirectory()) {
        const at = entries.length;
        const lower = lowerIsDir ? lstatOrUndefined(join(view.lower, path)) : undefined;
        let isOpaque = false;
        if (lower?.isDirectory()) {
          const merged = names(join(view.merged, path));
          const mine = names(full);
          for (const lowerName of names(join(view.lower, path))) {
            if (merged.has(lowerName)) continue;
            // Hidden without a whiteout of its own: the directory is opaque.
            const own = mine.has(lowerName) ? lstatSync(join(full, lowerName)) : undefined;
            if (own === undefined || !isWhiteout(own)) isOpaque = true;
          }
        }
        const inner = walk(path, lower?.isDirectory() === true);
        // A directory copied up only because something beneath it changed, or for a mount point, with the
        // same mode and owner as below and nothing left inside, is no change.
        const same = lower?.isDirectory() && (lower.mode & 0o7777) === base.mode && lower.uid === base.uid && lower.gid === base.gid;
        if (isOpaque || inner || !same) {
          entries.splice(at, 0, { ...base, type: 'dir' });
          if (isOpaque) {
            entries.splice(at + 1, 0, { ...base, type: 'opaque' });
            opaque.push(path);
          }
          changed = true;
        }
      } else if (st.isFile()) {
        const first = st.nlink > 1 ? inodes.get(st.ino) : undefined;
        if (first !== undefined) entries.push({ ...base, type: 'hardlink', linkTarget: first });
        else {
          if (st.nlink > 1) inodes.set(st.ino, path);
          entries.push({ ...base, type: 'file', size: st.size, open: async () => createReadStream(full), localFile: full });
        }
        changed = true;
      } else if (st.isSymbolicLink()) {
        entries.push({ ...base, type: 'symlink', linkTarget: readlinkSync(full) });
        changed = true;
      } else if (st.isFIFO()) {
        entries.push({ ...base, type: 'fifo' });
        changed = true;
      } else {
        skipped.push(path);
      }
    }
    return changed;
  };
  walk('', true);
  // File capabilities and user.* attributes, read in one process for the whole upper directory.
  const xattrs = await readXattrTree(view.upper);
  if (xattrs.size > 0) {
    for (const entry of entries) {
      // Linux keeps no user.* or capability attributes on symlinks: none are ever taken for one.
      if (entry.type === 'whiteout' || entry.type === 'opaque' || entry.type === 'hardlink' || entry.type === 'symlink') continue;
      const found = xattrs.get(entry.path);
      if (found) entry.xattrs = found;
    }
  }
  return { entries, opaque, skipped };
}
