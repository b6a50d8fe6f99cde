// The filesystem of an image, read independently of Slipway's code: skopeo copies the image into
// an OCI layout, `umoci raw unpack` (as root, so owners are kept) applies its layers, whiteouts
// and opaque directories included, to a directory, and a walk with lstat records every path's
// type, permission bits (setuid/setgid/sticky included), owner, link target, hard-link partners,
// size and content digest, and `getfattr` (Debian's attr) every path's extended attributes (file
// capabilities: security.capability). Two snapshots are compared with diffSnapshots(); documented
// differences go in its `ignore` list, each with its reason.
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { skopeo } from './registries.js';

const execFileAsync = promisify(execFile);

export type FsType = 'file' | 'dir' | 'symlink' | 'fifo' | 'char' | 'block' | 'socket';

export interface FsEntry {
  type: FsType;
  /** Permission bits with setuid (0o4000), setgid (0o2000) and sticky (0o1000). */
  mode: number;
  uid: number;
  gid: number;
  /** Files: the content's size. */
  size?: number;
  /** Files: sha256 of the content, hex. */
  sha256?: string;
  /** Symlinks: the target, as stored. */
  linkTarget?: string;
  /** Files with more than one link: the other paths of the same inode in this tree, sorted. */
  hardlinks?: string[];
  /** Devices: major:minor. */
  rdev?: string;
  /**
   * Files of at most 4 KiB: the content as UTF-8, for messages and for assertions on what a RUN
   * wrote (`sha256` is what the comparison uses).
   */
  text?: string;
  /** Extended attributes (name -> value as hex), when the path has any. */
  xattrs?: Record<string, string>;
}

/** Absolute path ('/', '/etc', '/etc/passwd', ...) -> entry, in sorted path order. */
export type FsSnapshot = Map<string, FsEntry>;

const TEXT_LIMIT = 4096;

function typeOf(st: Awaited<ReturnType<typeof lstat>>): FsType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'socket';
}

export const GETFATTR_MISSING = 'getfattr is not on PATH: install attr (apt-get install attr), as test/setup/install-deps.sh does';

/** getfattr's escapes in file names (`\\nnn` octal bytes, `\\\\`) back to the name's bytes, as UTF-8. */
function unescapeGetfattr(name: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const octal = /^\\([0-7]{3})/.exec(name.slice(i));
    if (octal) { bytes.push(parseInt(octal[1]!, 8)); i += 3; continue; }
    if (name.startsWith('\\\\', i)) { bytes.push(0x5c); i += 1; continue; }
    bytes.push(...Buffer.from(name[i]!, 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Every extended attribute below `root` (symlinks not followed), by absolute path in the tree: one
 * `getfattr -R -P -h -d -m - -e hex` for the whole tree.
 */
export async function readXattrs(root: string): Promise<Map<string, Record<string, string>>> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('getfattr', ['-R', '-P', '-h', '-d', '-m', '-', '-e', 'hex', '--absolute-names', root], { maxBuffer: 256 * 1024 * 1024 }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(GETFATTR_MISSING, { cause: error });
    // getfattr exits 1 when some file has no attributes to show; its stdout still lists the rest.
    stdout = (error as { stdout?: string }).stdout ?? '';
    if (!stdout && (error as { stderr?: string }).stderr) throw new Error(`getfattr ${root}: ${(error as { stderr?: string }).stderr}`, { cause: error });
  }
  const found = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('# file: ')) {
      const abs = unescapeGetfattr(line.slice('# file: '.length));
      const rel = abs === root ? '/' : abs.slice(root.length);
      current = {};
      found.set(rel.startsWith('/') ? rel : `/${rel}`, current);
    } else if (current && line.includes('=')) {
      const eq = line.indexOf('=');
      current[line.slice(0, eq)] = line.slice(eq + 1).replace(/^0x/, '');
    }
  }
  return found;
}

