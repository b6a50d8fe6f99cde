// `image: ~` on a Dockerfile image, end to end: werf accepts the nameless image for Dockerfile images without a
// warning (its deprecation warning is in pkg/config/stapel_image.go, for stapel images only).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { commitAsync } from '../support/git-repo.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function slipway(dir: string, argv: string[]): Promise<{ code: number; out: string; stdout: string }> {
  let out = '';
  let stdout = '';
  const code = await runCli([argv[0]!, ...argv.slice(1), '--dir', dir], {
    io: { stdout: (t) => { out += t; stdout += t; }, stderr: (t) => { out += t; } },
    env: { PATH: process.env.PATH ?? '', HOME: dir, SLIPWAY_HOME: join(dir, '.home') },
  });
  return { code, out, stdout };
}

describe('the nameless Dockerfile image', () => {
  it('is listed as ~, built, and exported, with no deprecation warning', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'slipway-nameless-'));
    dirs.push(dir);
    await writeFile(join(dir, 'werf.yaml'), 'project: nameless\nconfigVersion: 1\n---\nimage: ~\ndockerfile: Dockerfile\n');
    await writeFile(join(dir, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /hello.txt\n');
    await writeFile(join(dir, 'hello.txt'), 'hello\n');
    await writeFile(join(dir, '.gitignore'), '.home/\nout/\n');
    await commitAsync(dir, 'nameless', { init: true });

    const list = await slipway(dir, ['config', 'list']);
    expect(list.code, list.out).toBe(0);
    expect(list.stdout).toBe('~\n');

    const build = await slipway(dir, ['build']);
    expect(build.code, build.out).toBe(0);
    expect(build.out).toMatch(/image ~: /);
    expect(build.out).not.toMatch(/deprecat/i);

    const exported = await slipway(dir, ['export', '--tag', `oci:${join(dir, 'out')}:v1`]);
    expect(exported.code, exported.out).toBe(0);
    expect(exported.out).not.toMatch(/deprecat/i);
    const index = JSON.parse(await readFile(join(dir, 'out', 'index.json'), 'utf8')) as { manifests: { annotations?: Record<string, string> }[] };
    expect(index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name'])).toEqual(['v1']);
  });
});
