import { describe, expect, it } from 'vitest';
import { BuildError } from '../../src/errors.js';
import { selectFiles, type BuildContext } from '../../src/builder/context.js';
import type { ProjectFile } from '../../src/project/index.js';

function contextOf(paths: string[]): BuildContext {
  const files = new Map(paths.map((path) => [path, { path } as unknown as ProjectFile]));
  const dirs = new Set(paths.flatMap((path) => (path.includes('/') ? [path.slice(0, path.lastIndexOf('/'))] : [])));
  return { project: undefined as never, dir: '', files, dirs, ignoreFile: undefined };
}

const sources = (context: BuildContext, source: string): string[] =>
  selectFiles(context, [source], '/dst/', '/', 'Dockerfile:2').map((f) => f.source);

describe('COPY wildcards (Go filepath.Match per path segment)', () => {
  const context = contextOf(['file!.txt', 'filea.txt', 'fileb.txt', 'sub/x.txt', 'sub/y.md']);

  it('[!a] is a class of `!` and `a`, not a negation', () => {
    expect(sources(context, 'file[!a].txt')).toEqual(['file!.txt', 'filea.txt']);
  });

  it('[^a] negates', () => {
    expect(sources(context, 'file[^a].txt')).toEqual(['file!.txt', 'fileb.txt']);
  });

  it('* stays within a segment', () => {
    expect(sources(context, 'sub/*.txt')).toEqual(['sub/x.txt']);
    expect(() => sources(context, '*.md')).toThrow('source "*.md" not found');
  });

  it('a malformed pattern is a BuildError with Go’s message', () => {
    expect(() => sources(context, 'file[a')).toThrow(BuildError);
    expect(() => sources(context, 'nothing/[-x]')).toThrow('invalid pattern "nothing/[-x]": syntax error in pattern');
  });
});
