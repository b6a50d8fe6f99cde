// The typed result of loading werf.yaml: what every later step (planning, build, export, cleanup) reads.
// Produced only by schema.ts (from the YAML documents) and load-config.ts (from the project); nothing here
// does I/O. Field names follow werf.yaml's keys; defaults are applied (werf's, noted where they matter), so a
// consumer never needs to know what "absent" meant.

/** A YAML value as it appears in the configuration, for the parts Slipway accepts without interpreting. */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

/** Where a piece of configuration came from, for messages. */
export interface ConfigSource {
  /** The configuration file, relative to the project directory (`werf.yaml`). */
  file: string;
  /** 1-based index of the YAML document in the rendered file. */
  document: number;
  /** 1-based line, in the rendered file, where the document starts. */
  line: number;
}

// ---------------------------------------------------------------------------------------------------------
// Meta document

/** `build.imageSpec` (applied to every final image) and per-image `imageSpec`. */
export interface ImageSpec {
  author: string | undefined;
  clearHistory: boolean;
  keepEssentialWerfLabels: boolean;
  /** Deprecated in werf; accepted, no effect there (nor here). */
  clearWerfLabels: boolean;
  /** Exact names or `/regex/`. */
  removeLabels: string[];
  removeVolumes: string[];
  /** Exact names or `/regex/`. */
  removeEnv: string[];
  clearCmd: boolean;
  clearEntrypoint: boolean;
  clearUser: boolean;
  clearWorkingDir: boolean;
  volumes: string[];
  labels: Record<string, string>;
  env: Record<string, string>;
  /** Set (even to `[]`): the image's exposed ports are exactly these; undefined: left as they are. */
  expose: string[] | undefined;
  user: string | undefined;
  cmd: string[] | undefined;
  entrypoint: string[] | undefined;
  workingDir: string | undefined;
  stopSignal: string | undefined;
  healthcheck: Healthcheck | undefined;
}

/** werf's healthcheck: durations in seconds (werf reads `startperiod` in lower case, a quirk of its YAML tags). */
export interface Healthcheck {
  test: string[];
  interval: number | undefined;
  timeout: number | undefined;
  startPeriod: number | undefined;
  retries: number | undefined;
}

export interface MetaBuild {
  cacheVersion: string | undefined;
  /** `OS/ARCH[/VARIANT]` as written; `--platform` overrides it. */
  platform: string[];
  /** Default for Dockerfile images that do not set `staged` themselves. */
  staged: boolean;
  imageSpec: ImageSpec | undefined;
}

export type LimitOperator = 'And' | 'Or';

/** `references.limit` and `imagesPerReference` of a keep policy. */
export interface CleanupLimit {
  /** `last: N`; werf's "no limit" is -1 or absent. */
  last: number | undefined;
  /** `in: <Go duration>` in milliseconds (`168h` → 604800000). */
  inMs: number | undefined;
  /** The duration as written, for messages. */
  in: string | undefined;
  /** werf's default is `And` when both `last` and `in` are set. */
  operator: LimitOperator | undefined;
}

/** A reference filter: an exact name, or `/regex/` (anchored by werf with `^...$`). */
export interface ReferenceMatcher {
  /** As written in werf.yaml. */
  source: string;
  /** Anchored regular expression equivalent to werf's. */
  regex: RegExp;
}

export interface CleanupKeepPolicy {
  references: {
    branch: ReferenceMatcher | undefined;
    tag: ReferenceMatcher | undefined;
    limit: CleanupLimit | undefined;
  };
  imagesPerReference: CleanupLimit | undefined;
}

export interface MetaCleanup {
  disable: boolean;
  disableKubernetesBasedPolicy: boolean;
  disableGitHistoryBasedPolicy: boolean;
  disableBuiltWithinLastNHoursPolicy: boolean;
  /** Default 2. */
  keepImagesBuiltWithinLastNHours: number;
  /** Empty when werf.yaml has none: the default policies apply then (cleanup's business). */
  keepPolicies: CleanupKeepPolicy[];
}

