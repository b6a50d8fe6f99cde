// Build the selected werf images and everything they depend on, in dependency order and
// concurrently where the order allows, for every target platform.

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { BuildError } from '../errors.js';
import { MediaType, encodeManifest, formatPlatform, parsePlatform, type Descriptor, type Platform } from '../oci/index.js';
import type { ProjectFiles } from '../project/index.js';
import { imageLogName, parseAddHost, relatedImageNames, resolveDependencyOrder, type WerfConfig, type WerfImage } from '../config/index.js';
import type { RegistryClient } from '../registry/client.js';
import { multiplatformDigestOf, publishImageMetadata, type StagesStorage } from '../stages/index.js';
import { slipwayHome } from '../stages/home.js';
import { firstFailure } from '../store/copy-image.js';
import { ImageResolver } from './base-image.js';
import { LayerDirs } from './run/layer-dirs.js';
import { makeScratchDir } from './scratch-dirs.js';
import { proxySettingsFromEnv } from '../registry/proxy.js';
import { StageNotBuiltError, buildDockerfileImage, type BuildLog, type DockerfileBuildInput, type PlatformImage } from './build-image.js';
import { findOciRuntime, type OciRuntime } from './run/oci-runtime.js';
import { buildStapelImage } from './stapel/build-stapel-image.js';

export interface BuildImagesOptions {
  config: WerfConfig;
  files: ProjectFiles;
  /** The images asked for; their dependencies are built too. */
  images: readonly WerfImage[];
  client: RegistryClient;
  storage: StagesStorage;
  /** `--platform`: overrides werf.yaml's platforms when not empty. */
  platforms?: readonly string[];
  /** Images built at once; 0 or less: no limit. */
  parallelTasksLimit?: number;
  log: BuildLog;
  version: string;
  /** Where layers are assembled before upload. */
  tmpDir?: string;
  /** `-Z`: build nothing; fail naming every image that has a missing stage. */
  requireBuilt?: boolean;
  /** Slipway's home (`--home-dir`): RUN's layer cache and cache mounts live under `<home>/run`. Default slipwayHome(). */
  home?: string;
  /** Where werf.yaml `env` secrets are read (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Stop RUN commands (Ctrl-C): their whole process tree is killed. */
  signal?: AbortSignal;
  /** Kill a RUN command that runs longer than this. */
  runTimeoutMs?: number;
  /** `--oci-runtime`: the runtime RUN commands execute in (a name on PATH or a path); default crun or runc. */
  ociRuntime?: string;
}

export interface BuiltImage {
  name: string;
  final: boolean;
  /** Where the image lives: the stages storage's repository, or the local store. */
  repository: string;
  /** The content-based tag: the last stage's tag, or the 56-hex index tag for several platforms. */
  tag: string;
  /** The manifest (or index) digest under that tag. */
  digest: string;
  /** Config digest (single platform only): Docker's image ID. */
  configDigest: string | undefined;
  platforms: PlatformImage[];
  /** True when no stage of this image had to be built. */
  reused: boolean;
}

export interface BuildResult {
  images: BuiltImage[];
  stagesBuilt: number;
  stagesReused: number;
}

/** The platform of this machine, as a default target. */
export function hostPlatform(): Platform {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' };
  return { os: 'linux', architecture: arch[process.arch] ?? process.arch };
}

export async function buildImages(givenOptions: BuildImagesOptions): Promise<BuildResult> {
  const options = { ...givenOptions, log: warningsOnce(givenOptions.log) };
  const { config } = options;
  const order = resolveDependencyOrder(config.images, options.images);
  refuseUnsupported(order);
  options.storage.prefetch();
  // Under Slipway's home rather than $TMPDIR: a killed build's leftovers are swept at the next start.
  const tmpRoot = await makeScratchDir(options.tmpDir ?? join(runHome(options), '..', 'tmp'), 'build');
  // rejectOnClear: an image still queued when another fails settles (as an AbortError) instead of never.
  const limit = pLimit({ concurrency: options.parallelTasksLimit !== undefined && options.parallelTasksLimit > 0 ? options.parallelTasksLimit : Infinity, rejectOnClear: true });
  const results = new Map<string, Promise<BuiltImage>>();
  // The unpacked layers RUN executes on: one cache per home, shared by the images of the build.
  const layers = new LayerDirs({ root: join(runHome(options), 'layers'), note: (m) => options.log.note?.(m) });
  const resolver = new ImageResolver(options.client);
  let runtime: OciRuntime | undefined;
  const ociRuntime = (): OciRuntime => (runtime ??= findOciRuntime(options.ociRuntime));
  try {
    for (const image of order) {
      // Every image waits for what it depends on; the pool bounds how many build at once.
      const deps = [...new Set([...image.dependencies.map((d) => d.image), ...(image.kind === 'stapel' ? relatedImageNames(image) : [])])];
      const started = Promise.all(deps.map((name) => results.get(name)!)).then((built) =>
        limit(() => buildOne(options, image, new Map(built.map((b) => [b.name, b])), tmpRoot, layers, resolver, ociRuntime)));
      // -Z reports every image that misses a stage, so the others run on; otherwise the first failure stops the queue.
      started.catch(() => { if (!options.requireBuilt) limit.clearQueue(); });
      results.set(image.name, started);
    }
    const settled = await Promise.allSettled(order.map((image) => results.get(image.name)!));
    const missing = settled.flatMap((r) => (r.status === 'rejected' && r.reason instanceof StageNotBuiltError ? [r.reason] : []));
    if (missing.length > 0) {
      const names = [...new Set(missing.map((e) => e.image))].sort();
      throw new BuildError(`--require-built-images: ${names.length === 1 ? 'image' : 'images'} ${names.join(', ')} would need building (first missing stage: ${missing[0]!.stage})`, {
        hint: 'run slipway build with the same --repo first, or drop -Z',
      });
    }
    const failed = firstFailure(settled);
    if (failed) throw failed.reason;
    const images = settled.map((r) => (r as PromiseFulfilledResult<BuiltImage>).value);
    const wanted = new Set(options.images.map((i) => i.name));
    const stagesBuilt = images.reduce((n, i) => n + i.platforms.reduce((m, p) => m + p.built, 0), 0);
    const stagesReused = images.reduce((n, i) => n + i.platforms.reduce((m, p) => m + p.reused, 0), 0);
    return { images: images.filter((i) => wanted.has(i.name)), stagesBuilt, stagesReused };
  } finally {
    await rm(tmpRoot, { recursive: true, force: true });
  }
}

