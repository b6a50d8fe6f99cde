import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../../src/builder/dockerfile/parse.js';
import { expandInstruction } from '../../src/builder/dockerfile/expand.js';
import { ArgEnvScope } from '../../src/builder/dockerfile/scope.js';
import { createStageScope, planStages, platformArgs, resolveMetaArgs, type PlanOptions, type StagePlan } from '../../src/builder/dockerfile/plan.js';
import { DockerfileError } from '../../src/builder/dockerfile/errors.js';
import type { Dockerfile } from '../../src/builder/dockerfile/types.js';
import { errorOf } from '../support/errors.js';

const amd64 = { os: 'linux', architecture: 'amd64' };
const arm64 = { os: 'linux', architecture: 'arm64' };

function plan(text: string, options: Partial<PlanOptions> = {}): StagePlan {
  return planStages(parseDockerfile(text, 'Dockerfile'), { buildArgs: {}, targetPlatform: amd64, buildPlatform: amd64, ...options });
}

function planError(text: string, options: Partial<PlanOptions> = {}): DockerfileError {
  return errorOf(DockerfileError, () => plan(text, options));
}

/** Applies every instruction of stage `index` with a fresh scope; returns the scope and the expanded args. */
function run(df: Dockerfile, index = 0, options: { buildArgs?: Record<string, string>; baseEnv?: string[] } = {}) {
  const p = planStages(df, { buildArgs: options.buildArgs ?? {}, targetPlatform: arm64, buildPlatform: amd64, target: df.stages[index]!.name ?? '' });
  const scope = createStageScope(p, options.baseEnv ?? []);
  const expanded = df.stages[index]!.instructions.map((i) => scope.apply(i));
  return { scope, expanded };
}

