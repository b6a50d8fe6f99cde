// Statistics and output shared by the benchmarks.
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const sec = (ms: number): string => (ms / 1000).toFixed(3);
export const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);

/** Rows as columns: the first left-aligned, the others right-aligned; a rule under the header row. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r, ri) => {
    const line = r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
    return ri === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
  }).join('\n');
}

/** `machine: 2 cpus, load ...; node v20...; <tool --version>` (without a final period). */
export function machineLine(tool: string): string {
  return `machine: ${cpus().length} cpus, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}; node ${process.version}; ` +
    `${spawnSync(tool, ['--version']).stdout.toString().trim()}`;
}

/**
 * Writes the results as JSON to `file` or, without it, to bench/results/<name>-<date>.json,
 * prefixed with when the run started and the machine; prints where.
 */
export async function writeResults(benchDir: string, name: string, file: string | undefined, startedAt: Date, data: Record<string, unknown>): Promise<void> {
  const path = file ? resolve(file) : join(benchDir, 'results', `${name}-${startedAt.toISOString().replace(/:/g, '-').replace(/\..*/, '')}.json`);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify({
    startedAt: startedAt.toISOString(), node: process.version, cpus: cpus().length, loadavg: loadavg(), ...data,
  }, null, 2));
  process.stdout.write(`results: ${path}\n`);
}
