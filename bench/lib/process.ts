// Running processes with timing, CPU accounting, and containers/image's blob-info cache
// replaced in a private mount namespace (skopeo, buildah).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

/** Where containers/image (skopeo, buildah) keeps its blob-info cache when run as root; skopeo 1.9 has no option to move it. */
export const BLOB_INFO_CACHE_DIR = '/var/lib/containers/cache';
export const TIME = '/usr/bin/time';

export interface Line {
  /** ms since the spawn */
  t: number;
  text: string;
}

export interface Spawned {
  /** Wall-clock time, spawn to exit. */
  wallMs: number;
  code: number | null;
  stdout: string;
  stderr: string;
  /** Each line of stdout and stderr with the time it arrived. */
  lines: Line[];
  /** Each line of stderr alone with the time it arrived. */
  stderrLines: Line[];
  /** From /usr/bin/time (`timeFile`), when available. */
  userS?: number;
  sysS?: number;
  maxRssKiB?: number;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Runs the command under /usr/bin/time (when it exists) writing `%U %S %M` here, read into userS, sysS, maxRssKiB. */
  timeFile?: string;
}

export function run(cmd: string, args: string[], options: RunOptions = {}): Promise<Spawned> {
  const [file, argv] = options.timeFile && existsSync(TIME) ? [TIME, ['-f', '%U %S %M', '-o', options.timeFile, cmd, ...args]] : [cmd, args];
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    let exitedAt = 0;
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...(options.env ? { env: options.env } : {}), ...(options.cwd ? { cwd: options.cwd } : {}) });
    let stdout = '';
    let stderr = '';
    const lines: Line[] = [];
    const stderrLines: Line[] = [];
    const partial = { out: '', err: '' };
    const take = (which: 'out' | 'err', d: Buffer): void => {
      const t = performance.now() - started;
      const text = d.toString();
      if (which === 'out') stdout += text;
      else stderr += text;
      const parts = (partial[which] + text).split('\n');
      partial[which] = parts.pop()!;
      for (const p of parts) {
        lines.push({ t, text: p });
        if (which === 'err') stderrLines.push({ t, text: p });
      }
    };
    child.stdout.on('data', (d: Buffer) => take('out', d));
    child.stderr.on('data', (d: Buffer) => take('err', d));
    child.once('error', reject);
    child.once('exit', () => (exitedAt = performance.now()));
    child.once('close', async (code) => {
      const result: Spawned = { wallMs: (exitedAt || performance.now()) - started, code, stdout, stderr, lines, stderrLines };
      if (options.timeFile && existsSync(TIME)) {
        try {
          const last = (await readFile(options.timeFile, 'utf8')).trim().split('\n').pop()!.split(' ').map(Number);
          [result.userS, result.sysS, result.maxRssKiB] = last as [number, number, number];
        } catch {
          // no figures
        }
      }
      resolvePromise(result);
    });
  });
}

/** Throws, with the end of its stderr (or stdout when stderr is empty), when the process failed. */
export function ensureOk(what: string, r: Spawned, tail = 3000): void {
  if (r.code !== 0) throw new Error(`${what} exited with ${r.code}:\n${(r.stderr || r.stdout).slice(-tail)}`);
}

/** Runs "$@" and then prints the shell's `times` (the last line: children's user and sys time) on stderr. */
export const TIMED = '"$@"; rc=$?; times >&2; exit $rc';

/** `cmd args` under a shell that reports its CPU time: see cpuSeconds(). */
export function timedArgv(cmd: string, args: string[]): [string, string[]] {
  return ['sh', ['-c', TIMED, 'sh', cmd, ...args]];
}

/** User + sys seconds of the children, from the last line `times` printed. */
export function cpuSeconds(stderr: string): number {
  const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s\s*$/.exec(stderr);
  if (!m) throw new Error(`no \`times\` output in: ${stderr.slice(-500)}`);
  return Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
}

/**
 * `argv` in a private mount namespace whose /var/lib/containers/cache is either an empty
 * tmpfs ('cold': no blob locations known) or the given directory bind-mounted ('warm': what
 * earlier runs learnt there, such as where blobs were pushed, is used). The host's real cache
 * is never read or written. `command` is the shell code that runs "$@" (the argv).
 */
export function withBlobInfoCache(cache: 'cold' | { warm: string }, command: string, argv: string[]): [string, string[]] {
  const mountCmd = cache === 'cold'
    ? `mount -t tmpfs -o size=64m slipway-bench ${BLOB_INFO_CACHE_DIR}`
    : `mount --bind "$1" ${BLOB_INFO_CACHE_DIR}`;
  const script = `${mountCmd} && shift && ${command}`;
  return ['unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', cache === 'cold' ? '-' : cache.warm, ...argv]];
}

/**
 * skopeo with its blob-info cache replaced (see withBlobInfoCache), under a shell that reports
 * its CPU time (cpuSeconds()); with `timeFile`, under `/usr/bin/time -f %M` (peak RSS in KiB).
 */
export function skopeoArgv(cache: 'cold' | { warm: string }, skopeoArgs: string[], timeFile?: string): [string, string[]] {
  const timePrefix = timeFile ? [TIME, '-f', '%M', '-o', timeFile] : [];
  return withBlobInfoCache(cache, TIMED, [...timePrefix, 'skopeo', '--insecure-policy', ...skopeoArgs]);
}

/** `skopeo copy` between registries: --preserve-digests copies the manifest and blobs as they are. */
export function skopeoCopyArgs(src: string, dst: string): string[] {
  return ['copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${src}`, `docker://${dst}`];
}