describe('expansion per instruction (what Docker expands)', () => {
  it('the Dockerfile reference example: ENV FOO=/bar; WORKDIR ${FOO}; ADD . $FOO; COPY \\$FOO /quux', () => {
    const df = parseDockerfile('FROM busybox\nENV FOO=/bar\nWORKDIR ${FOO}\nADD . $FOO\nCOPY \\$FOO /quux', 'Dockerfile');
    const { expanded } = run(df);
    expect(expanded[1]!.args).toEqual(['/bar']);
    expect(expanded[2]!.sources).toEqual([{ kind: 'path', path: '.' }]);
    expect(expanded[2]!.dest).toBe('/bar');
    expect(expanded[3]!.sources).toEqual([{ kind: 'path', path: '$FOO' }]);
    expect(expanded[3]!.dest).toBe('/quux');
  });

  it('each ENV pair sees the values before the instruction (reference: ENV abc=bye def=$abc gives def=hello)', () => {
    const df = parseDockerfile('FROM busybox\nENV abc=hello\nENV abc=bye def=$abc\nENV ghi=$abc', 'Dockerfile');
    const { scope } = run(df);
    expect(scope.configEnv()).toEqual(['abc=bye', 'def=hello', 'ghi=bye']);
  });

  it('RUN, CMD, ENTRYPOINT, SHELL, HEALTHCHECK and ONBUILD are left to the shell', () => {
    const df = parseDockerfile(
      'FROM a\nENV X=1\nRUN echo $X\nCMD echo $X\nENTRYPOINT ["echo", "$X"]\nSHELL ["/bin/$X"]\nHEALTHCHECK CMD test $X\nONBUILD COPY $X /y',
      'Dockerfile',
    );
    const { expanded } = run(df);
    expect(expanded.slice(1).map((e) => e.args)).toEqual([['echo $X'], ['echo $X'], ['echo', '$X'], ['/bin/$X'], ['CMD', 'test $X'], ['COPY $X /y']]);
  });

  it('LABEL keys and values, USER, STOPSIGNAL, VOLUME, and EXPOSE split into words', () => {
    const df = parseDockerfile(
      'FROM a\nARG K=version V="1.0 beta" U=app SIG=TERM PORTS="80 443/udp"\nLABEL $K="$V"\nUSER ${U}:${U}\nSTOPSIGNAL SIG$SIG\nVOLUME ["/data/$U"]\nEXPOSE $PORTS 8080',
      'Dockerfile',
    );
    const { expanded } = run(df);
    expect(expanded.slice(1).map((e) => e.args)).toEqual([['version', '1.0 beta'], ['app:app'], ['SIGTERM'], ['/data/app'], ['80', '443/udp', '8080']]);
  });

  it('COPY/ADD flags --chown, --chmod, --from, --checksum, --exclude are expanded; --link is not a value', () => {
    const df = parseDockerfile(
      'FROM a AS build\nFROM a\nARG U=app M=0644 S=build SUM=sha256:0123 X=*.md\nCOPY --chown=$U:$U --chmod=$M --from=$S --link src/ /dst/\nADD --checksum=$SUM --chown=$U https://example.org/f /f\nCOPY --exclude=$X src/ /dst/',
      'Dockerfile',
    );
    const { expanded } = run(df, 1);
    expect(expanded[1]!.flags).toEqual({ chown: 'app:app', chmod: '0644', from: 'build', link: 'true' });
    expect(expanded[3]!.flags).toEqual({ exclude: ['*.md'] });
    expect(expanded[2]!.flags).toEqual({ checksum: 'sha256:0123', chown: 'app' });
    expect(expanded[2]!.sources).toEqual([{ kind: 'path', path: 'https://example.org/f' }]);
  });

  it('COPY heredocs: chomped and expanded (quotes left alone) unless the delimiter is quoted', () => {
    const df = parseDockerfile('FROM a\nARG NAME=world\nCOPY <<EOF <<-"RAW" /etc/\nhello $NAME "q" \\$x\nEOF\n\tkeep $NAME\n\tRAW', 'Dockerfile');
    const { expanded } = run(df);
    expect(expanded[1]!.sources).toEqual([
      { kind: 'heredoc', name: 'EOF', content: 'hello world "q" $x\n' },
      { kind: 'heredoc', name: 'RAW', content: 'keep $NAME\n' },
    ]);
    expect(expanded[1]!.dest).toBe('/etc/');
  });

  it('RUN --mount field values are expanded; the command is not', () => {
    const df = parseDockerfile('FROM a\nARG CACHE=/root/.cache\nRUN --mount=type=cache,target=$CACHE,id=x --network=none make $CACHE', 'Dockerfile');
    const { expanded } = run(df);
    expect(expanded[1]!.flags).toEqual({ mount: ['type=cache,target=/root/.cache,id=x'], network: 'none' });
    expect(expanded[1]!.args).toEqual(['make $CACHE']);
  });

  it('follows the escape directive', () => {
    const df = parseDockerfile('# escape=`\nFROM a\nENV FOO=/bar\nCOPY `$FOO C:\\dir\\$FOO', 'Dockerfile');
    const { expanded } = run(df);
    expect(expanded[1]!.sources).toEqual([{ kind: 'path', path: '$FOO' }]);
    expect(expanded[1]!.dest).toBe('C:\\dir\\/bar');
  });

  it('an expansion error names the file and line', () => {
    const df = parseDockerfile('FROM a\n\nWORKDIR ${DIR:?set DIR first}', 'app/Dockerfile');
    expect(() => run(df)).toThrow('app/Dockerfile:3: WORKDIR: failed to process "${DIR:?set DIR first}": DIR: set DIR first');
    expect(() => expandInstruction(df.stages[0]!.instructions[0]!, {}, { file: 'app/Dockerfile' })).toThrow(DockerfileError);
  });
});

