// The transfer progress of the CLI (src/cli/progress.ts), in CI logs and on a terminal.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/cli/log.js';
import { transferProgress } from '../../src/cli/progress.js';

const blob = { image: 'web', destination: 'registry.example/app', digest: `sha256:${'ab'.repeat(32)}`, size: 300 * 1024 * 1024 };

function capture(level: 'normal' | 'quiet', terminal: boolean) {
  let stderr = '';
  const io = { stdout: () => undefined, stderr: (t: string) => { stderr += t; } };
  const log = createLogger(level, (t) => { stderr += t; });
  return { progress: transferProgress(io, log, terminal), text: () => stderr };
}

afterEach(() => vi.useRealTimers());

describe('transfer progress', () => {
  it('without a terminal: a line at start and end, with size and rate, and one every 10 s while a blob moves', () => {
    vi.useFakeTimers();
    const { progress, text } = capture('normal', false);
    progress.started(blob);
    expect(text()).toBe(''); // nothing until bytes move: a blob already there gets one line, at its end
    progress.progress(blob, 100 * 1024 * 1024);
    expect(text()).toContain('web: blob abababababab (300.0 MiB) to registry.example/app');
    vi.advanceTimersByTime(10_000);
    expect(text()).toMatch(/blob abababababab to registry\.example\/app: 100\.0 MiB of 300\.0 MiB \(10\.0 MiB\/s\)/);
    vi.advanceTimersByTime(10_000);
    progress.done(blob, 'uploaded');
    expect(text()).toMatch(/blob abababababab uploaded in 20\.0 s \(15\.0 MiB\/s\)/);
    progress.stop();
    expect(text()).not.toContain('\r');
  });

  it('on a terminal: one live line with the bytes as they stream, cleared at the end', () => {
    const { progress, text } = capture('normal', true);
    progress.started(blob);
    progress.progress(blob, 50 * 1024 * 1024);
    progress.done(blob, 'uploaded');
    expect(text()).toMatch(/\r\x1b\[2KExporting: 1 blobs done, 0 moving, 300\.0 MiB moved/);
    progress.stop();
    expect(text().endsWith('\r\x1b[2K')).toBe(true);
  });

  it('a blob that is already there gets one line', () => {
    const { progress, text } = capture('normal', false);
    progress.started(blob);
    progress.done(blob, 'present');
    progress.stop();
    expect(text().trim().split('\n')).toEqual(['web: blob abababababab already there']);
  });

  it('--log-quiet shows nothing', () => {
    const { progress, text } = capture('quiet', false);
    progress.started(blob);
    progress.done(blob, 'mounted');
    progress.stop();
    expect(text()).toBe('');
  });
});