/** Walks `root` with lstat (never following links) and returns every path under it, `/` included. */
export async function snapshotDir(root: string): Promise<FsSnapshot> {
  const found = new Map<string, FsEntry>();
  const inodes = new Map<string, string[]>();
  const visit = async (path: string): Promise<void> => {
    const full = path === '/' ? root : join(root, path);
    const st = await lstat(full);
    const type = typeOf(st);
    const entry: FsEntry = { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
    if (type === 'file') {
      const content = await readFile(full);
      entry.size = content.length;
      entry.sha256 = createHash('sha256').update(content).digest('hex');
      if (content.length <= TEXT_LIMIT) entry.text = content.toString('utf8');
      if (st.nlink > 1) {
        const key = `${st.dev}:${st.ino}`;
        inodes.set(key, [...(inodes.get(key) ?? []), path]);
      }
    } else if (type === 'symlink') {
      entry.linkTarget = await readlink(full);
    } else if (type === 'char' || type === 'block') {
      entry.rdev = `${Math.floor(st.rdev / 256)}:${st.rdev % 256}`;
    }
    found.set(path, entry);
    if (type === 'dir') {
      for (const name of await readdir(full)) await visit(path === '/' ? `/${name}` : `${path}/${name}`);
    }
  };
  await visit('/');
  for (const [path, attrs] of await readXattrs(root)) {
    const entry = found.get(path);
    if (entry && Object.keys(attrs).length > 0) entry.xattrs = Object.fromEntries(Object.entries(attrs).sort(([a], [b]) => (a < b ? -1 : 1)));
  }
  for (const paths of inodes.values()) {
    for (const path of paths) {
      const others = paths.filter((p) => p !== path).sort();
      if (others.length > 0) found.get(path)!.hardlinks = others;
    }
  }
  return new Map([...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function skopeoRef(ref: string): string {
  return ref.startsWith('oci:') || ref.startsWith('docker://') ? ref : `docker://${ref}`;
}

/**
 * The root filesystem of `ref` (`HOST/REPO:TAG` in a plain-HTTP registry, `docker://...`, or
 * `oci:DIR:TAG`), unpacked with skopeo + `umoci raw unpack` in a temp dir that is removed again.
 */
export async function snapshotImage(ref: string): Promise<FsSnapshot> {
  if (process.getuid?.() !== 0) throw new Error('snapshotImage unpacks with umoci as root (owners are kept only then)');
  const work = await mkdtemp(join(tmpdir(), 'slipway-image-fs-'));
  try {
    const layout = join(work, 'layout');
    await skopeo(['copy', '--quiet', '--src-tls-verify=false', skopeoRef(ref), `oci:${layout}:t`]);
    const rootfs = join(work, 'rootfs');
    try {
      await execFileAsync('umoci', ['raw', 'unpack', '--image', `${layout}:t`, rootfs], { maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      throw new Error(`umoci raw unpack of ${ref} failed: ${(error as { stderr?: string }).stderr?.trim() ?? (error as Error).message}`, { cause: error });
    }
    return await snapshotDir(rootfs);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------
// configs

export interface ImageConfig {
  architecture?: string;
  os?: string;
  config?: {
    Env?: string[] | null;
    User?: string;
    WorkingDir?: string;
    Cmd?: string[] | null;
    Entrypoint?: string[] | null;
    Labels?: Record<string, string> | null;
    [key: string]: unknown;
  };
  history?: { created_by?: string; empty_layer?: boolean }[];
  rootfs?: { diff_ids: string[] };
  [key: string]: unknown;
}

/** The image config of `ref` (`skopeo inspect --config --raw`), parsed. */
export async function imageConfig(ref: string): Promise<ImageConfig> {
  return JSON.parse(await skopeo(['inspect', '--config', '--raw', '--tls-verify=false', skopeoRef(ref)])) as ImageConfig;
}

export interface RunConfig {
  Env: string[] | null;
  User: string | null;
  WorkingDir: string | null;
  Cmd: string[] | null;
  Entrypoint: string[] | null;
}

/**
 * The parts of a config that RUN-related instructions decide, for comparing two builders.
 * Unset is one value: a field that is absent, null or '' (User, WorkingDir) reads as null,
 * as Docker reads it. Lists are kept as they are (order included).
 */
export function runConfig(config: ImageConfig): RunConfig {
  const c = config.config ?? {};
  const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
  const list = (v: unknown): string[] | null => (Array.isArray(v) ? (v as string[]) : null);
  return { Env: list(c.Env), User: str(c.User), WorkingDir: str(c.WorkingDir), Cmd: list(c.Cmd), Entrypoint: list(c.Entrypoint) };
}

// ---------------------------------------------------------------------------
// comparing

export interface IgnoreRule {
  /** Absolute path. */
  path: string;
  /** Why the builders may differ there (shown nowhere; it is for the reader of the test). */
  reason: string;
  /** Also every path below `path`. */
  subtree?: boolean;
  /**
   * Ignore only while each side's entry is absent or passes this check (for example: an empty
   * regular file, a builder's mount-point stub); by default any entry is ignored.
   */
  when?: (entry: FsEntry) => boolean;
  /**
   * Ignore only these fields (the path must still be on both sides, and the other fields match); by default
   * the whole entry.
   */
  fields?: DiffField[];
}

/** The fields of an entry that diffSnapshots compares. */
export type DiffField = 'type' | 'mode' | 'owner' | 'link' | 'device' | 'content' | 'hardlinks' | 'xattrs';

export interface DiffOptions {
  /** Names of the two sides in the messages (default 'a', 'b'). */
  labels?: [string, string];
  ignore?: (string | IgnoreRule)[];
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}...` : text);
}

/** One line describing an entry: `file 0644 0:0 12 B sha256:1234abcd "text"`. */
export function describeEntry(e: FsEntry): string {
  const parts = [e.type, octal(e.mode), `${e.uid}:${e.gid}`];
  if (e.type === 'file') {
    parts.push(`${e.size} B`, `sha256:${e.sha256!.slice(0, 12)}`);
    if (e.text !== undefined && !/[\0-\x08\x0e-\x1f]/.test(e.text)) parts.push(quote(e.text));
  }
  if (e.linkTarget !== undefined) parts.push(`-> ${e.linkTarget}`);
  if (e.hardlinks) parts.push(`hardlinked with ${e.hardlinks.join(', ')}`);
  if (e.rdev !== undefined) parts.push(`dev ${e.rdev}`);
  if (e.xattrs) parts.push(`xattrs ${xattrText(e)}`);
  return parts.join(' ');
}

function xattrText(e: FsEntry): string {
  return Object.entries(e.xattrs ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || 'none';
}

function ruleOf(rule: string | IgnoreRule): IgnoreRule {
  return typeof rule === 'string' ? { path: rule, reason: '' } : rule;
}

/** The rules that apply at `path` to these entries. */
function applying(path: string, a: FsEntry | undefined, b: FsEntry | undefined, rules: IgnoreRule[]): IgnoreRule[] {
  return rules.filter((r) => {
    const under = path === r.path || (r.subtree === true && path.startsWith(r.path === '/' ? '/' : `${r.path}/`));
    if (!under) return false;
    if (!r.when) return true;
    return (a === undefined || r.when(a)) && (b === undefined || r.when(b));
  });
}

/**
 * The differences between two snapshots, one readable line each (empty when they match):
 * paths only on one side, and per path the fields that differ, with both values.
 */
export function diffSnapshots(a: FsSnapshot, b: FsSnapshot, options: DiffOptions = {}): string[] {
  const [la, lb] = options.labels ?? ['a', 'b'];
  const rules = (options.ignore ?? []).map(ruleOf);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
  const out: string[] = [];
  for (const path of paths) {
    const ea = a.get(path);
    const eb = b.get(path);
    const rulesHere = applying(path, ea, eb, rules);
    if (rulesHere.some((r) => r.fields === undefined)) continue;
    const skip = new Set(rulesHere.flatMap((r) => r.fields ?? []));
    if (!ea) { out.push(`${path}: only in ${lb}: ${describeEntry(eb!)}`); continue; }
    if (!eb) { out.push(`${path}: only in ${la}: ${describeEntry(ea)}`); continue; }
    const fields: string[] = [];
    if (ea.type !== eb.type && !skip.has('type')) {
      out.push(`${path}: type ${la} ${describeEntry(ea)}, ${lb} ${describeEntry(eb)}`);
      continue;
    }
    if (ea.type !== eb.type) continue;
    if (ea.mode !== eb.mode && !skip.has('mode')) fields.push(`mode ${la} ${octal(ea.mode)}, ${lb} ${octal(eb.mode)}`);
    if ((ea.uid !== eb.uid || ea.gid !== eb.gid) && !skip.has('owner')) fields.push(`owner ${la} ${ea.uid}:${ea.gid}, ${lb} ${eb.uid}:${eb.gid}`);
    if (ea.linkTarget !== eb.linkTarget && !skip.has('link')) fields.push(`link ${la} ${ea.linkTarget}, ${lb} ${eb.linkTarget}`);
    if (ea.rdev !== eb.rdev && !skip.has('device')) fields.push(`device ${la} ${ea.rdev}, ${lb} ${eb.rdev}`);
    if (ea.sha256 !== eb.sha256 && !skip.has('content')) {
      const show = (e: FsEntry): string => (e.text !== undefined ? `${e.size} B ${quote(e.text)}` : `${e.size} B sha256:${e.sha256?.slice(0, 12)}`);
      fields.push(`content ${la} ${show(ea)}, ${lb} ${show(eb)}`);
    }
    const links = (e: FsEntry): string => (e.hardlinks ?? []).join(', ') || 'none';
    if (links(ea) !== links(eb) && !skip.has('hardlinks')) fields.push(`hard links ${la} [${links(ea)}], ${lb} [${links(eb)}]`);
    if (xattrText(ea) !== xattrText(eb) && !skip.has('xattrs')) fields.push(`xattrs ${la} ${xattrText(ea)}, ${lb} ${xattrText(eb)}`);
    if (fields.length > 0) out.push(`${path}: ${fields.join('; ')}`);
  }
  return out;
}