describe('ArgEnvScope', () => {
  it('an ARG is visible from its declaration on', () => {
    const df = parseDockerfile('FROM a\nENV BEFORE=[$X]\nARG X=1\nENV AFTER=[$X]', 'Dockerfile');
    expect(run(df).scope.configEnv()).toEqual(['BEFORE=[]', 'AFTER=[1]']);
  });

  it('build args override defaults only for declared ARGs', () => {
    const df = parseDockerfile('FROM a\nARG X=default\nENV X2=$X Y2=[$Y]', 'Dockerfile');
    const { scope, expanded } = run(df, 0, { buildArgs: { X: 'from-build', Y: 'never' } });
    expect(scope.configEnv()).toEqual(['X2=from-build', 'Y2=[]']);
    expect(expanded[0]!.args).toEqual(['X=from-build']);
    expect([...scope.usedBuildArgs()]).toEqual(['X']);
  });

  it('an empty build arg is a value', () => {
    const df = parseDockerfile('FROM a\nARG X=default\nENV X2=[$X]', 'Dockerfile');
    expect(run(df, 0, { buildArgs: { X: '' } }).scope.configEnv()).toEqual(['X2=[]']);
  });

  it('a meta ARG re-declared in a stage without a value inherits the meta value (build args applied)', () => {
    const text = 'ARG VERSION=1.0\nFROM alpine\nENV BEFORE=[$VERSION]\nARG VERSION\nENV AFTER=[$VERSION]\nFROM alpine AS other\nENV OTHER=[$VERSION]';
    const df = parseDockerfile(text, 'Dockerfile');
    expect(run(df).scope.configEnv()).toEqual(['BEFORE=[]', 'AFTER=[1.0]']);
    expect(run(df, 0, { buildArgs: { VERSION: '2.0' } }).scope.configEnv()).toEqual(['BEFORE=[]', 'AFTER=[2.0]']);
    // Another stage does not see it without declaring it.
    expect(run(df, 1).scope.configEnv()).toEqual(['OTHER=[]']);
  });

  it('ENV wins over an ARG of the same name, in either order, and so does the base image Env', () => {
    const df = parseDockerfile('FROM a\nARG A=arg\nENV A=env\nENV B=env\nARG B=arg\nARG PATH=/mine\nENV SEEN="$A $B $PATH"', 'Dockerfile');
    const { scope } = run(df, 0, { baseEnv: ['PATH=/usr/bin:/bin'] });
    expect(scope.configEnv()).toEqual(['PATH=/usr/bin:/bin', 'A=env', 'B=env', 'SEEN=env env /usr/bin:/bin']);
  });

  it('ARG values are not persisted into the image config, ENV values are', () => {
    const df = parseDockerfile('FROM a\nARG SECRETISH=1\nENV KEPT=$SECRETISH', 'Dockerfile');
    const { scope } = run(df);
    expect(scope.configEnv()).toEqual(['KEPT=1']);
    expect(scope.declaredArgs()).toEqual(new Map([['SECRETISH', '1']]));
    expect(scope.lookupEnv()).toEqual(
      new Map([
        ['SECRETISH', '1'],
        ['KEPT', '1'],
      ]),
    );
  });

  it('defaults are expanded with the ARGs and ENVs before them; an ARG with no value is unset', () => {
    const df = parseDockerfile('FROM a\nARG A=1\nARG B=${A}2 U\nENV R="$B ${U-unset} ${U:+set}"', 'Dockerfile');
    const { scope, expanded } = run(df);
    expect(expanded[1]!.args).toEqual(['B=12', 'U']);
    expect(scope.configEnv()).toEqual(['R=12 unset ']);
  });

  it('setEnv replaces a base variable in place', () => {
    const scope = new ArgEnvScope({ baseEnv: ['PATH=/bin', 'HOME=/root'] });
    scope.setEnv('PATH', '/usr/local/bin:/bin');
    scope.setEnv('LANG', 'C.UTF-8');
    expect(scope.configEnv()).toEqual(['PATH=/usr/local/bin:/bin', 'HOME=/root', 'LANG=C.UTF-8']);
    expect(scope.declareArg('X', '$HOME/x')).toBe('/root/x');
  });
});

describe('platform ARGs', () => {
  it('are defined as BuildKit defines them', () => {
    expect(Object.fromEntries(platformArgs({ os: 'linux', architecture: 'arm', variant: 'v7' }, amd64))).toEqual({
      BUILDPLATFORM: 'linux/amd64',
      BUILDOS: 'linux',
      BUILDARCH: 'amd64',
      BUILDVARIANT: '',
      TARGETPLATFORM: 'linux/arm/v7',
      TARGETOS: 'linux',
      TARGETARCH: 'arm',
      TARGETVARIANT: 'v7',
    });
    // Normalised: arm64/v8 is arm64, aarch64 is arm64.
    expect(platformArgs({ os: 'linux', architecture: 'aarch64' }, { os: 'linux', architecture: 'x86_64' }).get('TARGETPLATFORM')).toBe('linux/arm64');
  });

  it('are available in FROM lines, and in a stage only after ARG TARGETARCH', () => {
    const df = parseDockerfile('FROM --platform=$BUILDPLATFORM golang:1.22-$TARGETARCH AS build\nENV BEFORE=[$TARGETARCH]\nARG TARGETARCH TARGETOS\nENV AFTER=$TARGETOS/$TARGETARCH', 'Dockerfile');
    const p = planStages(df, { buildArgs: {}, targetPlatform: arm64, buildPlatform: amd64 });
    expect(p.stages[0]!.from).toEqual({ kind: 'image', ref: 'golang:1.22-arm64', platform: amd64 });
    expect(p.stages[0]!.platform).toEqual(amd64);
    expect(run(df).scope.configEnv()).toEqual(['BEFORE=[]', 'AFTER=linux/arm64']);
  });

  it('can be overridden by build args', () => {
    const df = parseDockerfile('FROM alpine', 'Dockerfile');
    expect(resolveMetaArgs(df, { buildArgs: { TARGETARCH: 'riscv64' }, targetPlatform: arm64, buildPlatform: amd64 }).get('TARGETARCH')).toBe('riscv64');
  });
});

