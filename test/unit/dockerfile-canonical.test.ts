import { describe, expect, it } from 'vitest';
import { parseDockerfile } from '../../src/builder/dockerfile/parse.js';
import { canonicalInstruction, normalizeShellText } from '../../src/builder/dockerfile/canonical.js';
import { createStageScope, planStages } from '../../src/builder/dockerfile/plan.js';
import type { Instruction } from '../../src/builder/dockerfile/types.js';

const amd64 = { os: 'linux', architecture: 'amd64' };

/** Canonical forms of every stage's FROM and instructions after expansion, as a digest step would compute them. */
function canonical(text: string, buildArgs: Record<string, string> = {}): string[] {
  const df = parseDockerfile(text, 'Dockerfile');
  const plan = planStages(df, { buildArgs, targetPlatform: amd64, buildPlatform: amd64 });
  const out: string[] = [];
  for (const stage of plan.stages) {
    out.push(canonicalInstruction(stage.fromInstruction, stage.fromExpanded));
    const scope = createStageScope(plan, ['PATH=/usr/bin:/bin']);
    for (const instr of stage.instructions) out.push(canonicalInstruction(instr, scope.apply(instr)));
  }
  return out;
}

function written(text: string): string {
  const list = parseDockerfile(`FROM scratch\n${text}`, 'Dockerfile').stages[0]!.instructions;
  expect(list).toHaveLength(1);
  return canonicalInstruction(list[0] as Instruction);
}

