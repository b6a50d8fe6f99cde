// `slipway export` end to end against real registries, read back with skopeo.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { uniqueRepo } from '../support/images.js';
import { pushRandomImage, registries, skopeoInspect } from '../support/registries.js';
import { commitAsync, tempDirs } from '../support/git-repo.js';

const run = promisify(execFile);
// Every project (its .home inside it), docker config and output directory this file makes.
const temp = tempDirs();
afterAll(temp.removeAll);

interface Result { code: number; out: string; stdout: string }

async function slipway(dir: string, argv: string[], env: Record<string, string> = {}): Promise<Result> {
  let out = '';
  let stdout = '';
  const code = await runCli([argv[0]!, '--dir', dir, ...argv.slice(1)], {
    io: { stdout: (t) => { out += t; stdout += t; }, stderr: (t) => { out += t; } },
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), SLIPWAY_HOME: join(dir, '.home'), ...env },
  });
  return { code, out, stdout };
}

let baseRef: string;
let baseLayers: string[];

async function project(): Promise<string> {
  const dir = await temp.make('slipway-export-');
  const files: Record<string, string> = {
    'werf.yaml': `project: exporttest\nconfigVersion: 1\n---\nimage: backend\ndockerfile: backend.Dockerfile\n---\nimage: frontend\ndockerfile: frontend.Dockerfile\n---\nimage: helper\nfinal: false\ndockerfile: frontend.Dockerfile\n`,
    'backend.Dockerfile': `FROM ${baseRef}\nLABEL org.example.keep=yes werfish=1\nCOPY app.txt /app.txt\nCMD ["/app"]\n`,
    'frontend.Dockerfile': 'FROM scratch\nCOPY app.txt /index.html\n',
    'app.txt': 'app\n',
  };
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await commitAsync(dir, 'fixture', { init: true });
  return dir;
}

function exported(stdout: string): Map<string, string> {
  return new Map([...stdout.matchAll(/^(\S+?)@(sha256:[0-9a-f]{64})$/gm)].map((m) => [m[1]!, m[2]!]));
}

beforeAll(async () => {
  const { plain } = registries();
  const base = await pushRandomImage(plain.host, uniqueRepo('export/base'), 'v1', { layers: 2, layerSize: 50_000 });
  baseRef = base.ref;
  baseLayers = base.layerDigests;
});