describe('planStages', () => {
  it('resolves meta ARGs in FROM, with build args overriding them', () => {
    const text = 'ARG REGISTRY=docker.io\nARG BASE=${REGISTRY}/library/alpine\nARG TAG=3.20\nFROM ${BASE}:${TAG}';
    expect(plan(text).stages[0]!.from).toEqual({ kind: 'image', ref: 'docker.io/library/alpine:3.20' });
    expect(plan(text, { buildArgs: { TAG: '3.19', REGISTRY: 'mirror.example.org' } }).stages[0]!.from).toEqual({ kind: 'image', ref: 'mirror.example.org/library/alpine:3.19' });
    expect([...plan(text).metaArgs].filter(([k]) => !k.startsWith('TARGET') && !k.startsWith('BUILD'))).toEqual([
      ['REGISTRY', 'docker.io'],
      ['BASE', 'docker.io/library/alpine'],
      ['TAG', '3.20'],
    ]);
  });

  it('an empty base image is an error at the FROM line', () => {
    expect(planError('ARG BASE\nFROM $BASE').message).toBe('Dockerfile:2: invalid base image: "$BASE" expands to an empty string');
    expect(plan('ARG BASE\nFROM $BASE', { buildArgs: { BASE: 'alpine' } }).stages[0]!.from).toEqual({ kind: 'image', ref: 'alpine' });
  });

  it('rejects a bad --platform and reports expansion errors with the line', () => {
    expect(planError('FROM --platform=linux alpine').message).toMatch(/^Dockerfile:1: FROM --platform: invalid platform "linux"/);
    expect(planError('ARG P\nFROM --platform=$P alpine').message).toBe('Dockerfile:2: empty platform value from expression "$P"');
    expect(planError('FROM ${BASE:?required}').message).toBe('Dockerfile:1: FROM: failed to process "${BASE:?required}": BASE: required');
  });

  it('FROM scratch, FROM an earlier stage (any case), FROM an image', () => {
    const p = plan('FROM alpine AS Base\nFROM BASE AS app\nFROM scratch');
    expect(p.stages.map((s) => s.index)).toEqual([2]);
    const p2 = plan('FROM alpine AS Base\nFROM BASE AS app\nFROM scratch', { target: 'APP' });
    expect(p2.target).toBe(1);
    expect(p2.stages.map((s) => [s.index, s.name, s.from])).toEqual([
      [0, 'base', { kind: 'image', ref: 'alpine' }],
      [1, 'app', { kind: 'stage', index: 0 }],
    ]);
    expect(plan('FROM scratch').stages[0]!.from).toEqual({ kind: 'scratch' });
    // A stage named later is not a base: FROM only sees stages above it.
    expect(plan('FROM later AS first\nFROM alpine AS later', { target: 'first' }).stages[0]!.from).toEqual({ kind: 'image', ref: 'later' });
  });

  it('the default target is the last stage; an unknown target lists the stages', () => {
    expect(plan('FROM a AS one\nFROM b AS two').target).toBe(1);
    const err = planError('FROM a AS one\nFROM b\nFROM c AS three', { target: 'nope' });
    expect(err.message).toBe('Dockerfile: target stage "nope" could not be found; the Dockerfile\'s stages are: one (#0), #1, three (#2)');
    expect(err.line).toBeUndefined();
  });

  it('needs only the stages the target depends on, dependencies first (COPY --from by name and index)', () => {
    const text = [
      'FROM golang AS build', // 0
      'FROM alpine AS assets', // 1
      'RUN make assets',
      'FROM node AS unused', // 2
      'FROM build AS tested', // 3
      'FROM scratch', // 4
      'COPY --from=tested /out/app /app',
      'COPY --from=1 /assets /assets',
      'COPY --from=nginx:1.27 /etc/nginx/mime.types /etc/',
    ].join('\n');
    const p = plan(text);
    expect(p.target).toBe(4);
    expect(p.stages.map((s) => s.index)).toEqual([0, 1, 3, 4]);
    const final = p.stages[3]!;
    expect(final.dependencies).toEqual([1, 3]);
    expect(final.references).toEqual([
      { instruction: 0, via: 'copy', value: 'tested', source: { kind: 'stage', index: 3 } },
      { instruction: 1, via: 'copy', value: '1', source: { kind: 'stage', index: 1 } },
      { instruction: 2, via: 'copy', value: 'nginx:1.27', source: { kind: 'image', ref: 'nginx:1.27' } },
    ]);
    expect(p.stages[2]!.dependencies).toEqual([0]);
  });

  it('a stage may copy from a later stage: that one is built first', () => {
    const p = plan('FROM alpine AS a\nCOPY --from=b /x /x\nFROM alpine AS b\nRUN touch /x', { target: 'a' });
    expect(p.stages.map((s) => s.index)).toEqual([1, 0]);
  });

  it('RUN --mount=from= is a dependency too', () => {
    const p = plan('FROM alpine AS tools\nFROM alpine\nRUN --mount=type=bind,from=tools,source=/bin,target=/tools /tools/x');
    expect(p.stages.map((s) => s.index)).toEqual([0, 1]);
    expect(p.stages[1]!.references).toEqual([{ instruction: 0, via: 'mount', mount: 0, value: 'tools', source: { kind: 'stage', index: 0 } }]);
  });

  it('--from is expanded with the stage scope, falling back to the meta ARGs', () => {
    const text = 'ARG SRC=build\nFROM alpine AS build\nFROM alpine AS other\nFROM alpine\nCOPY --from=$SRC /a /a\nARG LOCAL=other\nCOPY --from=${LOCAL} /b /b';
    const p = plan(text);
    expect(p.stages.map((s) => s.index)).toEqual([0, 1, 2]);
    expect(p.stages[2]!.references.map((r) => [r.value, r.source])).toEqual([
      ['build', { kind: 'stage', index: 0 }],
      ['other', { kind: 'stage', index: 1 }],
    ]);
    expect(plan(text, { buildArgs: { LOCAL: 'build' } }).stages.map((s) => s.index)).toEqual([0, 2]);
  });

  it('a stage FROM another stage inherits its ENV for --from', () => {
    const p = plan('FROM alpine AS a\nENV S=b\nFROM a AS c\nCOPY --from=$S /x /y\nFROM alpine AS b', { target: 'c' });
    expect(p.stages.map((s) => s.index)).toEqual([0, 2, 1]);
    expect(p.stages.find((s) => s.index === 1)!.dependencies).toEqual([0, 2]);
  });

  it('rejects bad stage references and cycles', () => {
    expect(planError('FROM a\nCOPY --from=3 /x /y').message).toBe('Dockerfile:2: invalid stage index 3 in COPY --from="3": the Dockerfile has 1 stage(s), numbered from 0');
    expect(planError('FROM a\nARG NONE\nCOPY --from=$NONE /x /y').message).toBe('Dockerfile:3: COPY --from="$NONE" expands to an empty string');
    expect(planError('FROM a AS x\nCOPY --from=y /1 /1\nFROM a AS y\nCOPY --from=x /2 /2').message).toBe('Dockerfile:1: circular dependency between stages: x -> y -> x');
    expect(planError('FROM a AS self\nCOPY --from=self /1 /1').message).toBe('Dockerfile:1: circular dependency between stages: self -> self');
  });

  it('reports build args that no needed ARG declares (proxy and platform ARGs are predefined)', () => {
    const text = 'ARG META\nFROM alpine AS unused\nARG IN_UNUSED\nFROM alpine\nARG USED';
    expect(plan(text, { buildArgs: { META: '1', USED: '2', IN_UNUSED: '3', EXTRA: '4', HTTP_PROXY: 'p', TARGETARCH: 'x' } }).unusedBuildArgs).toEqual(['EXTRA', 'IN_UNUSED']);
  });

  it('platforms: explicit --platform, inherited from a base stage, otherwise the target platform', () => {
    const p = plan('FROM --platform=linux/amd64 alpine AS x\nFROM x AS y\nFROM alpine', { targetPlatform: arm64, target: 'y' });
    expect(p.stages.map((s) => s.platform)).toEqual([amd64, amd64]);
    expect(plan('FROM alpine', { targetPlatform: arm64 }).stages[0]!.platform).toEqual(arm64);
  });

  it('createStageScope gives the executor the meta ARGs and build args of the plan', () => {
    const df = parseDockerfile('ARG V=meta\nFROM alpine\nARG V\nARG B\nENV OUT="$V $B"', 'Dockerfile');
    const p = planStages(df, { buildArgs: { B: 'build' }, targetPlatform: amd64, buildPlatform: amd64 });
    const scope = createStageScope(p, ['PATH=/bin']);
    for (const i of p.stages[0]!.instructions) scope.apply(i);
    expect(scope.configEnv()).toEqual(['PATH=/bin', 'OUT=meta build']);
  });
});
