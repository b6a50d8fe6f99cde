// The CLI's reading of an operation's events (src/operations/events.ts): werf's build lines (`Use previously built
// image for <image>/<stage>`; `Building stage <image>/<stage>` then `Store stage`) grouped per image,
// RUN output as it comes, the transfer progress of an export, one block per exported image.

import type { ProjectEvent, ProjectEventListener } from '../operations/index.js';
import type { CliIo } from './command.js';
import type { Logger } from './log.js';
import { formatBytes, transferProgress, type TransferProgress } from './progress.js';

export interface CliEvents {
  listener: ProjectEventListener;
  /** Stop timers and clear the live line: call once the operation ended, however it ended. */
  finish(): void;
}

export function cliEvents(log: Logger, io: CliIo): CliEvents {
  // Images build concurrently: their lines are kept per image and printed as one block when the image is done.
  const blocks = new Map<string, string[]>();
  const add = (image: string, line: string): void => {
    const block = blocks.get(image) ?? [];
    block.push(line);
    blocks.set(image, block);
  };
  // On a terminal, the stage being built shows on one line rewritten in place; blocks print over it.
  const live = process.stderr.isTTY === true && log.level !== 'quiet';
  let stageLineShown = false;
  let progress: TransferProgress | undefined;
  const clearLines = (): void => {
    if (stageLineShown) io.stderr('\r\x1b[2K');
    stageLineShown = false;
    progress?.clear();
  };
  const partial = new Map<string, string>();
  const transfer = (): TransferProgress => (progress ??= transferProgress(io, log));

  const listener = (event: ProjectEvent): void => {
    switch (event.type) {
      case 'info':
        clearLines();
        log.info(event.message);
        return;
      case 'warning':
        clearLines();
        log.warn(event.message);
        return;
      case 'note':
        log.verbose(event.message);
        return;
      case 'stage-reused':
        add(event.image, `Use previously built image for ${event.image}/${event.stage}\n     name: ${event.tag}`);
        return;
      case 'stage-building':
        // werf's line, which scripts and werf's e2e tests grep for: at once with --log-verbose, else in the image's block.
        if (log.level === 'verbose' || log.level === 'debug') log.verbose(`Building stage ${event.image}/${event.stage}`);
        else add(event.image, `Building stage ${event.image}/${event.stage}`);
        if (live && log.level !== 'verbose' && log.level !== 'debug') {
          io.stderr(`\r\x1b[2KBuilding stage ${event.image}/${event.stage}...`);
          stageLineShown = true;
        }
        return;
      case 'run-output': {
        // Line by line, marked with the image: a long command shows its progress.
        const text = (partial.get(event.image) ?? '') + event.chunk.toString('utf8');
        const lines = text.split('\n');
        partial.set(event.image, lines.pop()!);
        if (lines.length === 0) return;
        clearLines();
        log.info(lines.map((line) => `${event.image} │ ${line}`).join('\n'));
        return;
      }
      case 'stage-built':
        add(event.image, `Store stage ${event.image}/${event.stage}\n     name: ${event.tag}\n     size: ${formatBytes(event.size)}`);
        return;
      case 'stage-discarded':
        add(event.image, `Discarding newly built image for stage ${event.image}/${event.stage}: another runner published ${event.tag}`);
        return;
      case 'image-built': {
        const header = `┌ image ${event.image}`;
        const footer = `└ image ${event.image}${event.ok ? '' : ' FAILED'} (${event.built} built, ${event.reused} reused; ${(event.ms / 1000).toFixed(2)} s)`;
        clearLines();
        log.info([header, ...(blocks.get(event.image) ?? []), footer].join('\n'));
        blocks.delete(event.image);
        return;
      }
      case 'blob-started':
        transfer().started(event);
        return;
      case 'blob-progress':
        transfer().progress(event, event.bytes);
        return;
      case 'blob-done':
        transfer().done(event, event.result);
        return;
      case 'image-exported':
        clearLines();
        log.info([
          `Exporting image ${event.image || '~'}`,
          ...event.destinations.map((d) => `  tag ${d.destination}${d.skipped ? ' (up to date)' : ''}\n     digest: ${d.digest}`),
        ].join('\n'));
        return;
      case 'tag-deleted':
        log.verbose(`Deleted ${event.entry.what} ${event.entry.tag} (${event.entry.digest})`);
        return;
    }
  };
  return { listener, finish: () => { clearLines(); progress?.stop(); } };
}
