import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';

import { OPTIONS } from '../../src/cli/options.js';
import { buildProgram, runCli } from '../../src/cli/program.js';

// werf's flags of build, export, cleanup, purge and config render/list/graph, as werf's generated CLI reference
// lists them (test/fixtures/werf-flags.json; the flags are defined in cmd/werf and cmd/werf/common).
interface WerfFlag {
  flag: string;
  short?: string;
  kind: 'boolean' | 'string' | 'string[]';
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/werf-flags.json', import.meta.url), 'utf8')) as { commands: Record<string, WerfFlag[]> };
/** werf commands Slipway does not have, and why (docs/werf-compatibility.md). */
const ABSENT_COMMANDS = ['config graph'];
const COMMANDS = Object.keys(fixture.commands).filter((c) => !ABSENT_COMMANDS.includes(c));

const program = buildProgram({ io: { stdout: () => undefined, stderr: () => undefined }, env: {} });

function commandOf(path: string): Command {
  let command: Command = program;
  for (const name of path.split(' ')) command = command.commands.find((c) => c.name() === name)!;
  return command;
}

function optionsOf(command: Command): Map<string, { short: string | undefined; takesValue: boolean }> {
  const out = new Map<string, { short: string | undefined; takesValue: boolean }>();
  for (const c of [command, program]) {
    for (const o of c.options) if (o.long) out.set(o.long, { short: o.short, takesValue: o.required || o.optional });
  }
  return out;
}

/** Options-table entries by every flag and alias they answer to. */
const definitionByFlag = new Map<string, (typeof OPTIONS)[keyof typeof OPTIONS]>();
for (const definition of Object.values(OPTIONS)) {
  definitionByFlag.set(definition.flag, definition);
  for (const alias of (definition as { aliases?: readonly string[] }).aliases ?? []) definitionByFlag.set(alias, definition);
}

const dir = mkdtempSync(join(tmpdir(), 'slipway-werf-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("werf's flags", () => {
  it.each(COMMANDS)('slipway %s takes every flag werf takes there, with the same shape', (path) => {
    const options = optionsOf(commandOf(path));
    for (const werf of fixture.commands[path]!) {
      const ours = options.get(werf.flag);
      expect(ours, `${path} ${werf.flag}`).toBeDefined();
      expect(ours!.takesValue, `${path} ${werf.flag} takes a value in werf: ${werf.kind !== 'boolean'}`).toBe(werf.kind !== 'boolean');
      if (werf.short !== undefined) expect(ours!.short ?? options.get(definitionByFlag.get(werf.flag)!.flag)?.short, `${path} ${werf.flag}`).toBe(werf.short);
    }
  });

  it('the absent commands are the documented ones', () => {
    expect(ABSENT_COMMANDS.filter((c) => fixture.commands[c] !== undefined)).toEqual(['config graph']);
    expect(commandOf('config').commands.map((c) => c.name())).not.toContain('graph');
  });

  it('docs/werf-compatibility.md lists every werf flag, as a no-op exactly when Slipway ignores it', () => {
    const doc = readFileSync(new URL('../../docs/werf-compatibility.md', import.meta.url), 'utf8');
    const rows = new Map<string, string>();
    for (const m of doc.matchAll(/^\| `(--[a-z0-9-]+)`[^|]*\| (supported|no-op|different) \|/gm)) rows.set(m[1]!, m[2]!);
    const flags = new Set(Object.values(fixture.commands).flat().map((f) => f.flag));
    for (const flag of flags) {
      expect(rows.get(flag), flag).toBeDefined();
      const definition = definitionByFlag.get(flag)!;
      const noOp = (definition as { noOp?: string }).noOp !== undefined;
      expect(rows.get(flag) === 'no-op', `${flag}: ${rows.get(flag)}`).toBe(noOp);
    }
  });

  it('a werf CI line with every flag of config render runs unchanged, the ignored flags noted under --log-verbose', async () => {
    writeFileSync(join(dir, 'werf.yaml'), 'project: flags\nconfigVersion: 1\n---\nimage: a\ndockerfile: Dockerfile\n');
    const argv = ['config', 'render', '--dir', dir, '--loose-giterminism', '--log-verbose'];
    for (const werf of fixture.commands['config render']!) {
      if (['--dir', '--config', '--config-templates-dir', '--git-work-tree', '--giterminism-config', '--dev', '--log-quiet', '--log-debug', '--log-verbose', '--loose-giterminism', '--home-dir'].includes(werf.flag)) continue;
      argv.push(werf.kind === 'boolean' ? `${werf.flag}=true` : `${werf.flag}=x`);
    }
    let out = '';
    let err = '';
    const code = await runCli(argv, { io: { stdout: (t) => { out += t; }, stderr: (t) => { err += t; } }, env: { HOME: dir } });
    expect(code, err).toBe(0);
    expect(out).toContain('image: a');
    expect(err).toContain("werf's --log-color-mode is accepted and ignored: Slipway's log format is fixed");
    expect(err).toContain("werf's --debug-templates is accepted and ignored");
  });

  it.each(['build', 'export', 'cleanup', 'purge'])('werf %s with all its flags fails on the project, not on an option', async (path) => {
    const argv = [path, '--dir', join(dir, 'missing')];
    for (const werf of fixture.commands[path]!) {
      if (werf.flag === '--dir') continue;
      argv.push(werf.kind === 'boolean' ? `${werf.flag}=false` : werf.flag === '--tag' ? `${werf.flag}=reg.io/x:%image%` : `${werf.flag}=1`);
    }
    let err = '';
    const code = await runCli(argv, { io: { stdout: () => undefined, stderr: (t) => { err += t; } }, env: { HOME: dir } });
    expect(code).not.toBe(0);
    expect(err).not.toMatch(/unknown option|too many arguments|argument missing/);
  });

  it('ignoring --add-custom-tag, --final-repo and --follow is warned about without --log-verbose', async () => {
    let err = '';
    await runCli(['build', '--dir', join(dir, 'missing'), '--add-custom-tag', '%image%-x', '--final-repo', 'r.io/final', '--kube-context', 'k'], {
      io: { stdout: () => undefined, stderr: (t) => { err += t; } }, env: { HOME: dir },
    });
    expect(err).toContain("werf's --add-custom-tag is accepted and ignored: not implemented in Slipway: export the images with slipway export --tag instead");
    expect(err).toContain("werf's --final-repo is accepted and ignored");
    expect(err).not.toContain('--kube-context');
  });
});
