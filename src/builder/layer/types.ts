import type { Readable } from 'node:stream';

export type LayerEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'whiteout' | 'opaque';

/**
 * One entry of a layer (or of an image's file tree, when read back).
 *
 * - `file`: `open` gives the content (absent: empty file); `size` is checked against it.
 * - `dir`, `symlink` (`linkTarget` verbatim, may be absolute), `hardlink` (`linkTarget` is
 *   another image path, relative to the image root like `path`), `fifo` (a named pipe, as RUN leaves them).
 * - `whiteout`: `path` is what the layer deletes from the layers below (written as
 *   `<dir>/.wh.<name>`); `opaque`: `path` is a directory whose lower content the layer
 *   hides (written as `<path>/.wh..wh..opq`). Their mode, uid and gid are ignored.
 */
export interface LayerEntry {
  /** posix, relative to the image root, no leading or trailing '/', no '.' or '..' components. */
  path: string;
  type: LayerEntryType;
  /** Permission bits including setuid, setgid and sticky (0 to 0o7777), without the file type. */
  mode: number;
  uid: number;
  gid: number;
  size?: number;
  linkTarget?: string;
  open?: () => Promise<Readable>;
  /**
   * Extended attributes the layer carries (PAX `SCHILY.xattr.<name>`, as Go's archive/tar writes them):
   * file capabilities (`security.capability`) and `user.*`, never overlay's own.
   */
  xattrs?: Record<string, Buffer>;
  /** A local file holding the content (what `open` streams): small files are then read whole, many at once. */
  localFile?: string;
}

export interface BuiltLayer {
  /** A temp file under `tmpDir` holding the blob; the caller moves or deletes it. */
  path: string;
  /** sha256 of the blob (the compressed bytes). */
  digest: string;
  /** Bytes of the blob. */
  size: number;
  /** sha256 of the uncompressed tar (equal to `digest` without compression). */
  diffId: string;
  mediaType: string;
  /** Tar entries written, implicit parent directories included, PAX extension headers not counted. */
  entries: number;
}
