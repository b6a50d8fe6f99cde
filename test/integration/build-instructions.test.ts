// Instruction-level behaviour of the builder, read back from the registry with skopeo and through the client.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { readFileFromImage, readImageFiles } from '../../src/builder/layer/image-files.js';
import { staticCredentials } from '../../src/registry/auth/credentials.js';
import { RegistryClient } from '../../src/registry/client.js';
import { RegistryStore } from '../../src/store/registry-store.js';
import { uniqueRepo } from '../support/images.js';
import { registries, skopeoInspect } from '../support/registries.js';
import { commitAsync, tempDirs } from '../support/git-repo.js';

const run = promisify(execFile);
// Every project (its .home inside it) and archive directory this file makes.
const temp = tempDirs();
afterAll(temp.removeAll);
const client = new RegistryClient({ credentials: staticCredentials({}) });
let server: Server;
let serverUrl: string;
const served = Buffer.from('downloaded content\n');

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/files/data.txt') res.end(served);
    else if (req.url === '/private/data.txt') {
      // Basic auth: user "u", password "s3cret-pw".
      if (req.headers.authorization === `Basic ${Buffer.from('u:s3cret-pw').toString('base64')}`) res.end(served);
      else { res.statusCode = 401; res.end(); }
    } else { res.statusCode = 404; res.end(); }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await client.close();
  await new Promise((resolve) => server.close(resolve));
});

async function project(files: Record<string, string | Buffer>): Promise<string> {
  const dir = await temp.make('slipway-instr-');
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await commitAsync(dir, 'fixture', { init: true });
  return dir;
}

async function build(dir: string, argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await runCli(['build', '--dir', dir, ...argv], {
    io: { stdout: (t) => { out += t; }, stderr: (t) => { out += t; } },
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), SLIPWAY_HOME: join(dir, '.home') },
  });
  return { code, out };
}

function tagOf(out: string, image: string): string {
  const match = new RegExp(`^image ${image}: \\S+?:([0-9a-f]{56}(?:-\\d{13})?)$`, 'm').exec(out);
  if (!match) throw new Error(`no tag for ${image} in:\n${out}`);
  return match[1]!;
}

async function tarGz(entries: Record<string, string>): Promise<Buffer> {
  const dir = await temp.make('slipway-tar-');
  for (const [path, content] of Object.entries(entries)) {
    await mkdir(dirname(join(dir, 'root', path)), { recursive: true });
    await writeFile(join(dir, 'root', path), content);
  }
  await run('tar', ['-czf', join(dir, 'a.tar.gz'), '-C', join(dir, 'root'), '--owner=7', '--group=8', '.']);
  const { readFile } = await import('node:fs/promises');
  return readFile(join(dir, 'a.tar.gz'));
}

