import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDockerfile } from '../../src/builder/dockerfile/parse.js';
import { expandInstruction } from '../../src/builder/dockerfile/expand.js';
import { parseRunMount, runArgv, runEnv } from '../../src/builder/run/run-instruction.js';
import type { SandboxMount } from '../../src/builder/run/sandbox.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'slipway-run-unit-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

function runOf(text: string) {
  const instr = parseDockerfile(`FROM scratch\n${text}`, 'Dockerfile').stages[0]!.instructions[0]!;
  return expandInstruction(instr, new Map(), { file: 'Dockerfile' });
}

describe('RUN --mount', () => {
  it('reads BuildKit keys, aliases and defaults', () => {
    expect(parseRunMount('type=cache,target=/root/.cache', 'Dockerfile:2')).toMatchObject({ type: 'cache', target: '/root/.cache', readonly: false, id: undefined });
    expect(parseRunMount('target=/src', 'Dockerfile:2')).toMatchObject({ type: 'bind', target: '/src', readonly: true });
    expect(parseRunMount('type=bind,src=app,dst=/src,rw', 'Dockerfile:2')).toMatchObject({ source: 'app', target: '/src', readonly: false });
    expect(parseRunMount('type=secret,id=token', 'Dockerfile:2')).toMatchObject({ type: 'secret', id: 'token', target: '/run/secrets/token', required: false });
    expect(parseRunMount('type=secret,id=t,target=/x,mode=0440,uid=5,required', 'Dockerfile:2')).toMatchObject({ mode: 0o440, uid: 5, required: true, target: '/x' });
  });

  it('names the instruction in errors', () => {
    expect(() => parseRunMount('type=ssh', 'Dockerfile:7')).toThrow(/Dockerfile:7: RUN --mount type=ssh is not supported/);
    expect(() => parseRunMount('type=cache', 'Dockerfile:7')).toThrow(/Dockerfile:7: RUN --mount type=cache needs target=/);
    expect(() => parseRunMount('type=cache,target=/c,uid=x', 'Dockerfile:7')).toThrow(/uid=x is not a valid number/);
  });
});

describe('RUN environment', () => {
  it('is the image Env, then ARGs the Env does not set, with PATH and HOME when missing', () => {
    const args = new Map<string, string | undefined>([['A', '1'], ['B', '2'], ['UNSET', undefined]]);
    expect(runEnv(['B=env', 'X=y'], args, '/home/app')).toEqual([
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'B=env', 'X=y', 'A=1', 'HOME=/home/app',
    ]);
    expect(runEnv(['PATH=/bin', 'HOME=/h'], new Map(), '/root')).toEqual(['PATH=/bin', 'HOME=/h']);
  });
});

describe('RUN command line', () => {
  it('shell form, exec form and SHELL', async () => {
    const mounts: SandboxMount[] = [];
    expect(await runArgv(runOf('RUN echo  "a  b"'), ['/bin/sh', '-c'], dir, mounts)).toEqual(['/bin/sh', '-c', 'echo  "a  b"']);
    expect(await runArgv(runOf('RUN ["/bin/echo", "x"]'), ['/bin/sh', '-c'], dir, mounts)).toEqual(['/bin/echo', 'x']);
    expect(await runArgv(runOf('RUN echo x'), ['/bin/bash', '-eo', 'pipefail', '-c'], dir, mounts)).toEqual(['/bin/bash', '-eo', 'pipefail', '-c', 'echo x']);
  });

  it('a lone heredoc is the script; with a shebang it runs as a file; otherwise bodies follow the command', async () => {
    const mounts: SandboxMount[] = [];
    expect(await runArgv(runOf('RUN <<EOF\necho one\necho two\nEOF'), ['/bin/sh', '-c'], dir, mounts)).toEqual(['/bin/sh', '-c', 'echo one\necho two\n']);
    expect(mounts).toEqual([]);
    const argv = await runArgv(runOf('RUN <<EOF\n#!/usr/bin/env python3\nprint(1)\nEOF'), ['/bin/sh', '-c'], dir, mounts);
    expect(argv).toEqual(['/dev/pipes/heredoc-script']);
    expect(mounts).toHaveLength(1);
    const script = mounts[0]!;
    expect(script.kind === 'bind' && (await readFile(script.source, 'utf8'))).toBe('#!/usr/bin/env python3\nprint(1)\n');
    expect(await runArgv(runOf('RUN cat <<EOF > /f\nhello $HOME\nEOF'), ['/bin/sh', '-c'], dir, [])).toEqual(['/bin/sh', '-c', 'cat <<EOF > /f\nhello $HOME\nEOF\n']);
  });
});
