// Command-line plumbing shared by the benchmarks: messages, argument checks, preconditions.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { removeOnExit, stopAllChildren } from '../../test/setup/registry-process.js';

let prefix = 'bench';

/** The name failures are prefixed with (`bench/copy: ...`). */
export function setBenchName(name: string): void {
  prefix = name;
}

/** The name set by setBenchName(). */
export function benchName(): string {
  return prefix;
}

export function fail(message: string): never {
  process.stderr.write(`${prefix}: ${message}\n`);
  process.exit(1);
}

export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) fail(`${name}: '${value}' is not a positive integer`);
  return n;
}

export function onPath(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

/** Fails unless running as root on Linux; `why` completes "needs root on Linux: ". */
export function requireRootOnLinux(why: string): void {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) fail(`needs root on Linux: ${why}`);
}

/** Runs test/setup/install-deps.sh when one of `tools` is missing, and fails if one still is. */
export function requireTools(root: string, tools: string[], aptPackages: string): void {
  if (tools.some((t) => !onPath(t))) {
    spawnSync('bash', [join(root, 'test', 'setup', 'install-deps.sh')], { stdio: 'inherit' });
    const missing = tools.filter((t) => !onPath(t));
    if (missing.length > 0) fail(`missing ${missing.join(', ')} (apt-get install -y ${aptPackages})`);
  }
}

/** Runs the project's tsc with `args`; fails with `failure` when it does. */
export function tsc(root: string, args: string[], failure: string): void {
  const r = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), args, { stdio: 'inherit' });
  if (r.status !== 0) fail(failure);
}

/**
 * Type-checks `file` and what it imports with the project's compiler options but without a
 * tsconfig (tsx runs a bench without type-checking it): the file list is the bench's own, so
 * that other benchmarks' work in progress cannot break it. Fails with `type errors in <file>`.
 */
export function typeCheck(root: string, file: string): void {
  tsc(root, ['--ignoreConfig', '--noEmit', '--target', 'ES2022', '--module', 'NodeNext',
    '--moduleResolution', 'NodeNext', '--strict', '--noUncheckedIndexedAccess', '--noImplicitOverride', '--skipLibCheck', '--types', 'node',
    file], `type errors in ${relative(root, file)}`);
}

/**
 * Runs `body` with a new temp dir `$TMPDIR/<prefix>*`; afterwards (also on an error or Ctrl-C)
 * stops every child started through test/setup/registry-process.ts and removes the dir, unless `keep`.
 */
export async function inWorkDir(prefix: string, keep: boolean, body: (workDir: string) => Promise<void>): Promise<void> {
  const workDir = await mkdtemp(join(tmpdir(), prefix));
  if (!keep) removeOnExit(workDir);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130)); // the exit hook stops the registries
  try {
    await body(workDir);
  } finally {
    await stopAllChildren();
    if (keep) log(`kept ${workDir}`);
    else await rm(workDir, { recursive: true, force: true });
    removeOnExit(undefined);
  }
}