describe('slipway export', () => {
  it('exports into another registry with service labels removed, labels added and the layers unchanged', async () => {
    const { plain, plain2 } = registries();
    const dir = await project();
    const repo = `${plain.host}/${uniqueRepo('export/stages')}`;
    const dest = `${plain2.host}/${uniqueRepo('export/out')}`;
    const result = await slipway(dir, ['export', '--repo', repo, '--tag', `${dest}/%image%:latest`, '--add-label', 'org.opencontainers.image.created=2026-11-26', '--add-label', 'werf-kept=by-request']);
    expect(result.code, result.out).toBe(0);
    const refs = exported(result.stdout);
    expect([...refs.keys()].sort()).toEqual([`${dest}/backend:latest`, `${dest}/frontend:latest`]);
    const config = await skopeoInspect(`${dest}/backend:latest`, { config: true }) as { config: { Labels: Record<string, string>; Cmd: string[] }; history: { comment?: string; created_by?: string }[] };
    expect(config.config.Labels).toEqual({ 'org.example.keep': 'yes', 'org.opencontainers.image.created': '2026-11-26', 'werf-kept': 'by-request' });
    expect(config.config.Cmd).toEqual(['/app']);
    // The history stays (one entry per step), without Slipway's own comment.
    expect(config.history.some((h) => (h.created_by ?? '').includes('CMD'))).toBe(true);
    expect(config.history.filter((h) => h.comment === 'slipway')).toEqual([]);
    const manifest = await skopeoInspect(`${dest}/backend:latest`, { raw: true }) as { layers: { digest: string }[] };
    expect(manifest.layers.slice(0, 2).map((l) => l.digest)).toEqual(baseLayers);
    const raw = await skopeoInspect(`${dest}/backend:latest`) as { Digest: string };
    expect(raw.Digest).toBe(refs.get(`${dest}/backend:latest`));
    // The non-final image is not exported.
    expect(result.out).not.toMatch(/helper:latest/);
  });

  it('mounts within one registry (no blob upload but the config), and a re-run only HEADs', async () => {
    const { plain } = registries();
    const dir = await project();
    const stages = uniqueRepo('export/mount-stages');
    const out = uniqueRepo('export/mount-out');
    expect((await slipway(dir, ['build', '--repo', `${plain.host}/${stages}`])).code).toBe(0);
    const proxy = await startFaultProxy({ target: `http://${plain.host}` });
    try {
      const first = await slipway(dir, ['export', 'backend', '--repo', `${proxy.host}/${stages}`, '--tag', `${proxy.host}/${out}:v1`, '--tag', `${proxy.host}/${out}:v2`]);
      expect(first.code, first.out).toBe(0);
      // Every layer is mounted (201); only the new config, unknown to the source repository, is uploaded:
      // its mount attempt answers 202 and the upload goes through that session.
      const mounts = proxy.requests.filter((r) => r.method === 'POST' && r.path.includes('mount='));
      expect(mounts.map((r) => r.status).sort()).toEqual([201, 201, 201, 202]);
      expect(proxy.requests.filter((r) => (r.method === 'PUT' || r.method === 'PATCH') && r.path.includes('/blobs/uploads/'))).toHaveLength(1);
      expect(proxy.requests.filter((r) => r.method === 'PUT' && r.path.includes('/manifests/')).map((r) => r.path.split('/').pop())).toEqual(['v1', 'v2']);
      proxy.clearRequests();
      const again = await slipway(dir, ['export', 'backend', '--repo', `${proxy.host}/${stages}`, '--tag', `${proxy.host}/${out}:v1`, '--tag', `${proxy.host}/${out}:v2`]);
      expect(again.code, again.out).toBe(0);
      expect(proxy.requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD')).toEqual([]);
      expect(again.out).toMatch(/up to date/);
      // Finding the stage reads its manifest and config; the export reuses them instead of reading them again.
      const reads = proxy.requests.filter((r) => r.method === 'GET' && /\/(manifests|blobs)\//.test(r.path)).map((r) => r.path);
      expect(reads.filter((path) => path.includes(`/${stages}/`)).length).toBeGreaterThanOrEqual(2);
      expect(reads, 'a document was read twice').toEqual([...new Set(reads)]);
      // The image's metadata records are in the stages listing: nothing asks for them again.
      expect(proxy.requests.filter((r) => /\/manifests\/(managed-image-|meta-)/.test(r.path)).map((r) => r.path)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('exports to registries with basic auth, TLS and bearer tokens', async () => {
    const { plain, basic, tls, token } = registries();
    const dir = await project();
    const config = await temp.make('slipway-export-auth-');
    const auth = (u: string, p: string) => ({ auth: Buffer.from(`${u}:${p}`).toString('base64') });
    await writeFile(join(config, 'config.json'), JSON.stringify({ auths: { [basic.host]: auth(basic.username, basic.password), [token.host]: auth(token.username, token.password) } }));
    const targets = [`${basic.host}/${uniqueRepo('export/basic')}`, `${tls.host}/${uniqueRepo('export/tls')}`, `${token.host}/${uniqueRepo('export/token')}`];
    const result = await slipway(dir, ['export', 'frontend', '--repo', `${plain.host}/${uniqueRepo('export/auth-stages')}`, '--docker-config', config, '--skip-tls-verify-registry',
      ...targets.flatMap((t) => ['--tag', `${t}:%image%`])]);
    expect(result.code, result.out).toBe(0);
    const digests = exported(result.stdout);
    expect(digests.size).toBe(3);
    const first = await skopeoInspect(`${targets[0]}:frontend`, { raw: true, creds: `${basic.username}:${basic.password}` }) as { layers: { digest: string }[] };
    const second = await skopeoInspect(`${targets[1]}:frontend`, { raw: true, certDir: tls.certDir }) as { layers: { digest: string }[] };
    const third = await skopeoInspect(`${targets[2]}:frontend`, { raw: true, creds: `${token.username}:${token.password}` }) as { layers: { digest: string }[] };
    expect(second.layers).toEqual(first.layers);
    expect(third.layers).toEqual(first.layers);
    expect(new Set(digests.values()).size).toBe(1);
  });

  it('exports a multi-platform image as an index of the same media type, each platform relabelled', async () => {
    const { plain, plain2 } = registries();
    const dir = await project();
    const dest = `${plain2.host}/${uniqueRepo('export/multi')}`;
    const result = await slipway(dir, ['export', 'frontend', '--repo', `${plain.host}/${uniqueRepo('export/multi-stages')}`, '--platform', 'linux/amd64', '--platform', 'linux/arm64', '--tag', `${dest}:%image_content_based_tag%`, '--add-annotation', 'org.example.note=multi']);
    expect(result.code, result.out).toBe(0);
    const [ref] = [...exported(result.stdout).keys()];
    expect(ref).toMatch(/:[0-9a-f]{56}$/);
    const index = await skopeoInspect(ref!, { raw: true }) as { mediaType: string; annotations: Record<string, string>; manifests: { digest: string; platform: { architecture: string } }[] };
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.annotations).toEqual({ 'org.example.note': 'multi' });
    expect(index.manifests.map((m) => m.platform.architecture).sort()).toEqual(['amd64', 'arm64']);
    for (const child of index.manifests) {
      const config = await skopeoInspect(`${dest}@${child.digest}`, { config: true }) as { config: { Labels?: Record<string, string> } };
      expect(Object.keys(config.config.Labels ?? {}).filter((k) => k.startsWith('slipway'))).toEqual([]);
    }
  });

  it('writes to an OCI layout destination and an export report', async () => {
    const { plain } = registries();
    const dir = await project();
    const out = await temp.make('slipway-export-oci-');
    const report = join(out, 'report.json');
    const result = await slipway(dir, ['export', '--repo', `${plain.host}/${uniqueRepo('export/oci-stages')}`, '--tag', `oci:${out}/layout:%image%`,
      '--tag', `oci-archive:${out}/images.tar:%image%`, '--export-report-path', report]);
    expect(result.code, result.out).toBe(0);
    const config = await skopeoInspect(`oci:${out}/layout:backend`, { config: true }) as { config: { Labels: Record<string, string> } };
    expect(config.config.Labels['org.example.keep']).toBe('yes');
    // Both images landed in the one archive, readable by skopeo.
    for (const image of ['backend', 'frontend']) {
      const fromArchive = await skopeoInspect(`oci-archive:${out}/images.tar:${image}`) as { Digest: string };
      const fromLayout = await skopeoInspect(`oci:${out}/layout:${image}`) as { Digest: string };
      expect(fromArchive.Digest).toBe(fromLayout.Digest);
    }
    const parsed = JSON.parse(await readFile(report, 'utf8')) as { image: string; destination: string; digest: string; skipped: boolean }[];
    expect(parsed.map((r) => r.image).sort()).toEqual(['backend', 'backend', 'frontend', 'frontend']);
    expect(parsed.every((r) => /^sha256:/.test(r.digest) && r.skipped === false)).toBe(true);
  });

  it('refuses a report path in a missing directory before building or pushing anything', async () => {
    const { plain, plain2 } = registries();
    const dir = await project();
    const repo = `${plain.host}/${uniqueRepo('export/report-dir')}`;
    const dest = `${plain2.host}/${uniqueRepo('export/report-dir-out')}`;
    const missing = join(dir, 'no-such-dir', 'report.json');
    const refused = await slipway(dir, ['export', '--repo', repo, '--tag', `${dest}/%image%:x`, '--export-report-path', missing]);
    expect(refused.code).toBe(2);
    expect(refused.out).toMatch(new RegExp(`^Error: --export-report-path ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the directory .* does not exist`, 'm'));
    expect(refused.out).not.toMatch(/Building stage|Use previously built/);
    expect(await run('skopeo', ['list-tags', '--tls-verify=false', `docker://${repo}`]).then(() => 'exists', () => 'absent')).toBe('absent');
    const build = await slipway(dir, ['build', '--repo', repo, '--save-build-report', '--build-report-path', missing]);
    expect(build.code).toBe(2);
    expect(build.out).toMatch(/^Error: --build-report-path .*: the directory .* does not exist/m);
  });

  it('-Z fails naming the images that would need building; --use-build-report exports what a report names', async () => {
    const { plain, plain2 } = registries();
    const dir = await project();
    const repo = `${plain.host}/${uniqueRepo('export/z')}`;
    const dest = `${plain2.host}/${uniqueRepo('export/z-out')}`;
    const refused = await slipway(dir, ['export', '-Z', '--repo', repo, '--tag', `${dest}/%image%:x`]);
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/^Error: --require-built-images: images backend, frontend would need building/m);
    expect(await run('skopeo', ['list-tags', '--tls-verify=false', `docker://${dest}/backend`]).then(() => 'exists', () => 'absent')).toBe('absent');

    const report = join(dir, 'build-report.json');
    expect((await slipway(dir, ['build', '--repo', repo, '--save-build-report', '--build-report-path', report])).code).toBe(0);
    const z = await slipway(dir, ['export', '-Z', '--repo', repo, '--tag', `${dest}/%image%:z`]);
    expect(z.code, z.out).toBe(0);
    const fromReport = await slipway(dir, ['export', 'frontend', '--use-build-report', '--build-report-path', report, '--tag', `${dest}/%image%:from-report`]);
    expect(fromReport.code, fromReport.out).toBe(0);
    expect([...exported(fromReport.stdout).keys()]).toEqual([`${dest}/frontend:from-report`]);
    expect(fromReport.out).not.toMatch(/Use previously built|Building stage/);
    // The report names where the images are: no stages storage is opened (none was named either).
    expect(fromReport.out).not.toMatch(/Stages storage/);
  });

  it('validates every input before anything is built or pushed', async () => {
    const { plain } = registries();
    const dir = await project();
    const repo = `${plain.host}/${uniqueRepo('export/invalid')}`;
    const cases: [string[], RegExp][] = [
      [[], /^Error: required at least one tag template: use the --tag option to specify templates$/m],
      [['--tag', `${plain.host}/x:%image%`, '--add-label', 'novalue'], /^Error: unsupported --add-label value: invalid value "novalue" \("\\n"\): invalid key=value pair "novalue" \("="\)$/m],
      [['--tag', `${plain.host}/x:latest`], /tag template must contain image name shortcut %image% or %image_slug%/],
      [['--tag', `${plain.host}/X/%image%:latest`], /invalid tag template ".*": could not parse reference: .*must be lowercase/],
      [['--tag', `${plain.host}/x:%image_nope%`], /^Error: invalid tag template/m],
      [['--tag', `${plain.host}/x:%image`], /^Error: invalid tag template/m],
      [['--tag', 'myimage:%image%'], /index\.docker\.io/],
      // werf's rule: Docker Hub is written index.docker.io.
      [['--tag', 'docker.io/org/%image%:v1'], /"docker\.io\/org\/backend:v1" writes Docker Hub as docker\.io: werf requires the address "index\.docker\.io" for Docker Hub: write "index\.docker\.io\/org\/%image%:v1"/],
      [['--tag', `${repo}:%image_content_based_tag%`, 'frontend'], /stage/],
    ];
    for (const [args, message] of cases) {
      const positional = args.filter((a) => a === 'frontend');
      const flags = args.filter((a) => a !== 'frontend');
      const result = await slipway(dir, ['export', ...positional, '--repo', repo, ...flags]);
      expect(result.code, `${args.join(' ')}\n${result.out}`).not.toBe(0);
      expect(result.out, args.join(' ')).toMatch(message);
    }
    // Nothing was built or pushed: the stages repository has no tags.
    expect(await run('skopeo', ['list-tags', '--tls-verify=false', `docker://${repo}`]).then((r) => r.stdout, () => 'absent')).toBe('absent');
  });

  it('refuses an unsupported RUN mount of any image before building or pushing the others', async () => {
    const { plain } = registries();
    const dir = await project();
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'werf.yaml'), (await readFile(join(dir, 'werf.yaml'), 'utf8')) + '---\nimage: zz-ssh\ndockerfile: ssh.Dockerfile\n');
    await writeFile(join(dir, 'ssh.Dockerfile'), 'FROM scratch\nCOPY app.txt /\nRUN --mount=type=ssh true\n');
    await commitAsync(dir, 'ssh image');
    const repo = `${plain.host}/${uniqueRepo('export/preflight')}`;
    for (const argv of [['build', '--repo', repo], ['export', '--repo', repo, '--tag', `${plain.host}/${uniqueRepo('export/preflight-dest')}/%image%:v1`]]) {
      const result = await slipway(dir, argv);
      expect(result.code, result.out).not.toBe(0);
      // Refused when the Dockerfile is parsed, naming its line (the parser refuses ssh mounts itself).
      expect(result.out).toMatch(/Error: (image zz-ssh: )?ssh\.Dockerfile:3: RUN --mount=?type=ssh is not supported/);
      expect(result.out).not.toMatch(/Building stage|Store stage/);
    }
    expect(await run('skopeo', ['list-tags', '--tls-verify=false', `docker://${repo}`]).then((r) => r.stdout, () => 'absent')).toBe('absent');
  });
});
