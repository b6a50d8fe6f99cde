// extractTarEntries: the entries of a local tar archive (ADD archive.tar[.gz]), as layer entries.

import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { BuildError, InvalidInputError } from '../../errors.js';
import { spoolTo } from './spool.js';
import { readTar } from './tar-reader.js';
import type { LayerEntry } from './types.js';

export interface ExtractTarOptions {
  /** File contents are spooled to a new subdirectory of it, removed by close(). */
  tmpDir: string;
  /** Names the archive in messages, e.g. 'ADD source "app.tar.gz"'. */
  what?: string;
}

/** The entries of an archive, read once; their files can be opened until close(). */
export interface ExtractedTar extends AsyncIterable<LayerEntry> {
  /** Delete the spooled file contents (also after a partial or failed iteration). */
  close(): Promise<void>;
}

/**
 * Read a tar archive, gzip-compressed or plain (detected from its first bytes; bzip2, xz
 * and zstd are a clear error), and yield its entries in archive order:
 *
 * - paths canonical and relative to the archive root (leading '/' and './' dropped; the
 *   root entry itself is skipped; a '..' escaping the root is an error);
 * - files spooled to temp files, with `size` and `open()`;
 * - symlinks with their target verbatim; hard links with `linkTarget` relative to the
 *   archive root, like `path`: a caller that re-roots entries under a destination re-roots
 *   hard link targets the same way;
 * - mode, uid and gid as the archive has them; devices and fifos are an error.
 *
 * A later entry for the same path is meant to replace an earlier one (pass
 * `duplicates: 'last-wins'` to createLayer). The archive can be iterated once.
 */
export function extractTarEntries(stream: Readable, options: ExtractTarOptions): ExtractedTar {
  const what = options.what ?? 'the archive';
  let dir: string | undefined;
  let iterated = false;
  return {
    async *[Symbol.asyncIterator](): AsyncGenerator<LayerEntry> {
      if (iterated) throw new BuildError(`${what} can be read only once`);
      iterated = true;
      await mkdir(options.tmpDir, { recursive: true });
      dir = await mkdtemp(join(options.tmpDir, 'slipway-tar-'));
      let n = 0;
      for await (const record of readTar(stream, what)) {
        if (record.path === '') continue;
        const base = { path: record.path, mode: record.mode, uid: record.uid, gid: record.gid };
        switch (record.type) {
          case 'dir':
            yield { ...base, type: 'dir' };
            break;
          case 'symlink':
            yield { ...base, type: 'symlink', linkTarget: record.linkTarget ?? '' };
            break;
          case 'hardlink':
            if (record.linkTarget === undefined || record.linkTarget === '') {
              throw new InvalidInputError(`${what}: hard link "${record.name}" has no target`);
            }
            yield { ...base, type: 'hardlink', linkTarget: record.linkTarget };
            break;
          case 'file': {
            const file = join(dir, String(n++));
            const size = await spoolTo(record.body, file);
            yield { ...base, type: 'file', size, open: async () => createReadStream(file) };
            break;
          }
          default:
            throw new InvalidInputError(`${what}: "${record.name}" is a ${record.rawType}, which Slipway cannot put into a layer`);
        }
      }
    },
    async close(): Promise<void> {
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}
