// The build context of a Dockerfile image: the files of the context directory as the
// project's git commit holds them (or the working tree with --dev), minus what
// `.dockerignore` excludes, and Docker's rules for what a COPY/ADD source selects.

import { createRequire } from 'node:module';
import { posix } from 'node:path';
import type { Ignore } from '@balena/dockerignore';
import { BuildError } from '../errors.js';
import { BadPatternError, match } from '../go/filepath.js';
import type { ProjectFile, ProjectFiles } from '../project/index.js';

export interface BuildContext {
  readonly project: ProjectFiles;
  /** The context directory, relative to the project directory ('' for the project itself). */
  readonly dir: string;
  /** Context files by path relative to the context directory, after .dockerignore; sorted. */
  readonly files: ReadonlyMap<string, ProjectFile>;
  /** Every directory that holds a context file (git tracks no directories of its own). */
  readonly dirs: ReadonlySet<string>;
  /** The ignore file that was applied, if any (project-relative). */
  readonly ignoreFile: string | undefined;
}

/** A context file selected by COPY/ADD, with its path in the image (relative to `/`). */
export interface SelectedFile {
  source: string;
  target: string;
  file: ProjectFile;
}

// A CommonJS module whose typings claim an ES default export: load it as what it is.
const dockerignore = createRequire(import.meta.url)('@balena/dockerignore') as () => Ignore;

function normalizeDir(dir: string): string {
  const clean = posix.normalize(dir.replaceAll('\\', '/')).replace(/^\.\/?$/, '').replace(/\/$/, '');
  return clean === '.' ? '' : clean;
}

/**
 * `<Dockerfile>.dockerignore` beside the Dockerfile wins over `<context>/.dockerignore`, as in
 * BuildKit and werf.
 */
export function openBuildContext(project: ProjectFiles, contextDir: string, dockerfilePath: string): BuildContext {
  const dir = normalizeDir(contextDir);
  const candidates = [`${dockerfilePath}.dockerignore`, posix.join(dir, '.dockerignore')];
  const ignoreFile = candidates.find((path) => project.exists(path, 'dockerignore'));
  const ignore = dockerignore();
  if (ignoreFile) {
    const lines = project.readFile(ignoreFile, 'dockerignore').toString('utf8').split(/\r?\n/);
    ignore.add(lines.map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#')));
  }
  const files = new Map<string, ProjectFile>();
  const dirs = new Set<string>();
  const prefix = dir === '' ? '' : `${dir}/`;
  for (const file of project.listFiles(dir, 'context')) {
    const relative = file.path.slice(prefix.length);
    if (ignore.ignores(relative)) continue;
    files.set(relative, file);
    for (let parent = posix.dirname(relative); parent !== '.'; parent = posix.dirname(parent)) dirs.add(parent);
  }
  const sorted = new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return { project, dir, files: sorted, dirs, ignoreFile };
}

const hasWildcard = (p: string): boolean => /[*?[]/.test(p);

export interface SelectOptions {
  /**
   * `--exclude` patterns (.dockerignore syntax: `**`, `!`, a directory excludes what is below it), matched
   * against each file's path relative to its source: below a directory source, or beside a file or wildcard
   * source (BuildKit's ExcludePatterns).
   */
  exclude?: readonly string[];
  /**
   * `--parents`: keep each file's path from the context root (or from a `/./` pivot in the source) below the
   * destination, instead of the path below its source.
   */
  parents?: boolean;
}

/**
 * Resolve COPY/ADD sources against the context. A directory source copies its contents;
 * `dest` ending in `/` (or several sources) is a directory. `workdir` anchors a relative dest.
 * `where` (e.g. `Dockerfile:7`) prefixes errors.
 */
export function selectFiles(context: BuildContext, sources: readonly string[], dest: string, workdir: string, where: string, options: SelectOptions = {}): SelectedFile[] {
  const absoluteDest = posix.resolve('/', workdir || '/', dest);
  const destIsDir = dest.endsWith('/') || dest.endsWith('/.') || sources.length > 1 || sources.some(hasWildcard) || options.parents === true;
  const excluded = excluder(options.exclude ?? []);
  const target = absoluteDest.replace(/^\/+/, '');
  const selected = new Map<string, SelectedFile>();
  const add = (source: string, targetPath: string): void => {
    const file = context.files.get(source)!;
    selected.set(targetPath, { source, target: targetPath, file });
  };
  for (const raw of sources) {
    // Sources never leave the context: `../x` and `/x` are read relative to its root.
    const source = posix.normalize(`/${raw}`).replace(/^\/+/, '').replace(/\/$/, '');
    // --parents: the path kept below the destination starts after a `/./` pivot, else at the context root.
    const pivotAt = raw.replaceAll('\\', '/').indexOf('/./');
    const pivot = options.parents && pivotAt >= 0 ? posix.normalize(`/${raw.slice(0, pivotAt)}`).replace(/^\/+/, '') : '';
    const kept = (path: string): string => (pivot === '' ? path : path.slice(pivot.length + 1));
    const matches = hasWildcard(source) ? matchPattern(context, source) : [source];
    let found = false;
    for (const match of matches) {
      if (match === '' || context.dirs.has(match)) {
        const prefix = match === '' ? '' : `${match}/`;
        for (const path of context.files.keys()) {
          if (!path.startsWith(prefix)) continue;
          found = true;
          if (excluded(path.slice(prefix.length))) continue;
          add(path, posix.join(target, options.parents ? kept(path) : path.slice(prefix.length)));
        }
      } else if (context.files.has(match)) {
        found = true;
        if (excluded(posix.basename(match))) continue;
        add(match, options.parents ? posix.join(target, kept(match)) : destIsDir || target === '' ? posix.join(target, posix.basename(match)) : target);
      }
    }
    if (!found) {
      throw new BuildError(`${where}: source "${raw}" not found in the build context${context.ignoreFile ? ` (after ${context.ignoreFile})` : ''}`, {
        hint: 'check the path relative to the context directory, and that the file is committed (or use --dev)',
      });
    }
  }
  return [...selected.values()].sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
}

/** `--exclude` patterns as a predicate on a path relative to its source. */
function excluder(patterns: readonly string[]): (relative: string) => boolean {
  if (patterns.length === 0) return () => false;
  const ignore = dockerignore();
  ignore.add([...patterns]);
  return (relative) => relative !== '' && ignore.ignores(relative);
}

/**
 * The context paths a wildcard source names: each `/`-separated segment matched by Go's filepath.Match against
 * the path's segment at the same depth. Throws BuildError for a malformed pattern.
 */
function matchPattern(context: BuildContext, pattern: string): string[] {
  const segments = pattern.split('/');
  const matches = (path: string): boolean => {
    const parts = path.split('/');
    return parts.length === segments.length && parts.every((part, i) => match(segments[i]!, part));
  };
  const candidates = new Set<string>([...context.files.keys(), ...context.dirs]);
  try {
    for (const segment of segments) match(segment, ''); // a malformed pattern is an error even with no candidates
    return [...candidates].filter(matches).sort();
  } catch (error) {
    if (error instanceof BadPatternError) throw new BuildError(`invalid pattern ${JSON.stringify(pattern)}: ${error.message}`, { cause: error });
    throw error;
  }
}
