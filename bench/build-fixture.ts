// Fixtures of bench/build.ts: the base image (an OCI layout of random-content layers,
// pushed with skopeo) and the werf project (a temp git repo whose Dockerfile has no RUN:
// metadata instructions and several COPYs of a ~50 MB context).
//
// Large context files are random bytes (an AES-CTR keystream: incompressible, like
// media or compressed archives); small files are source-like text (a few letters, spaces
// and newlines: gzip shrinks them about 2x), spread over nested directories.
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { tarHeader, writeLayerBlob, writeOciLayout } from '../test/support/oci-layout.js';
import { keystream, MIB } from './lib/random.js';

const execFileAsync = promisify(execFile);

// ---------------------------------------------------------------------------
// base image

/** One layer: a directory `opt/base-<i>/` holding one file of random bytes. */
async function* layerTar(i: number, size: number): AsyncGenerator<Buffer> {
  const random = keystream();
  yield tarHeader(`opt/base-${i}/`, 0, 0o755, '5');
  yield tarHeader(`opt/base-${i}/data.bin`, size);
  for (let left = size; left > 0; left -= MIB) yield random(Math.min(MIB, left));
  yield Buffer.alloc(((512 - (size % 512)) % 512) + 1024);
}

export interface BaseImage {
  manifestDigest: string;
  /** Compressed bytes of the layers. */
  layerBytes: number;
  layers: number;
}

/**
 * Write an OCI layout at `dir` of one linux/amd64 image whose layers are gzip tars of random
 * content (`layerSizes` bytes each), with a realistic config (PATH, a CMD), under `tag`.
 */
export async function writeBaseLayout(dir: string, tag: string, layerSizes: number[]): Promise<BaseImage> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const built = await Promise.all(layerSizes.map((size, i) => writeLayerBlob(dir, `layer-${i}.tmp`, Readable.from(layerTar(i, size)), 'gzip')));
  const config = JSON.stringify({
    created: '2024-01-01T00:00:00Z',
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: built.map((l) => l.diffId) },
    history: built.map((_, i) => ({ created: '2024-01-01T00:00:00Z', created_by: `bench base layer ${i}` })),
  });
  const { manifestDigest } = await writeOciLayout(dir, tag, config,
    built.map(({ digest, size }) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest, size })));
  return { manifestDigest, layerBytes: built.reduce((n, l) => n + l.size, 0), layers: built.length };
}

// ---------------------------------------------------------------------------
// the werf project

export interface ProjectSpec {
  /** `host:port/repo:tag` of the base image. */
  base: string;
  /** Sizes in bytes of the large random files. */
  largeFiles: number[];
  /** How many small text files. */
  smallFiles: number;
  /** Small files are 1 KiB to this many bytes (uniform). */
  smallMax: number;
}

export interface Project {
  dir: string;
  /** Bytes of every file the Dockerfile copies. */
  contextBytes: number;
  files: number;
  commit: string;
}

/** Source-like text: words of a few letters, spaces, newlines, some punctuation. */
function textBytes(random: (n: number) => Buffer, size: number): Buffer {
  const alphabet = Buffer.from('etaoinshrdlucmfwypvbgkjqxz      \n\n(){};=.,_eeeettttaaaa');
  const out = random(size);
  for (let i = 0; i < out.length; i++) out[i] = alphabet[out[i]! % alphabet.length]!;
  return out;
}

export const DOCKERFILE_BODY = [
  'LABEL org.opencontainers.image.title="slipway-bench" org.opencontainers.image.version="1.0.0" org.example.team="platform"',
  'ENV APP_HOME=/srv/app LANG=C.UTF-8 PATH=/srv/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  'WORKDIR /srv/app',
  'COPY assets/ ./assets/',
  'COPY data/ ./data/',
  'COPY src/ ./src/',
  'COPY config/app.yaml config/logging.yaml ./config/',
  'COPY bin/ ./bin/',
  'USER 1000:1000',
  'EXPOSE 8080/tcp',
  'ENV APP_ENV=production',
  'CMD ["/srv/app/bin/start", "--port", "8080"]',
];

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', ['-c', 'user.email=bench@example.org', '-c', 'user.name=bench', ...args], { cwd, maxBuffer: 64 * MIB });
  return stdout;
}

/** A werf project in `dir` (a new git repository, committed): werf.yaml, Dockerfile, the context. */
export async function writeProject(dir: string, spec: ProjectSpec): Promise<Project> {
  await mkdir(dir, { recursive: true });
  const random = keystream();
  let contextBytes = 0;
  let files = 0;
  const put = async (path: string, data: Buffer | string, mode = 0o644): Promise<void> => {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), data, { mode });
    contextBytes += Buffer.byteLength(data);
    files++;
  };
  const names = ['video.bin', 'model.bin', 'bundle.bin', 'archive.bin', 'blob.bin'];
  for (const [i, size] of spec.largeFiles.entries()) {
    const path = i < 2 ? `assets/${names[i]}` : `data/${names[i % names.length]!.replace('.bin', `-${i}.bin`)}`;
    // Written in 1 MiB pieces: writeFile of a Buffer this size is fine, but keep memory flat.
    const chunks: Buffer[] = [];
    for (let left = size; left > 0; left -= MIB) chunks.push(random(Math.min(MIB, left)));
    await put(path, Buffer.concat(chunks));
  }
  await put('data/README.txt', 'bench data\n');
  const modules = ['api', 'core', 'db', 'http', 'jobs', 'lib', 'model', 'ui', 'util', 'vendor'];
  for (let i = 0; i < spec.smallFiles; i++) {
    const module = modules[i % modules.length]!;
    const sub = `part${Math.floor(i / modules.length) % 6}`;
    const size = 1024 + (random(4).readUInt32LE(0) % Math.max(1, spec.smallMax - 1024));
    await put(`src/${module}/${sub}/file-${i}.js`, textBytes(random, size));
  }
  await put('config/app.yaml', 'listen: 0.0.0.0:8080\nworkers: 4\n');
  await put('config/logging.yaml', 'level: info\nformat: json\n');
  await put('bin/start', '#!/bin/sh\nexec node /srv/app/src/core/part0/file-1.js "$@"\n', 0o755);

  await writeFile(join(dir, 'Dockerfile'), [`FROM ${spec.base}`, ...DOCKERFILE_BODY, ''].join('\n'));
  await writeFile(join(dir, 'werf.yaml'), ['project: slipway-bench', 'configVersion: 1', '---', 'image: app', 'dockerfile: Dockerfile', ''].join('\n'));
  await git(dir, 'init', '-q');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-qm', 'bench project');
  const commit = (await git(dir, 'rev-parse', 'HEAD')).trim();
  return { dir, contextBytes, files, commit };
}
