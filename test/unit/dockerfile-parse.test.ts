import { describe, expect, it } from 'vitest';
import { heredocText, parseDockerfile, parseInstruction } from '../../src/builder/dockerfile/parse.js';
import { DockerfileError } from '../../src/builder/dockerfile/errors.js';
import { commandLine, healthcheckConfig, keyValuePairs } from '../../src/builder/dockerfile/instructions.js';
import type { Instruction } from '../../src/builder/dockerfile/types.js';
import { errorOf } from '../support/errors.js';

/** The instructions of a one-stage Dockerfile after `FROM scratch`. */
function body(text: string): Instruction[] {
  return parseDockerfile(`FROM scratch\n${text}`, 'Dockerfile').stages[0]!.instructions;
}

function one(text: string): Instruction {
  const list = body(text);
  expect(list).toHaveLength(1);
  return list[0]!;
}

function shape(i: Instruction): Pick<Instruction, 'keyword' | 'flags' | 'args' | 'json'> {
  return { keyword: i.keyword, flags: i.flags, args: i.args, json: i.json };
}

function parseError(text: string, file = 'Dockerfile'): DockerfileError {
  return errorOf(DockerfileError, () => parseDockerfile(text, file));
}

describe('parseDockerfile: instruction forms', () => {
  it('FROM with --platform, AS (any case) and stage names lowercased', () => {
    const df = parseDockerfile('FROM alpine:3.20\nfrom --platform=$BUILDPLATFORM golang:1.22 as Build\nFROM build AS final', 'Dockerfile');
    expect(df.stages.map((s) => [s.index, s.name, s.base, s.platform, s.line])).toEqual([
      [0, undefined, 'alpine:3.20', undefined, 1],
      [1, 'build', 'golang:1.22', '$BUILDPLATFORM', 2],
      [2, 'final', 'build', undefined, 3],
    ]);
    expect(shape(df.stages[1]!.from)).toEqual({ keyword: 'FROM', flags: { platform: '$BUILDPLATFORM' }, args: ['golang:1.22', 'as', 'Build'], json: false });
  });

  it('ARG: one or several names, with or without defaults, quotes kept until expansion', () => {
    expect(one('ARG A').args).toEqual(['A']);
    expect(one('ARG A=1 B C="x y"').args).toEqual(['A=1', 'B', 'C="x y"']);
    expect(one('ARG E=').args).toEqual(['E=']);
  });

  it('ENV and LABEL: key=value pairs and the legacy "key value" form', () => {
    expect(one('ENV a=b c="d e" f\\ g=h').args).toEqual(['a', 'b', 'c', '"d e"', 'f\\ g', 'h']);
    expect(one('ENV legacy value with  spaces').args).toEqual(['legacy', 'value with  spaces']);
    expect(one('ENV EMPTY=').args).toEqual(['EMPTY', '']);
    expect(one('LABEL org.opencontainers.image.title="My app" version=1').args).toEqual(['org.opencontainers.image.title', '"My app"', 'version', '1']);
    expect(one('LABEL maintainer someone@example.org').args).toEqual(['maintainer', 'someone@example.org']);
    expect(keyValuePairs(one('ENV a=1 b=2').args)).toEqual([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ]);
  });

  it('WORKDIR, USER, STOPSIGNAL and MAINTAINER take the rest of the line as one argument', () => {
    expect(shape(one('WORKDIR /app dir'))).toEqual({ keyword: 'WORKDIR', flags: {}, args: ['/app dir'], json: false });
    expect(one('USER app:app').args).toEqual(['app:app']);
    expect(one('STOPSIGNAL SIGTERM').args).toEqual(['SIGTERM']);
    expect(one('MAINTAINER Jane Doe <jane@example.org>').args).toEqual(['Jane Doe <jane@example.org>']);
  });

  it('EXPOSE and VOLUME (list and JSON forms)', () => {
    expect(one('EXPOSE 80 443/tcp  53/udp').args).toEqual(['80', '443/tcp', '53/udp']);
    expect(shape(one('VOLUME /data /cache'))).toEqual({ keyword: 'VOLUME', flags: {}, args: ['/data', '/cache'], json: false });
    expect(shape(one('VOLUME ["/data", "/with space"]'))).toEqual({ keyword: 'VOLUME', flags: {}, args: ['/data', '/with space'], json: true });
  });

  it('CMD, ENTRYPOINT and RUN: exec (JSON) and shell forms', () => {
    expect(shape(one('CMD ["nginx", "-g", "daemon off;"]'))).toEqual({ keyword: 'CMD', flags: {}, args: ['nginx', '-g', 'daemon off;'], json: true });
    expect(shape(one('CMD nginx -g "daemon off;"'))).toEqual({ keyword: 'CMD', flags: {}, args: ['nginx -g "daemon off;"'], json: false });
    expect(shape(one('ENTRYPOINT ["/entry.sh"]'))).toEqual({ keyword: 'ENTRYPOINT', flags: {}, args: ['/entry.sh'], json: true });
    expect(shape(one('RUN [ -f /etc/os-release ] && echo ok'))).toEqual({ keyword: 'RUN', flags: {}, args: ['[ -f /etc/os-release ] && echo ok'], json: false });
    // Not a JSON array of strings only when it does not parse: `[1]` is an error, `[oops` is shell text.
    expect(one('CMD [oops').args).toEqual(['[oops']);
    expect(commandLine(one('CMD echo hi'))).toEqual(['/bin/sh', '-c', 'echo hi']);
    expect(commandLine(one('CMD ["echo", "hi"]'))).toEqual(['echo', 'hi']);
    expect(commandLine(one('ENTRYPOINT []'))).toBeNull();
    expect(commandLine(one('CMD echo hi'), ['pwsh', '-c'])).toEqual(['pwsh', '-c', 'echo hi']);
  });

  it('SHELL needs the JSON form', () => {
    expect(shape(one('SHELL ["/bin/bash", "-euo", "pipefail", "-c"]'))).toEqual({ keyword: 'SHELL', flags: {}, args: ['/bin/bash', '-euo', 'pipefail', '-c'], json: true });
    expect(parseError('FROM a\nSHELL /bin/bash -c').message).toBe('Dockerfile:2: SHELL requires the arguments to be in JSON form');
  });

  it('HEALTHCHECK NONE and CMD with its flags', () => {
    expect(shape(one('HEALTHCHECK NONE'))).toEqual({ keyword: 'HEALTHCHECK', flags: {}, args: ['NONE'], json: false });
    const hc = one('HEALTHCHECK --interval=30s --timeout=3s --start-period=1m30s --start-interval=500ms --retries=3 CMD curl -f http://localhost/ || exit 1');
    expect(shape(hc)).toEqual({
      keyword: 'HEALTHCHECK',
      flags: { interval: '30s', timeout: '3s', 'start-period': '1m30s', 'start-interval': '500ms', retries: '3' },
      args: ['CMD', 'curl -f http://localhost/ || exit 1'],
      json: false,
    });
    expect(healthcheckConfig(hc)).toEqual({
      Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'],
      Interval: 30e9,
      Timeout: 3e9,
      StartPeriod: 90e9,
      StartInterval: 500e6,
      Retries: 3,
    });
    expect(healthcheckConfig(one('HEALTHCHECK CMD ["curl", "-f", "x"]'))).toEqual({ Test: ['CMD', 'curl', '-f', 'x'] });
    expect(healthcheckConfig(one('HEALTHCHECK NONE'))).toEqual({ Test: ['NONE'] });
  });

  it('ONBUILD records its text and parses its trigger', () => {
    const ob = one('ONBUILD COPY --chown=app . /src');
    expect(ob.args).toEqual(['COPY --chown=app . /src']);
    expect(shape(ob.trigger!)).toEqual({ keyword: 'COPY', flags: { chown: 'app' }, args: ['.', '/src'], json: false });
    expect(ob.trigger!.line).toBe(2);
  });

  it('COPY and ADD with every flag', () => {
    const copy = one('COPY --chown=1000:1000 --chmod=0755 --link --parents --exclude=*.md --exclude=tmp/ a b /dst/');
    expect(shape(copy)).toEqual({
      keyword: 'COPY',
      flags: { chown: '1000:1000', chmod: '0755', link: 'true', parents: 'true', exclude: ['*.md', 'tmp/'] },
      args: ['a', 'b', '/dst/'],
      json: false,
    });
    expect(one('COPY --from=build --link a /dst/').flags).toEqual({ from: 'build', link: 'true' });
    const add = one('ADD --checksum=sha256:abc --link=false https://example.org/x.tgz /x');
    expect(add.flags).toEqual({ checksum: 'sha256:abc', link: 'false' });
    expect(one('ADD --exclude=*.md ctx /x').flags).toEqual({ exclude: ['*.md'] });
    expect(shape(one('COPY ["a b", "/c d/"]'))).toEqual({ keyword: 'COPY', flags: {}, args: ['a b', '/c d/'], json: true });
    // Flag words may be quoted; `--` ends the flags.
    expect(one('COPY --chown="app user" -- --odd /x').flags).toEqual({ chown: 'app user' });
    expect(one('COPY --chown="app user" -- --odd /x').args).toEqual(['--odd', '/x']);
  });

  it('RUN: repeatable --mount, --network, --security', () => {
    const run = one('RUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=npmrc --network=none --security=sandbox make');
    expect(run.flags).toEqual({ mount: ['type=cache,target=/root/.cache', 'type=secret,id=npmrc'], network: 'none', security: 'sandbox' });
    expect(run.args).toEqual(['make']);
  });

  it('keywords are case-insensitive', () => {
    expect(body('run echo\nCopy a /b\nenv A=1').map((i) => i.keyword)).toEqual(['RUN', 'COPY', 'ENV']);
  });
});

