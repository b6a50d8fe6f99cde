// What a project-level operation tells its caller while it works, as one stream of plain objects: the CLI turns
// them into its log lines and progress, a library user into whatever it likes (or nothing).

import type { ExportedDestination } from '../export/export-images.js';
import type { PlannedTag } from '../cleanup/index.js';

export type ProjectEvent =
  /** Something worth a line in a log: the stages storage used, a git sync, a skipped policy. */
  | { type: 'info'; message: string }
  | { type: 'warning'; message: string }
  /** Detail that is not a failure (a layer entry RUN's root filesystem skipped, a fallback taken). */
  | { type: 'note'; message: string }
  | { type: 'stage-building'; image: string; stage: string }
  | { type: 'stage-reused'; image: string; stage: string; tag: string }
  | { type: 'stage-built'; image: string; stage: string; tag: string; size: number }
  /** Built, but another runner published the same stage first: its stage is used. */
  | { type: 'stage-discarded'; image: string; stage: string; tag: string }
  /** Output of a RUN command, as it comes. */
  | { type: 'run-output'; image: string; chunk: Buffer }
  | { type: 'image-built'; image: string; ok: boolean; tag?: string; built: number; reused: number; ms: number }
  /** A blob starts moving to an export destination. */
  | { type: 'blob-started'; image: string; destination: string; digest: string; size: number }
  /** Bytes of a blob moved so far (not called for blobs that were already there or were mounted). */
  | { type: 'blob-progress'; image: string; destination: string; digest: string; bytes: number; size: number }
  /** A blob reached an export destination: uploaded, mounted from another repository, or already there. */
  | { type: 'blob-done'; image: string; destination: string; digest: string; size: number; result: 'present' | 'mounted' | 'uploaded' }
  /** An image's export tags are pushed (or were up to date): one event per image, with every destination. */
  | { type: 'image-exported'; image: string; destinations: readonly ExportedDestination[] }
  /** cleanup / purge deleted a tag. */
  | { type: 'tag-deleted'; entry: PlannedTag };

export type ProjectEventListener = (event: ProjectEvent) => void;