describe('canonicalInstruction', () => {
  it('is the same for differently formatted but equivalent Dockerfiles', () => {
    const a = [
      '# syntax=docker/dockerfile:1',
      'ARG BASE=alpine:3.20',
      'FROM ${BASE} AS base',
      'ENV A=1 B="two words"',
      'ARG USER=app',
      'RUN apk add --no-cache curl && \\',
      '    rm -rf /tmp/*',
      'COPY --chown=$USER:$USER --link src/ /app/',
      'LABEL org.opencontainers.image.title="My app"',
      'EXPOSE 80 443',
      'HEALTHCHECK --interval=30s --timeout=3s CMD curl -f http://localhost/',
      'CMD ["./run", "--port", "80"]',
      'RUN <<EOF',
      'echo one',
      'EOF',
    ].join('\n');
    const b = [
      'ARG BASE="alpine:3.20"',
      'from   ${BASE}   as   BASE',
      '   # indented comment',
      'env A=1 \\',
      '    # comment inside a continuation',
      '    B=two\\ words',
      'arg USER="app"',
      'run apk add --no-cache   curl   &&   rm -rf /tmp/*',
      'copy --link --chown=${USER}:${USER} ["src/", "/app/"]',
      'label "org.opencontainers.image.title"=\'My app\'',
      'expose 443 80',
      'healthcheck --timeout=3s --interval=30s cmd   curl -f http://localhost/',
      'cmd [ "./run","--port","80" ]',
      'run <<EOF',
      'echo one',
      'EOF',
    ].join('\n');
    expect(canonical(b)).toEqual(canonical(a));
  });

  it('has a readable, exact form', () => {
    expect(written('COPY --from=build --chown=1:1 a /b')).toBe('COPY --chown="1:1" --from="build" ["a","/b"]');
    expect(written('copy   ["a",   "/b"]')).toBe('COPY ["a","/b"]');
    expect(written('RUN   echo   "a  b"   \'c  d\'  e\\  f')).toBe(`RUN "echo \\"a  b\\" 'c  d' e\\\\  f"`);
    expect(written('CMD ["echo", "hi"]')).toBe('CMD ["echo","hi"]');
    expect(written('HEALTHCHECK --retries=3 CMD curl x')).toBe('HEALTHCHECK --retries="3" CMD-SHELL "curl x"');
    expect(written('HEALTHCHECK NONE')).toBe('HEALTHCHECK NONE');
    expect(written('ENV A 1')).toBe('ENV ["A","1"]');
    expect(written('ONBUILD   run   echo  hi')).toBe('ONBUILD RUN "echo hi"');
    expect(written('RUN --mount=type=cache,target=/c --network=none make')).toBe('RUN --mount="type=cache,target=/c" --network="none" "make"');
    expect(written('RUN <<EOF\nx\nEOF')).toBe('RUN "<<EOF" [{"name":"EOF","fd":0,"expand":true,"content":"x\\n"}]');
  });

  it('sorts flags, writes true booleans bare and leaves out false booleans and defaults', () => {
    expect(written('COPY --link=false --chown=a x /y')).toBe(written('COPY --chown=a x /y'));
    expect(written('COPY --link=TRUE x /y')).toBe(written('COPY --link x /y'));
    expect(written('RUN --network=default --security=sandbox make')).toBe(written('RUN make'));
    expect(written('COPY --exclude=b --exclude=a x /y')).toBe('COPY --exclude="b" --exclude="a" ["x","/y"]');
  });

  it('changes when what the instruction does changes', () => {
    const pairs: [string, string][] = [
      ['CMD ["a b"]', 'CMD a b'],
      ['CMD ["a", "b"]', 'CMD ["a b"]'],
      ['RUN echo "a  b"', 'RUN echo "a b"'],
      ["RUN echo 'a  b'", "RUN echo 'a b'"],
      ['COPY --link a /b', 'COPY a /b'],
      ['COPY a /b', 'COPY a /b/'],
      ['ENV A=1', 'ENV A=2'],
      ['ENV A="1 2"', 'ENV A="1" B="2"'],
      ['RUN <<EOF\nx\nEOF', 'RUN <<EOF\ny\nEOF'],
      ["RUN <<'EOF'\nx\nEOF", 'RUN <<EOF\nx\nEOF'],
      ['HEALTHCHECK CMD ["true"]', 'HEALTHCHECK CMD true'],
      ['EXPOSE 80', 'EXPOSE 80/udp'],
      ['USER app', 'USER app:app'],
    ];
    for (const [x, y] of pairs) expect(written(x), `${x} vs ${y}`).not.toBe(written(y));
  });

  it('uses values after expansion, including the build args an ARG takes', () => {
    expect(canonical('FROM alpine\nARG V=1\nENV X=$V')).toEqual(['FROM ["alpine"]', 'ARG ["V=1"]', 'ENV ["X","1"]']);
    expect(canonical('FROM alpine\nARG V=1\nENV X=$V', { V: '2' })).toEqual(['FROM ["alpine"]', 'ARG ["V=2"]', 'ENV ["X","2"]']);
    expect(canonical('ARG T=3.20\nFROM alpine:$T', { T: '3.19' })).toEqual(['FROM ["alpine:3.19"]']);
    expect(canonical('FROM --platform=$BUILDPLATFORM alpine AS Build')).toEqual(['FROM --platform="linux/amd64" ["alpine"] AS "build"']);
    // Equivalent quoting gives the same expanded value.
    expect(canonical('FROM a\nWORKDIR "/srv/my app"')).toEqual(canonical("FROM a\nWORKDIR /srv/my\\ app"));
  });

  it('COPY heredocs compare by their text after chomp and expansion', () => {
    const a = canonical('FROM a\nARG N=x\nCOPY <<EOF /f\nvalue $N\nEOF');
    const b = canonical('FROM a\nARG N=x\nCOPY <<-EOF /f\n\t\tvalue x\n\tEOF');
    expect(b).toEqual(a);
  });
});

describe('normalizeShellText', () => {
  it.each([
    ['  a   b  ', 'a b'],
    ['a\t\tb', 'a b'],
    ['echo "x   y"   z', 'echo "x   y" z'],
    ["echo 'x   y'   z", "echo 'x   y' z"],
    ['echo x\\   y', 'echo x\\  y'],
    ['echo "a \\"  b"  c', 'echo "a \\"  b" c'],
    ['echo "unterminated   x', 'echo "unterminated   x'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeShellText(input)).toBe(expected);
  });
});