/** werf's global warnings: each text is printed once per run, however many images or platforms say it. */
function warningsOnce(log: BuildLog): BuildLog {
  if (log.warn === undefined) return log;
  const said = new Set<string>();
  const warn = log.warn.bind(log);
  // Object.create: a logger whose methods live on its prototype keeps them.
  return Object.assign(Object.create(log) as BuildLog, {
    warn: (message: string) => {
      if (said.has(message)) return;
      said.add(message);
      warn(message);
    },
  });
}

function targetPlatforms(options: BuildImagesOptions, image: WerfImage): Platform[] {
  const given = options.platforms && options.platforms.length > 0 ? options.platforms
    : image.platform.length > 0 ? image.platform
      : options.config.build.platform;
  const platforms = given.length > 0 ? given.map(parsePlatform) : [hostPlatform()];
  const unique = new Map(platforms.map((p) => [formatPlatform(p), p]));
  return [...unique.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
}

/** `runTimeoutMs`, else `SLIPWAY_RUN_TIMEOUT` (seconds) from the environment. */
function runTimeout(options: BuildImagesOptions): { timeoutMs?: number } {
  if (options.runTimeoutMs !== undefined) return { timeoutMs: options.runTimeoutMs };
  const seconds = Number((options.env ?? process.env)['SLIPWAY_RUN_TIMEOUT'] ?? '');
  return seconds > 0 ? { timeoutMs: seconds * 1000 } : {};
}

function runHome(options: BuildImagesOptions): string {
  return join(options.home ?? slipwayHome(options.env ?? process.env), 'run');
}

async function buildOne(options: BuildImagesOptions, image: WerfImage, dependencies: ReadonlyMap<string, BuiltImage>, tmpDir: string, layers: LayerDirs, images: ImageResolver, runtime: () => OciRuntime): Promise<BuiltImage> {
  const platforms = targetPlatforms(options, image);
  const services = {
    requireBuilt: options.requireBuilt ?? false,
    client: options.client, images, storage: options.storage, files: options.files, project: options.config.project,
    version: options.version, tmpDir, log: options.log, proxy: proxySettingsFromEnv(options.env ?? process.env),
    run: {
      layers, cacheMountDir: join(runHome(options), 'cache', options.config.project), secretEnv: options.env ?? process.env, runtime,
      ...(options.signal ? { signal: options.signal } : {}), ...runTimeout(options),
    },
  };
  const built: PlatformImage[] = [];
  const started = Date.now();
  const done = (ok: boolean, tag?: string): void => options.log.imageDone?.(imageLogName(image.name), {
    ok, ...(tag ? { tag } : {}), built: built.reduce((n, p) => n + p.built, 0), reused: built.reduce((n, p) => n + p.reused, 0), ms: Date.now() - started,
  });
  try {
    for (const platform of platforms) {
      if (image.kind === 'stapel') {
        built.push(await buildStapelImage(services, {
          image, cacheVersion: image.cacheVersion ?? options.config.build.cacheVersion, platform, dependencies,
          runHome: runHome(options), env: options.env ?? process.env,
        }));
        continue;
      }
      const buildArgs = { ...image.args, ...dependencyArgs(image, dependencies) };
      built.push(await buildDockerfileImage(services, {
        name: imageLogName(image.name), dockerfile: image.dockerfile, context: image.context, target: image.target, buildArgs,
        cacheVersion: image.cacheVersion ?? options.config.build.cacheVersion, platform, buildPlatform: hostPlatform(),
        secrets: image.secrets, network: image.network, ...imageSpecInput(image, options.log), ...extraHostsInput(image),
      }));
    }
  } catch (error) {
    done(false);
    throw error;
  }
  const repository = options.storage.store.name;
  const reused = built.every((p) => p.built === 0);
  const result: BuiltImage = built.length === 1
    ? { name: image.name, final: image.final, repository, tag: built[0]!.stage.tag, digest: built[0]!.manifestDigest, configDigest: built[0]!.configDigest, platforms: built, reused }
    : { name: image.name, final: image.final, repository, ...(await publishIndex(options.storage, built)), configDigest: undefined, platforms: built, reused };
  // Which commit produced which image: what cleanup's git-history policy keeps. Not for --dev builds,
  // whose working tree no commit describes, and never under -Z, which writes nothing.
  const commit = options.files.commit;
  if (commit && !options.files.dev && !options.requireBuilt) {
    const { storage } = options;
    await publishImageMetadata(storage.store, { project: options.config.project, imageName: image.name, commit: commit.hash, stageId: result.tag }, (tag) => storage.hasRecord(tag));
  }
  done(true, result.tag);
  return result;
}

/** `addHost` (checked when werf.yaml was loaded), for RUN's /etc/hosts. */
function extraHostsInput(image: WerfImage & { kind: 'dockerfile' }): Pick<DockerfileBuildInput, 'extraHosts'> {
  if (image.addHost.length === 0) return {};
  return {
    extraHosts: image.addHost.map((entry) => {
      const parsed = parseAddHost(entry);
      if ('error' in parsed) throw new BuildError(`image ${imageLogName(image.name)}: addHost: ${parsed.error}`);
      return parsed;
    }),
  };
}

/**
 * werf applies an image's imageSpec as a stage of its own after the Dockerfile, except for `staged: true`
 * Dockerfile images, whose stages werf maps without it (mapDockerfileToImagesSets): said once per image.
 */
function imageSpecInput(image: WerfImage & { kind: 'dockerfile' }, log: BuildLog): Pick<DockerfileBuildInput, 'imageSpec'> {
  if (image.imageSpec === undefined) return {};
  if (image.staged) {
    log.warn?.(`image ${imageLogName(image.name)}: imageSpec is not applied to a staged Dockerfile image (werf does not apply it either); remove staged: true to apply it`);
    return {};
  }
  return { imageSpec: { spec: image.imageSpec, werfName: image.name } };
}

/** Stapel `ansible` (and `secrets`, not mounted yet) are refused before anything is built (docs/stapel.md). */
function refuseUnsupported(images: readonly WerfImage[]): void {
  for (const image of images) {
    if (image.kind !== 'stapel') continue;
    if (image.ansible !== undefined) {
      throw new BuildError(`image ${imageLogName(image.name)}: stapel "ansible" is not supported: nothing was built`, {
        hint: 'write the stages as "shell" commands (docs/stapel.md)',
      });
    }
    if (image.secrets.length > 0) {
      throw new BuildError(`image ${imageLogName(image.name)}: "secrets" of stapel images are not supported yet: nothing was built`, {
        hint: 'shell stages do not mount secrets (docs/stapel.md)',
      });
    }
  }
}

/** Several platforms: an OCI index of the platform images under the 56-hex digest of their stage tags. */
async function publishIndex(storage: StagesStorage, built: PlatformImage[]): Promise<{ tag: string; digest: string }> {
  const digest = multiplatformDigestOf(built.map((p) => ({ platform: formatPlatform(p.platform), stageId: p.stage.tag })));
  const manifests: Descriptor[] = [];
  for (const p of built) {
    const image = await storage.getStageImage(p.stage);
    manifests.push({ mediaType: image.manifest.mediaType, digest: image.manifest.digest, size: image.manifest.bytes.length, platform: p.platform });
  }
  const index = encodeManifest({ schemaVersion: 2, mediaType: MediaType.OciIndex, manifests }, MediaType.OciIndex);
  const stored = await storage.publishIndex(digest, index);
  return { tag: digest, digest: stored.manifestDigest ?? index.digest };
}

/** Build args a Dockerfile image receives from `dependencies[].imports`. */
function dependencyArgs(image: WerfImage, dependencies: ReadonlyMap<string, BuiltImage>): Record<string, string> {
  const args: Record<string, string> = {};
  for (const dependency of image.dependencies) {
    const built = dependencies.get(dependency.image);
    if (!built) throw new BuildError(`image ${imageLogName(image.name)}: dependency "${dependency.image}" was not built`);
    for (const imp of dependency.imports) {
      if (!imp.targetBuildArg) continue;
      args[imp.targetBuildArg] = importValue(imp.type, built);
    }
  }
  return args;
}

function importValue(type: string, image: BuiltImage): string {
  switch (type) {
    case 'ImageName': return `${image.repository}:${image.tag}`;
    case 'ImageTag': return image.tag;
    case 'ImageRepo': return image.repository;
    case 'ImageID': return image.configDigest ?? image.digest;
    case 'ImageDigest': return image.digest;
    default: throw new BuildError(`unknown dependency import type ${type}`);
  }
}