describe('parseDockerfile: features Slipway does not implement are refused before any build, naming Dockerfile:LINE', () => {
  it.each([
    ['ADD https://github.com/moby/buildkit.git#v0.12 /src', 'ADD of a git repository (https://github.com/moby/buildkit.git#v0.12) is not supported'],
    ['ADD git@github.com:moby/buildkit.git /src', 'ADD of a git repository (git@github.com:moby/buildkit.git) is not supported'],
    ['ADD --keep-git-dir=true ctx /src', 'ADD --keep-git-dir is not supported'],
    ['ADD --unpack=true https://example.org/x.tgz /x', 'ADD --unpack is not supported'],
    ['ADD --exclude=*.md https://example.org/x.tgz /x', 'ADD --exclude is not supported with a URL source'],
    ['COPY --from=build --exclude=*.md / /x', 'COPY --exclude is not supported together with --from'],
    ['COPY --from=build --parents a/b /x/', 'COPY --parents is not supported together with --from'],
    ['RUN --mount=type=ssh git clone git@example.org:x', 'RUN --mount=type=ssh is not supported: Slipway does not forward an SSH agent'],
    ['RUN --mount=type=ssh,id=default,required=true true', 'RUN --mount=type=ssh is not supported'],
    ['RUN --mount=type=nfs,target=/x true', 'RUN --mount type=nfs is not supported'],
    ['RUN --security=insecure modprobe x', 'RUN --security=insecure is not supported'],
    ['RUN --device=/dev/fuse true', 'RUN --device is not supported'],
  ])('%s', (instruction, message) => {
    expect(parseError(`FROM scratch\n\n${instruction}`).message).toMatch(new RegExp(`^Dockerfile:3: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('accepts what it implements: COPY --link, --exclude, --parents, ADD --link, RUN --mount of bind, cache, tmpfs and secret, --security=sandbox', () => {
    expect(() => body([
      'COPY --link --exclude=*.md --parents a/./b /x/',
      'ADD --link --exclude=*.md ctx /y/',
      'ADD https://example.org/x.tar.gz /z',
      'RUN --mount=type=bind,source=a,target=/a --mount=type=cache,target=/c --mount=type=tmpfs,target=/t --mount=type=secret,id=s --mount=target=/b true',
      'RUN --mount=type=$T,target=/x --security=sandbox true',
    ].join('\n'))).not.toThrow();
  });

  it('# syntax= naming docker/dockerfile is accepted (any tag, registry or digest); another frontend is refused on its line', () => {
    for (const value of ['docker/dockerfile:1', 'docker/dockerfile:1.7-labs', 'docker.io/docker/dockerfile:1.4', 'docker/dockerfile-upstream:master',
      `docker/dockerfile:1@sha256:${'a'.repeat(64)}`, 'docker/dockerfile']) {
      const df = parseDockerfile(`# syntax=${value}\nFROM scratch`, 'Dockerfile');
      expect(df.directives['syntax']).toBe(value);
      expect(df.directiveLines['syntax']).toBe(1);
    }
    expect(parseError('# escape=`\n# syntax = devthefuture/dockerfile-x\nFROM scratch').message)
      .toBe('Dockerfile:2: # syntax=devthefuture/dockerfile-x names another frontend than docker/dockerfile: Slipway reads Dockerfiles itself and cannot run a frontend image');
    expect(parseError('# syntax=example.org/docker/dockerfile:1\nFROM scratch').message).toMatch(/^Dockerfile:1: # syntax=example.org\/docker\/dockerfile:1 names another frontend/);
  });
});

describe('parseDockerfile: directives, comments, continuations', () => {
  it('reads # escape= and # syntax= (recorded, otherwise ignored)', () => {
    const df = parseDockerfile('# syntax=docker/dockerfile:1.7\n# escape=`\nFROM mcr.microsoft.com/windows\nRUN dir `\n  c:\\', 'Dockerfile');
    expect(df.escape).toBe('`');
    expect(df.directives).toEqual({ syntax: 'docker/dockerfile:1.7', escape: '`' });
    expect(df.stages[0]!.instructions[0]!.args).toEqual(['dir   c:\\']);
  });

  it('directives are case-insensitive and may have blanks around the =', () => {
    expect(parseDockerfile('#  ESCAPE = ` \nFROM a', 'Dockerfile').escape).toBe('`');
  });

  it('a directive after a comment, an empty line, an instruction or an unknown directive is a comment', () => {
    expect(parseDockerfile('# hello\n# escape=`\nFROM a', 'D').escape).toBe('\\');
    expect(parseDockerfile('\n# escape=`\nFROM a', 'D').escape).toBe('\\');
    expect(parseDockerfile('FROM a\n# escape=`\nRUN x', 'D').escape).toBe('\\');
    expect(parseDockerfile('# foo=bar\n# escape=`\nFROM a', 'D').escape).toBe('\\');
  });

  it('rejects a repeated or invalid directive', () => {
    expect(parseError('# escape=`\n# escape=\\\nFROM a').message).toBe('Dockerfile:2: only one escape parser directive can be used');
    expect(parseError('# escape=x\nFROM a').message).toBe("Dockerfile:1: invalid escape token 'x' does not match ` or \\");
  });

  it('joins continuation lines, skipping comment and empty lines inside them', () => {
    const run = one('RUN apt-get update \\\n  # a comment inside\n\n    && apt-get install -y curl \\   \n    && rm -rf /var/lib/apt/lists/*');
    // Continuation lines keep their indentation (BuildKit trims only the first line).
    expect(run.args).toEqual(['apt-get update     && apt-get install -y curl     && rm -rf /var/lib/apt/lists/*']);
    expect([run.line, run.endLine]).toEqual([2, 6]);
  });

  it('an escaped escape character at the end of a line does not continue it', () => {
    expect(body('RUN echo a\\\\\nRUN echo b').map((i) => i.args[0])).toEqual(['echo a\\\\', 'echo b']);
  });

  it('ignores comments, blank lines, indentation, a BOM and CRLF line endings', () => {
    const df = parseDockerfile('\uFEFF# top\r\n\r\n  FROM alpine  \r\n\t# note\r\n   RUN echo hi   \r\nENV A=1 \\\r\n  B=2\r\n', 'Dockerfile');
    const [run, env] = df.stages[0]!.instructions;
    expect(df.stages[0]!.line).toBe(3);
    expect([run!.line, run!.args]).toEqual([5, ['echo hi']]);
    expect([env!.line, env!.endLine, env!.args]).toEqual([6, 7, ['A', '1', 'B', '2']]);
  });

  it('a # in the middle of a line is not a comment', () => {
    expect(one('RUN echo "#1" # not a comment for the builder').args).toEqual(['echo "#1" # not a comment for the builder']);
  });
});

describe('parseDockerfile: heredocs', () => {
  it('RUN with a heredoc script', () => {
    const [run, user] = body('RUN <<EOF\napt-get update\napt-get install -y curl\nEOF\nUSER app') as [Instruction, Instruction];
    expect([user.keyword, user.line]).toEqual(['USER', 6]);
    expect(run.args).toEqual(['<<EOF']);
    expect(run.heredocs).toEqual([{ name: 'EOF', content: 'apt-get update\napt-get install -y curl\n', chomp: false, expand: true, fd: 0 }]);
    expect([run.line, run.endLine]).toEqual([2, 5]);
  });

  it('quoted delimiters turn expansion off; <<- strips leading tabs; file descriptors; several heredocs', () => {
    const run = one("RUN 3<<'A' <<-\"B\" cat /dev/fd/3 -\na $x\nA\n\tb\n\tB");
    expect(run.heredocs).toEqual([
      { name: 'A', content: 'a $x\n', chomp: false, expand: false, fd: 3 },
      { name: 'B', content: '\tb\n', chomp: true, expand: false, fd: 0 },
    ]);
    expect(heredocText(run.heredocs![1]!)).toBe('b\n');
  });

  it('COPY with heredoc sources', () => {
    const copy = one('COPY --chmod=0755 <<EOF <<EOF2 /opt/\nhello\nEOF\n#!/bin/sh\nEOF2');
    expect(copy.args).toEqual(['<<EOF', '<<EOF2', '/opt/']);
    expect(copy.heredocs!.map((h) => [h.name, h.content])).toEqual([
      ['EOF', 'hello\n'],
      ['EOF2', '#!/bin/sh\n'],
    ]);
  });

  it('heredoc bodies keep comments and blank lines', () => {
    expect(one('RUN <<EOF\n# kept\n\nexit 0\nEOF').heredocs![0]!.content).toBe('# kept\n\nexit 0\n');
  });

  it('only RUN, COPY and ADD in shell form have heredocs; quoted << is not one', () => {
    expect(one('LABEL x=<<EOF').args).toEqual(['x', '<<EOF']);
    expect(one('RUN ["cat", "<<EOF"]').heredocs).toBeUndefined();
    expect(one('RUN echo "<<EOF"').heredocs).toBeUndefined();
    expect(one('RUN cat<<EOF').heredocs).toBeUndefined();
  });

  it('ONBUILD triggers carry their heredocs', () => {
    const ob = one('ONBUILD RUN <<EOF\necho built\nEOF');
    expect(ob.trigger!.heredocs![0]!.content).toBe('echo built\n');
  });

  it('an unterminated heredoc is an error at the instruction', () => {
    expect(parseError('FROM a\nCOPY <<EOF /x\nsome text\n').message).toBe('Dockerfile:2: unterminated heredoc: no line "EOF" ends the here-document');
  });

  it('a heredoc cannot be the destination', () => {
    expect(parseError('FROM a\nCOPY a <<EOF\nx\nEOF').message).toBe('Dockerfile:2: COPY cannot accept a heredoc as a destination');
  });
});

describe('parseDockerfile: stages and meta ARGs', () => {
  it('ARGs before the first FROM are meta ARGs; each FROM starts a stage', () => {
    const df = parseDockerfile('ARG BASE=alpine\nARG TAG\nFROM ${BASE}:${TAG} AS a\nRUN x\nFROM a\nRUN y', 'Dockerfile');
    expect(df.metaArgs.map((a) => a.args)).toEqual([['BASE=alpine'], ['TAG']]);
    expect(df.stages.map((s) => s.instructions.map((i) => i.args[0]))).toEqual([['x'], ['y']]);
  });

  it('parseInstruction parses one trigger line (ONBUILD from a base image config)', () => {
    const instr = parseInstruction('COPY --from=0 /a /b', { file: 'Dockerfile', line: 7 });
    expect(shape(instr)).toEqual({ keyword: 'COPY', flags: { from: '0' }, args: ['/a', '/b'], json: false });
    expect(instr.line).toBe(7);
    expect(() => parseInstruction('BOGUS x', { file: 'Dockerfile', line: 7 })).toThrow('Dockerfile:7: unknown instruction: BOGUS');
  });
});

describe('parseDockerfile: errors name the file and the line', () => {
  it.each([
    ['FROM a\nCOPY onlyonearg', 'Dockerfile:2: COPY requires at least two arguments, but only one was provided. Destination could not be determined.'],
    ['FROM a\nADD', 'Dockerfile:2: ADD requires at least two arguments, but only none were provided. Destination could not be determined.'],
    ['FROM a\n\nFOO bar', 'Dockerfile:3: unknown instruction: FOO'],
    ['FROM a\nENV', 'Dockerfile:2: ENV requires at least one argument'],
    ['FROM a\nENV ONLYKEY', 'Dockerfile:2: ENV must have two arguments'],
    ['FROM a\nENV a=1 b', `Dockerfile:2: Syntax error - can't find = in "b". Must be of the form: name=value`],
    ['FROM a\nENV =1', 'Dockerfile:2: ENV names can not be blank'],
    ['FROM a\nARG', 'Dockerfile:2: ARG requires at least one argument'],
    ['FROM a\nARG =x', 'Dockerfile:2: ARG names can not be blank'],
    ['FROM', 'Dockerfile:1: FROM requires either one or three arguments: FROM [--platform=<platform>] <image> [AS <name>]'],
    ['FROM a b', 'Dockerfile:1: FROM requires either one or three arguments: FROM [--platform=<platform>] <image> [AS <name>]'],
    ['FROM a AS 1st', `Dockerfile:1: invalid name for build stage: "1st", name can't start with a number or contain symbols`],
    ['FROM a AS x\nFROM b AS X', 'Dockerfile:2: duplicate stage name "x" (also on line 1)'],
    ['RUN echo\nFROM a', 'Dockerfile:1: RUN before the first FROM: only ARG may come before FROM (no build stage in current context)'],
    ['# only a comment\nARG A=1', 'Dockerfile:2: the Dockerfile has no FROM instruction: a build stage starts with FROM <image>'],
    ['FROM a\nCOPY --form=x a b', 'Dockerfile:2: unknown flag: form (this instruction accepts --chown, --chmod, --from, --link, --parents, --exclude)'],
    ['FROM a\nENV --x=1 A=1', 'Dockerfile:2: unknown flag: x (this instruction takes no flags)'],
    ['FROM a\nCMD --help', 'Dockerfile:2: unknown flag: help (this instruction takes no flags)'],
    ['FROM a\nCOPY --from a b', 'Dockerfile:2: missing a value on flag: from'],
    ['FROM a\nCOPY --link=maybe a b', 'Dockerfile:2: expecting boolean value for flag link, not: maybe'],
    ['FROM a\nCOPY --link= a b', 'Dockerfile:2: missing a value on flag: link'],
    ['FROM a\nCOPY --from=x --from=y a b', 'Dockerfile:2: duplicate flag specified: from'],
    ['FROM a\nRUN --network=bridge x', 'Dockerfile:2: unsupported network mode "bridge" (default, none or host)'],
    ['FROM a\nRUN', 'Dockerfile:2: RUN requires at least one argument'],
    ['FROM a\nCMD ["a", 1]', 'Dockerfile:2: when using JSON array syntax, arrays must be comprised of strings only'],
    ['FROM a\nWORKDIR', 'Dockerfile:2: WORKDIR requires exactly one argument'],
    ['FROM a\nUSER', 'Dockerfile:2: USER requires exactly one argument'],
    ['FROM a\nEXPOSE', 'Dockerfile:2: EXPOSE requires at least one argument'],
    ['FROM a\nVOLUME [""]', 'Dockerfile:2: VOLUME specified can not be an empty string'],
    ['FROM a\nHEALTHCHECK', 'Dockerfile:2: HEALTHCHECK requires at least one argument'],
    ['FROM a\nHEALTHCHECK NONE x', 'Dockerfile:2: HEALTHCHECK NONE takes no arguments'],
    ['FROM a\nHEALTHCHECK SOMETIMES x', 'Dockerfile:2: Unknown type "SOMETIMES" in HEALTHCHECK (try CMD)'],
    ['FROM a\nHEALTHCHECK CMD', 'Dockerfile:2: Missing command after HEALTHCHECK CMD'],
    ['FROM a\nHEALTHCHECK --interval=soon CMD x', 'Dockerfile:2: time: invalid duration "soon"'],
    ['FROM a\nHEALTHCHECK --interval=1us CMD x', 'Dockerfile:2: Interval "interval" cannot be less than 1ms'],
    ['FROM a\nHEALTHCHECK --retries=-1 CMD x', 'Dockerfile:2: --retries cannot be negative (-1)'],
    ['FROM a\nHEALTHCHECK --bogus=1 CMD x', 'Dockerfile:2: unknown flag: bogus (this instruction accepts --interval, --timeout, --start-period, --start-interval, --retries)'],
    ['FROM a\nONBUILD', 'Dockerfile:2: ONBUILD requires at least one argument'],
    ['FROM a\nONBUILD ONBUILD RUN x', "Dockerfile:2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"],
    ['FROM a\nONBUILD FROM b', "Dockerfile:2: FROM isn't allowed as an ONBUILD trigger"],
    ['FROM a\nONBUILD NOPE x', 'Dockerfile:2: unknown instruction: NOPE'],
    ['FROM a\nMAINTAINER', 'Dockerfile:2: MAINTAINER requires exactly one argument'],
  ])('%j', (text, message) => {
    expect(parseError(text).message).toBe(message);
  });

  it('an empty file has no instructions', () => {
    const err = parseError('# nothing\n\n', 'sub/Dockerfile.dev');
    expect(err.message).toBe('sub/Dockerfile.dev: the Dockerfile has no instructions');
    expect(err.line).toBeUndefined();
  });

  it('carries file, line and the bare message', () => {
    const err = parseError('FROM a\n\n\nCOPY x', 'docker/app.Dockerfile');
    expect(err.file).toBe('docker/app.Dockerfile');
    expect(err.line).toBe(4);
    expect(err.detail).toMatch(/^COPY requires at least two arguments/);
    expect(err.message).toMatch(/^docker\/app\.Dockerfile:4: COPY requires/);
  });

  it('a multi-line instruction reports its first line', () => {
    expect(parseError('FROM a\nCOPY \\\n  --bogus=1 \\\n  a b').message).toMatch(/^Dockerfile:2: unknown flag: bogus/);
  });
});
