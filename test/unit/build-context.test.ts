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

describe('COPY --exclude and --parents (issue 12 survey)', () => {
  const context = contextOf(['README.md', 'app/main.py', 'app/README.md', 'app/tests/t1.py', 'app/tests/data/x.md', 'lib/a/package.json', 'lib/b/package.json', 'lib/b/index.js']);
  const copy = (srcs: string[], dest: string, options: Parameters<typeof selectFiles>[5]): [string, string][] =>
    selectFiles(context, srcs, dest, '/', 'Dockerfile:2', options).map((f) => [f.source, f.target]);

  it('--exclude matches below a directory source, .dockerignore style (a directory excludes its contents, ** any depth)', () => {
    expect(copy(['app'], '/srv/', { exclude: ['tests', '*.md'] })).toEqual([['app/main.py', 'srv/main.py']]);
    expect(copy(['app'], '/srv/', { exclude: ['**/*.md'] })).toEqual([['app/main.py', 'srv/main.py'], ['app/tests/t1.py', 'srv/tests/t1.py']]);
    expect(copy(['.'], '/srv/', { exclude: ['*.md', 'lib'] }).map(([, t]) => t)).toEqual(['srv/app/README.md', 'srv/app/main.py', 'srv/app/tests/data/x.md', 'srv/app/tests/t1.py']);
    expect(copy(['app'], '/srv/', {})).toHaveLength(4);
  });

  it('--exclude matches a file or wildcard match by its name beside the source', () => {
    expect(copy(['README.md', 'app/main.py'], '/srv/', { exclude: ['*.md'] })).toEqual([['app/main.py', 'srv/main.py']]);
    expect(copy(['lib/*/package.json', 'lib/b/index.js'], '/srv/', { exclude: ['index.*'] }).map(([, t]) => t)).toEqual(['srv/package.json']);
  });

  it('--parents keeps the path from the context root, or from a /./ pivot', () => {
    expect(copy(['lib/*/package.json'], '/srv/', { parents: true })).toEqual([
      ['lib/a/package.json', 'srv/lib/a/package.json'], ['lib/b/package.json', 'srv/lib/b/package.json'],
    ]);
    expect(copy(['./lib/./*/package.json'], '/srv/', { parents: true }).map(([, t]) => t)).toEqual(['srv/a/package.json', 'srv/b/package.json']);
    expect(copy(['app/tests'], '/srv', { parents: true }).map(([, t]) => t)).toEqual(['srv/app/tests/data/x.md', 'srv/app/tests/t1.py']);
    expect(copy(['app/main.py'], '/srv', { parents: true })).toEqual([['app/main.py', 'srv/app/main.py']]);
    // without --parents: the file lands in the destination directory by its name
    expect(copy(['lib/*/package.json'], '/srv/', {}).map(([, t]) => t)).toEqual(['srv/package.json']);
  });
});