describe('builder instructions', () => {
  it('ADD extracts a local archive, downloads a URL with --checksum, and --chown resolves names from /etc/passwd', async () => {
    const { plain } = registries();
    const repo = `${plain.host}/${uniqueRepo('instr/add')}`;
    const sum = `sha256:${createHash('sha256').update(served).digest('hex')}`;
    const dir = await project({
      'werf.yaml': 'project: instr\nconfigVersion: 1\n---\nimage: base\ndockerfile: base.Dockerfile\n---\nimage: app\ndockerfile: app.Dockerfile\ndependencies:\n- image: base\n  imports:\n  - type: ImageName\n    targetBuildArg: BASE\n',
      'base.Dockerfile': 'FROM scratch\nCOPY passwd /etc/passwd\nCOPY group /etc/group\n',
      'app.Dockerfile': `ARG BASE\nFROM \${BASE}\nADD bundle.tar.gz /opt/bundle/\nADD --checksum=${sum} ${serverUrl}/files/data.txt /data/\nCOPY --chown=app:staff --chmod=640 conf.ini /etc/app.ini\n`,
      passwd: 'root:x:0:0:root:/root:/bin/sh\napp:x:1001:1001::/home/app:/bin/sh\n',
      group: 'root:x:0:\nstaff:x:50:\n',
      'bundle.tar.gz': await tarGz({ 'bin/tool': 'tool', 'README': 'read me' }),
      'conf.ini': 'a=1\n',
    });
    const { code, out } = await build(dir, ['--repo', repo]);
    expect(code, out).toBe(0);
    const ref = `${repo}:${tagOf(out, 'app')}`;
    const manifest = await skopeoInspect(ref, { raw: true }) as { layers: { digest: string; size: number; mediaType: string }[] };
    const [registry, ...rest] = repo.split('/');
    const store = new RegistryStore(client, { registry: registry!, repository: rest.join('/') });
    const files = await readImageFiles(store, manifest.layers, () => true);
    try {
      const byPath = new Map(files.entries.map((e) => [e.path, e]));
      expect(byPath.get('opt/bundle/bin/tool')).toMatchObject({ type: 'file', uid: 7, gid: 8 });
      expect(byPath.get('opt/bundle/README')).toMatchObject({ type: 'file' });
      expect(byPath.get('data/data.txt')).toMatchObject({ type: 'file', mode: 0o600, size: served.length });
      expect(byPath.get('etc/app.ini')).toMatchObject({ type: 'file', mode: 0o640, uid: 1001, gid: 50 });
    } finally {
      await files.close();
    }
    expect((await readFileFromImage(store, manifest.layers, 'data/data.txt'))?.equals(served)).toBe(true);
  });

  // issue 12 survey: `# syntax=docker/dockerfile` is accepted with a note; COPY --link gives the same layer as
  // COPY; --exclude and --parents select and place context files as BuildKit does; refused features stop the
  // build before anything is built.
  it('# syntax= (a note), COPY --link (same layer), COPY --exclude and --parents', async () => {
    const { plain } = registries();
    const repo = `${plain.host}/${uniqueRepo('instr/survey')}`;
    const werf = 'project: instr\nconfigVersion: 1\n---\nimage: plain\ndockerfile: plain.Dockerfile\n---\nimage: app\ndockerfile: app.Dockerfile\n';
    const dir = await project({
      'werf.yaml': werf,
      'plain.Dockerfile': 'FROM scratch\nCOPY conf/ /etc/app/\n',
      'app.Dockerfile': [
        '# syntax=docker/dockerfile:1.7-labs',
        'FROM scratch',
        'COPY --link conf/ /etc/app/',
        'COPY --exclude=*.md --exclude=tests src/ /srv/',
        'COPY --parents lib/*/package.json /deps/',
        'COPY --parents ./lib/./b/index.js /pivot/',
        '',
      ].join('\n'),
      'conf/a.ini': 'a=1\n', 'conf/b.ini': 'b=2\n',
      'src/main.py': 'print(1)\n', 'src/README.md': 'doc\n', 'src/tests/t.py': 't\n', 'src/pkg/util.py': 'u\n', 'src/pkg/NOTES.md': 'n\n',
      'lib/a/package.json': '{}\n', 'lib/b/package.json': '{"b":1}\n', 'lib/b/index.js': 'b\n',
    });
    const { code, out } = await build(dir, ['--repo', repo, '--verbose']);
    expect(code, out).toBe(0);
    expect(out).toContain("app.Dockerfile:1: # syntax=docker/dockerfile:1.7-labs: Docker's Dockerfile frontend; Slipway parses the Dockerfile itself (the directive is ignored)");
    const layersOf = async (image: string): Promise<{ digest: string; size: number; mediaType: string }[]> =>
      ((await skopeoInspect(`${repo}:${tagOf(out, image)}`, { raw: true })) as { layers: { digest: string; size: number; mediaType: string }[] }).layers;
    const [plainLayers, appLayers] = [await layersOf('plain'), await layersOf('app')];
    expect(appLayers[0]!.digest, 'COPY --link makes the layer COPY makes').toBe(plainLayers[0]!.digest);
    const [registry, ...rest] = repo.split('/');
    const store = new RegistryStore(client, { registry: registry!, repository: rest.join('/') });
    const files = await readImageFiles(store, appLayers, () => true);
    try {
      const paths = files.entries.filter((e) => e.type === 'file').map((e) => e.path).sort();
      expect(paths).toEqual([
        'deps/lib/a/package.json', 'deps/lib/b/package.json', 'etc/app/a.ini', 'etc/app/b.ini', 'pivot/b/index.js', 'srv/main.py', 'srv/pkg/NOTES.md', 'srv/pkg/util.py',
      ]);
    } finally {
      await files.close();
    }
  });

  it('refuses an unsupported feature at parse time, naming Dockerfile:LINE, before building anything', async () => {
    const { plain } = registries();
    const repo = `${plain.host}/${uniqueRepo('instr/refused')}`;
    const dir = await project({
      'werf.yaml': 'project: instr\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\n',
      Dockerfile: 'FROM scratch\nCOPY a.txt /a.txt\nRUN --mount=type=ssh git clone git@example.org:x.git\n',
      'a.txt': 'a\n',
    });
    const { code, out } = await build(dir, ['--repo', repo]);
    expect(code).not.toBe(0);
    expect(out).toMatch(/Dockerfile:3: RUN --mount=type=ssh is not supported/);
    expect(out).not.toMatch(/^Store stage/m);
  });

  it('copies files from an earlier stage (COPY --from) and reuses the result in the next build', async () => {
    const { plain } = registries();
    const repo = `${plain.host}/${uniqueRepo('instr/from')}`;
    const dir = await project({
      'werf.yaml': 'project: instr\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\n',
      Dockerfile: 'FROM scratch AS assets\nCOPY a.txt /out/a.txt\nCOPY b.txt /out/sub/b.txt\nFROM scratch\nWORKDIR /srv\nCOPY --from=assets /out/ ./\n',
      'a.txt': 'alpha\n',
      'b.txt': 'beta\n',
    });
    const first = await build(dir, ['--repo', repo]);
    expect(first.code, first.out).toBe(0);
    const manifest = await skopeoInspect(`${repo}:${tagOf(first.out, 'app')}`, { raw: true }) as { layers: { digest: string; size: number; mediaType: string }[] };
    const [registry, ...rest] = repo.split('/');
    const store = new RegistryStore(client, { registry: registry!, repository: rest.join('/') });
    expect((await readFileFromImage(store, manifest.layers, 'srv/a.txt'))?.toString()).toBe('alpha\n');
    expect((await readFileFromImage(store, manifest.layers, 'srv/sub/b.txt'))?.toString()).toBe('beta\n');
    const second = await build(dir, ['--repo', repo]);
    expect(second.out).toMatch(/0 built, \d+ reused/);
    expect(tagOf(second.out, 'app')).toBe(tagOf(first.out, 'app'));
  });

  it('fails on an ADD --checksum mismatch, naming the file and line', async () => {
    const dir = await project({
      'werf.yaml': 'project: instr\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\n',
      Dockerfile: `FROM scratch\nADD --checksum=sha256:${'0'.repeat(64)} ${serverUrl}/files/data.txt /data.txt\n`,
    });
    const { code, out } = await build(dir, []);
    expect(code).toBe(1);
    expect(out).toMatch(/^Error: Dockerfile:2: ADD .*checksum mismatch/m);
  });

  it('builds several platforms into an index under the 56-hex tag, and runs ONBUILD triggers of a base', async () => {
    const { plain } = registries();
    const repo = `${plain.host}/${uniqueRepo('instr/multi')}`;
    const dir = await project({
      'werf.yaml': 'project: instr\nconfigVersion: 1\n---\nimage: base\ndockerfile: base.Dockerfile\nplatform: [linux/amd64, linux/arm64]\n---\nimage: app\ndockerfile: app.Dockerfile\nplatform: [linux/amd64, linux/arm64]\ndependencies:\n- image: base\n  imports:\n  - type: ImageName\n    targetBuildArg: BASE\n',
      'base.Dockerfile': 'FROM scratch\nONBUILD LABEL triggered=yes\nONBUILD COPY marker.txt /marker.txt\n',
      'app.Dockerfile': 'ARG BASE\nFROM ${BASE}\nARG TARGETARCH\nENV ARCH=${TARGETARCH}\n',
      'marker.txt': 'onbuild\n',
    });
    const { code, out } = await build(dir, ['--repo', repo]);
    expect(code, out).toBe(0);
    const tag = tagOf(out, 'app');
    expect(tag).toMatch(/^[0-9a-f]{56}$/);
    const index = await skopeoInspect(`${repo}:${tag}`, { raw: true }) as { mediaType: string; manifests: { digest: string; platform: { architecture: string } }[] };
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m) => m.platform.architecture).sort()).toEqual(['amd64', 'arm64']);
    for (const child of index.manifests) {
      const config = await skopeoInspect(`${repo}@${child.digest}`, { config: true }) as { architecture: string; config: { Env: string[]; Labels: Record<string, string>; OnBuild?: string[] | null } };
      expect(config.config.Env).toContain(`ARCH=${child.platform.architecture}`);
      expect(config.config.Labels.triggered).toBe('yes');
      expect(config.config.OnBuild ?? []).toEqual([]);
      expect(config.architecture).toBe(child.platform.architecture);
    }
  });

  // issue 12, defect 4: Docker's defaults and validation.
  it('FROM scratch gets Docker\'s default PATH in its config Env', async () => {
    const { plain } = registries();
    const repo = `${plain.host}/${uniqueRepo('instr/scratch-path')}`;
    const dir = await project({
      'werf.yaml': 'project: instr\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\n',
      Dockerfile: 'FROM scratch\nENV A=1\nCOPY f /f\n',
      f: 'f\n',
    });
    const { code, out } = await build(dir, ['--repo', repo]);
    expect(code, out).toBe(0);
    const config = await skopeoInspect(`${repo}:${tagOf(out, 'app')}`, { config: true }) as { config: { Env: string[] } };
    expect(config.config.Env).toEqual(['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1']);
  });

  it.each([
    ['EXPOSE abc', 'FROM scratch\nEXPOSE 80 abc\n', /^Error: Dockerfile:2: invalid containerPort: abc$/m],
    ['EXPOSE 80/xyz', 'FROM scratch\nARG P=80/xyz\nEXPOSE $P\n', /^Error: Dockerfile:3: invalid proto: xyz$/m],
    ['COPY a b /notadir', 'FROM scratch\nCOPY a b /notadir\n', /^Error: Dockerfile:2: When using COPY with more than one source file, the destination must be a directory and end with a \/$/m],
    ['ADD a b /notadir', 'FROM scratch\n\nADD a b /notadir\n', /^Error: Dockerfile:3: When using ADD with more than one source file, the destination must be a directory and end with a \/$/m],
    ['a missing COPY --from path', 'FROM scratch AS s\nCOPY a /a\nFROM scratch\nCOPY --from=s /nope /x\n', /^Error: Dockerfile:4: /m],
    ['COPY --chown of an unknown user on scratch', 'FROM scratch\nCOPY --chown=nobody a /a\n', /^Error: Dockerfile:2: /m],
  ])('%s is an error naming Dockerfile:LINE, as in Docker', async (_name, dockerfile, message) => {
    const dir = await project({
      'werf.yaml': 'project: instr\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\n',
      Dockerfile: dockerfile, a: 'a\n', b: 'b\n',
    });
    const { code, out } = await build(dir, []);
    expect(code, out).toBe(1);
    expect(out).toMatch(message);
  });

  it('an error of the layer code (a symlink loop in a COPY --from source) names Dockerfile:LINE', async () => {
    const dir = await temp.make('slipway-instr-');
    await writeFile(join(dir, 'werf.yaml'), 'project: instr\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\n');
    await writeFile(join(dir, 'Dockerfile'), 'FROM scratch AS s\nCOPY a b /\nFROM scratch\nCOPY --from=s /a/x /x\n');
    await symlink('b', join(dir, 'a'));
    await symlink('a', join(dir, 'b'));
    const git = (...args: string[]) => run('git', ['-c', 'user.email=t@example.org', '-c', 'user.name=t', ...args], { cwd: dir });
    await git('init', '-q');
    await git('add', '-A');
    await git('commit', '-qm', 'fixture');
    const { code, out } = await build(dir, []);
    expect(code, out).toBe(1);
    expect(out).toMatch(/^Error: Dockerfile:4: .*too many levels of symbolic links/m);
  });

  it('ADD of a URL with user:password sends them as Basic auth and never prints the password', async () => {
    const { plain } = registries();
    const repo = `${plain.host}/${uniqueRepo('instr/add-auth')}`;
    const withAuth = serverUrl.replace('http://', 'http://u:s3cret-pw@');
    const dir = await project({
      'werf.yaml': 'project: instr\nconfigVersion: 1\n---\nimage: app\ndockerfile: Dockerfile\n---\nimage: bad\ndockerfile: bad.Dockerfile\n',
      Dockerfile: `FROM scratch\nADD ${withAuth}/private/data.txt /data.txt\n`,
      'bad.Dockerfile': `FROM scratch\nADD --checksum=sha256:${'0'.repeat(64)} ${withAuth}/private/data.txt /data.txt\n`,
    });
    const good = await build(dir, ['--repo', repo, 'app']);
    expect(good.code, good.out).toBe(0);
    const [registry, ...rest] = repo.split('/');
    const store = new RegistryStore(client, { registry: registry!, repository: rest.join('/') });
    const manifest = await skopeoInspect(`${repo}:${tagOf(good.out, 'app')}`, { raw: true }) as { layers: { digest: string; size: number; mediaType: string }[] };
    expect((await readFileFromImage(store, manifest.layers, 'data.txt'))?.toString()).toBe('downloaded content\n');
    expect(good.out).not.toContain('s3cret-pw');
    // Nor does the pushed image: its history names the URL without the credentials.
    const config = await skopeoInspect(`${repo}:${tagOf(good.out, 'app')}`, { config: true }) as { history: { created_by?: string }[] };
    const history = JSON.stringify(config.history);
    expect(history).toContain('/private/data.txt');
    expect(history).not.toContain('s3cret-pw');
    const bad = await build(dir, ['--repo', repo, 'bad']);
    expect(bad.code, bad.out).toBe(1);
    expect(bad.out).toMatch(/^Error: bad\.Dockerfile:2: ADD .*checksum mismatch/m);
    expect(bad.out).not.toContain('s3cret-pw');
  });
});