export interface MetaGitWorktree {
  /** Default false. */
  forceShallowClone: boolean;
  /** Default true. */
  allowUnshallow: boolean;
  /** Default true. */
  allowFetchOriginBranchesAndTags: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// Image documents

export const DEPENDENCY_IMPORT_TYPES = ['ImageName', 'ImageTag', 'ImageRepo', 'ImageID', 'ImageDigest'] as const;
export type DependencyImportType = (typeof DEPENDENCY_IMPORT_TYPES)[number];

export interface DependencyImport {
  type: DependencyImportType;
  /** Dockerfile images: the build arg that receives the value. */
  targetBuildArg: string | undefined;
  /** Stapel images: the environment variable that receives the value. */
  targetEnv: string | undefined;
}

export type UserStage = 'install' | 'setup';

export interface Dependency {
  /** The werf image depended on (`from`, or the deprecated `image`). */
  image: string;
  /** Stapel images only. */
  before: UserStage | undefined;
  after: UserStage | undefined;
  imports: DependencyImport[];
}

export type Secret =
  | { kind: 'env'; id: string; env: string }
  | { kind: 'src'; id: string; src: string }
  | { kind: 'value'; id: string; value: string };

/** Which werf images an image needs built first, and why. */
export interface DependsOn {
  /** `fromImage`, `fromArtifact`, or `from` naming a werf image. */
  from: string | undefined;
  imports: string[];
  dependencies: string[];
}

interface ImageBase {
  /** `""` for the nameless image (`image: ~`), shown as `~`. */
  name: string;
  /** Default true. Only final images are exported. */
  final: boolean;
  /** The image's own `platform` (the meta `build.platform` and `--platform` apply on top). */
  platform: string[];
  cacheVersion: string | undefined;
  dependencies: Dependency[];
  secrets: Secret[];
  /** With `build.imageSpec` merged in for final images, as werf does. */
  imageSpec: ImageSpec | undefined;
  network: string | undefined;
  dependsOn: DependsOn;
  source: ConfigSource;
}

export interface DockerfileImage extends ImageBase {
  kind: 'dockerfile';
  /** Relative to `context`. */
  dockerfile: string;
  /** Relative to the project directory; `""` is the project directory. */
  context: string;
  /** Untracked files added to the context (relative to `context`); `contextAddFile` is folded in. */
  contextAddFiles: string[];
  target: string | undefined;
  /** Build args, values as written. */
  args: Record<string, string>;
  addHost: string[];
  /** Deprecated in werf. */
  ssh: string | undefined;
  /** The image's `staged`, else `build.staged`. */
  staged: boolean;
}

export interface GitMapping {
  /** Absent for the project repository. */
  url: string | undefined;
  branch: string | undefined;
  tag: string | undefined;
  commit: string | undefined;
  /** Default `/`. */
  add: string;
  to: string;
  includePaths: string[];
  excludePaths: string[];
  owner: string | undefined;
  group: string | undefined;
  lfs: boolean;
  basicAuth: { username: string | undefined; password: { env: string } | { src: string } | { value: string } | undefined } | undefined;
  stageDependencies: { install: string[]; beforeSetup: string[]; setup: string[] };
}

export interface Shell {
  beforeInstall: string[];
  install: string[];
  beforeSetup: string[];
  setup: string[];
  cacheVersion: string | undefined;
  beforeInstallCacheVersion: string | undefined;
  installCacheVersion: string | undefined;
  beforeSetupCacheVersion: string | undefined;
  setupCacheVersion: string | undefined;
}

/** Legacy (werf 1.x): each stage is a list of Ansible tasks, kept as written. */
export interface Ansible {
  beforeInstall: YamlValue[];
  install: YamlValue[];
  beforeSetup: YamlValue[];
  setup: YamlValue[];
  cacheVersion: string | undefined;
  beforeInstallCacheVersion: string | undefined;
  installCacheVersion: string | undefined;
  beforeSetupCacheVersion: string | undefined;
  setupCacheVersion: string | undefined;
}

export interface Import {
  /** A werf image (`from`/`image`/legacy `artifact`) or, with `external`, an image reference with a tag or digest. */
  image: string;
  external: boolean;
  add: string;
  /** Default: `add`. */
  to: string;
  before: UserStage | undefined;
  after: UserStage | undefined;
  includePaths: string[];
  excludePaths: string[];
  owner: string | undefined;
  group: string | undefined;
  /** Legacy `stage:` of werf 1.x imports. */
  stage: string | undefined;
}

export type Mount =
  | { from: 'tmp_dir' | 'build_dir'; to: string }
  | { fromPath: string; to: string };

/** Legacy `docker:` instructions of stapel images. */
export interface DockerInstructions {
  volume: string[];
  expose: string[];
  env: Record<string, string>;
  label: Record<string, string>;
  entrypoint: string[] | string | undefined;
  cmd: string[] | string | undefined;
  workdir: string | undefined;
  user: string | undefined;
  healthcheck: string | undefined;
}

export interface StapelImage extends ImageBase {
  kind: 'stapel';
  /** Declared with the legacy `artifact:` key (werf 1.x); such images are never final. */
  artifact: boolean;
  /** `from` as written: an external reference, or a werf image name. */
  from: string | undefined;
  /** Deprecated spelling of a werf base image. */
  fromImage: string | undefined;
  /** Legacy. */
  fromArtifact: string | undefined;
  fromLatest: boolean;
  fromCacheVersion: string | undefined;
  disableGitAfterPatch: boolean;
  git: GitMapping[];
  shell: Shell | undefined;
  ansible: Ansible | undefined;
  import: Import[];
  mount: Mount[];
  docker: DockerInstructions | undefined;
}

export type ImageConfig = DockerfileImage | StapelImage;

/** The same, under a name that does not clash with the OCI `ImageConfig` document in a library-wide export. */
export type WerfImage = ImageConfig;

/** One document of the rendered file. */
export interface ConfigDocument {
  /** 1-based, counting every document of the rendered file. */
  index: number;
  /** 1-based line where the document's text starts. */
  line: number;
  /** The document's text exactly as rendered, without the `---` separator. */
  text: string;
  kind: 'meta' | 'image';
  /** For image documents: the names it defines. */
  imageNames: string[];
}

export interface WerfConfig {
  configVersion: 1;
  /** `SLIPWAY_PROJECT_NAME` / `WERF_PROJECT_NAME` when set, else werf.yaml's `project`. */
  project: string;
  build: MetaBuild;
  cleanup: MetaCleanup;
  /** Accepted without interpretation (Slipway does not deploy). */
  deploy: { [key: string]: YamlValue } | undefined;
  gitWorktree: MetaGitWorktree;
  /** In document order, then name order within a document. */
  images: ImageConfig[];
  /** The configuration file, relative to the project directory. */
  file: string;
  /** The rendered configuration, exactly. */
  rendered: string;
  documents: ConfigDocument[];
}

/** How an image name is shown: the nameless image is `~`, as in werf's logs and `config list`. */
export function imageLogName(name: string): string {
  return name === '' ? '~' : name;
}

/** The werf images an image needs first (no duplicates), in the order: base, imports, dependencies. */
export function relatedImageNames(image: ImageConfig): string[] {
  const names = [
    ...(image.dependsOn.from === undefined ? [] : [image.dependsOn.from]),
    ...image.dependsOn.imports,
    ...image.dependsOn.dependencies,
  ];
  return [...new Set(names)];
}

/** Look an image up by name. */
export function findImage(config: Pick<WerfConfig, 'images'>, name: string): ImageConfig | undefined {
  return config.images.find((image) => image.name === name);
}
