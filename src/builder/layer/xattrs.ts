// Extended attributes of files on disk. Node has no xattr API: Debian's `attr` tools read and write
// them, one process for a whole tree (getfattr -R) or a whole list (setfattr --restore), never one per
// file. Only what a layer carries is read: file capabilities (`security.capability`) and `user.*`
// attributes, never overlayfs's own (`trusted.overlay.*`, `user.overlay.*`).

import { spawn } from 'node:child_process';
import { writeFile, rm } from 'node:fs/promises';
import { BuildError } from '../../errors.js';

const HINT = 'install the attr package (getfattr, setfattr): apt-get install attr';

/** The attributes a layer carries. */
export function isLayerXattr(name: string): boolean {
  return name === 'security.capability' || (name.startsWith('user.') && !name.startsWith('user.overlay.'));
}

function run(argv: string[], what: string, okCodes: number[] = [0]): Promise<Buffer> {
  const full = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', (error) => reject(new BuildError(`${what}: ${error.message}`, { cause: error, hint: HINT })));
    child.on('close', (code) => (okCodes.includes(code ?? -1) ? resolve(Buffer.concat(out)) : reject(new BuildError(`${what}: ${err.trim() || `exit code ${code}`}`, { hint: HINT }))));
  });
}

/** getfattr's quoting of a file name: backslash and non-printable bytes as `\ooo`. */
function unquote(text: Buffer): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === 0x5c && i + 3 < text.length && /^[0-7]{3}$/.test(text.subarray(i + 1, i + 4).toString('latin1'))) {
      bytes.push(parseInt(text.subarray(i + 1, i + 4).toString('latin1'), 8));
      i += 3;
    } else if (c === 0x5c && text[i + 1] === 0x5c) {
      bytes.push(0x5c);
      i += 1;
    } else bytes.push(c);
  }
  return Buffer.from(bytes).toString('utf8');
}

function quote(path: string): string {
  let out = '';
  for (const byte of Buffer.from(path, 'utf8')) {
    if (byte === 0x5c || byte < 0x21 || byte >= 0x7f ) out += `\\${byte.toString(8).padStart(3, '0')}`;
    else out += String.fromCharCode(byte);
  }
  return out;
}

/**
 * The layer attributes of every entry below `root` (symlinks not followed), by path relative to `root`
 * ('' for `root` itself). One getfattr process.
 */
export async function readXattrTree(root: string): Promise<Map<string, Record<string, Buffer>>> {
  // -h: a symlink's own attributes, never its target's (a RUN's symlink may point anywhere on the host); -P: no
  // descent through symlinked directories.
  const dump = await run(['getfattr', '--absolute-names', '-R', '-P', '-h', '-d', '-e', 'hex', '-m', '^(security\\.capability|user\\.)', root],
    `cannot read the extended attributes under ${root}`, [0, 1]);
  const out = new Map<string, Record<string, Buffer>>();
  const rootPrefix = `${root.replace(/\/+$/, '')}/`;
  let current: Record<string, Buffer> | undefined;
  let start = 0;
  while (start < dump.length) {
    let end = dump.indexOf(0x0a, start);
    if (end < 0) end = dump.length;
    const line = dump.subarray(start, end);
    start = end + 1;
    if (line.length === 0) continue;
    if (line.subarray(0, 8).toString('latin1') === '# file: ') {
      const path = unquote(line.subarray(8));
      const relative = path === rootPrefix.slice(0, -1) ? '' : path.startsWith(rootPrefix) ? path.slice(rootPrefix.length) : undefined;
      current = undefined;
      if (relative !== undefined) {
        current = {};
        out.set(relative, current);
      }
      continue;
    }
    const text = line.toString('latin1');
    const eq = text.indexOf('=');
    if (current === undefined || eq < 0) continue;
    const name = unquote(line.subarray(0, eq));
    const value = text.slice(eq + 1);
    if (!isLayerXattr(name) || !value.startsWith('0x')) continue;
    current[name] = Buffer.from(value.slice(2), 'hex');
  }
  for (const [path, attrs] of out) if (Object.keys(attrs).length === 0) out.delete(path);
  return out;
}

/** Set attributes on files (absolute paths; symlinks themselves, not followed), with one setfattr process. */
export async function writeXattrs(files: readonly { path: string; xattrs: Record<string, Buffer> }[], scratchFile: string): Promise<void> {
  const lines: string[] = [];
  for (const { path, xattrs } of files) {
    const names = Object.keys(xattrs).filter(isLayerXattr);
    if (names.length === 0) continue;
    lines.push(`# file: ${quote(path)}`);
    for (const name of names) lines.push(`${name}=0x${xattrs[name]!.toString('hex')}`);
    lines.push('');
  }
  if (lines.length === 0) return;
  await writeFile(scratchFile, `${lines.join('\n')}\n`);
  try {
    await run(['setfattr', '-h', `--restore=${scratchFile}`], 'cannot set extended attributes');
  } finally {
    await rm(scratchFile, { force: true });
  }
}
