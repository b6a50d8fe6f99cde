// Stapel image documents: git mappings, shell and ansible stages, mounts, imports, docker instructions.

import { isSeq } from 'yaml';
import type {
  Ansible,
  DockerInstructions,
  GitMapping,
  Import,
  Mount,
  Shell,
  StapelImage,
  YamlValue,
} from '../werf-config.js';
import { DocumentContext } from './context.js';
import {
  DOCKERFILE_ONLY_KEYS,
  EMPTY_DEPENDS_ON,
  readCommon,
  readImageNames,
  readStage,
  subjectOf,
  type ImageDraft,
  type ImageRef,
} from './image-common.js';
import { hasTagOrDigest, isAbsolutePath } from './rules.js';
import { formatPath, MapView, type Path } from './yaml-view.js';

// ---------------------------------------------------------------------------------------------------------
// Stapel images

function readGitMapping(view: MapView, cx: DocumentContext): GitMapping | undefined {
  const url = view.str('url');
  const remote = url !== undefined && url !== '';
  const mapping: GitMapping = {
    url: remote ? url : undefined,
    branch: view.str('branch'),
    tag: view.str('tag'),
    commit: view.str('commit'),
    add: view.str('add') ?? '/',
    to: view.str('to') ?? '',
    includePaths: view.strOrList('includePaths') ?? [],
    excludePaths: view.strOrList('excludePaths') ?? [],
    owner: view.str('owner'),
    group: view.str('group'),
    lfs: view.bool('lfs') ?? false,
    basicAuth: undefined,
    stageDependencies: { install: [], beforeSetup: [], setup: [] },
  };
  const auth = view.map('basicAuth');
  if (auth !== undefined) {
    const username = auth.str('username');
    let password: { env: string } | { src: string } | { value: string } | undefined;
    const passwordView = auth.map('password');
    if (passwordView !== undefined) {
      const env = passwordView.str('env');
      const src = passwordView.str('src');
      const value = passwordView.str('value');
      const given = [env, src, value].filter((v) => v !== undefined && v !== '').length;
      if (given !== 1) cx.report(passwordView.node, passwordView.path, 'exactly one of "env", "src" or "value" is required');
      else password = env ? { env } : src ? { src } : { value: value ?? '' };
      passwordView.reportUnknownKeys();
    }
    auth.reportUnknownKeys();
    mapping.basicAuth = { username, password };
  }
  const stageDependencies = view.map('stageDependencies');
  if (stageDependencies !== undefined) {
    mapping.stageDependencies = {
      install: stageDependencies.strOrList('install') ?? [],
      beforeSetup: stageDependencies.strOrList('beforeSetup') ?? [],
      setup: stageDependencies.strOrList('setup') ?? [],
    };
    stageDependencies.reportUnknownKeys((key) =>
      key === 'beforeInstall' ? 'unknown key "beforeInstall": git changes cannot trigger beforeInstall (use install, beforeSetup or setup)' : undefined,
    );
  }

  if (!remote) {
    for (const key of ['branch', 'tag', 'commit', 'basicAuth'] as const) {
      if (view.get(key) !== undefined) cx.report(view.at(key), view.pathOf(key), `"${key}" is only for remote repositories (with "url")`);
    }
  } else {
    const refs = (['branch', 'tag', 'commit'] as const).filter((key) => view.get(key) !== undefined);
    if (refs.length > 1) cx.report(view.keyAt(refs[1]!), view.path, `specify only one of "branch", "tag" and "commit" (got ${refs.join(' and ')})`);
    if (mapping.branch !== undefined && mapping.branch !== '') cx.inspect(view.at('branch'), view.pathOf('branch'), cx.inspector.gitBranch?.());
  }
  if (!isAbsolutePath(mapping.add)) cx.report(view.at('add'), view.pathOf('add'), `"add" must be an absolute path in the repository, got ${JSON.stringify(mapping.add)}`);
  if (view.get('to') === undefined) cx.report(view.node, view.path, 'missing key "to": the absolute destination path in the image is required');
  else if (!isAbsolutePath(mapping.to)) cx.report(view.at('to'), view.pathOf('to'), `"to" must be an absolute path in the image, got ${JSON.stringify(mapping.to)}`);
  view.reportUnknownKeys();
  return mapping;
}

const STAGE_KEYS = ['beforeInstall', 'install', 'beforeSetup', 'setup'] as const;

function readCacheVersions(view: MapView) {
  return {
    cacheVersion: view.str('cacheVersion'),
    beforeInstallCacheVersion: view.str('beforeInstallCacheVersion'),
    installCacheVersion: view.str('installCacheVersion'),
    beforeSetupCacheVersion: view.str('beforeSetupCacheVersion'),
    setupCacheVersion: view.str('setupCacheVersion'),
  };
}

function readShell(view: MapView): Shell {
  const shell: Shell = {
    beforeInstall: view.strOrList('beforeInstall') ?? [],
    install: view.strOrList('install') ?? [],
    beforeSetup: view.strOrList('beforeSetup') ?? [],
    setup: view.strOrList('setup') ?? [],
    ...readCacheVersions(view),
  };
  view.reportUnknownKeys();
  return shell;
}

function readAnsible(view: MapView, cx: DocumentContext): Ansible {
  const tasks = (key: (typeof STAGE_KEYS)[number]): YamlValue[] => {
    const out: YamlValue[] = [];
    for (const item of view.list(key) ?? []) {
      if (cx.reader.map(item.node, item.path) !== undefined) out.push(cx.reader.value(item.node));
    }
    return out;
  };
  const ansible: Ansible = {
    beforeInstall: tasks('beforeInstall'),
    install: tasks('install'),
    beforeSetup: tasks('beforeSetup'),
    setup: tasks('setup'),
    ...readCacheVersions(view),
  };
  view.reportUnknownKeys();
  return ansible;
}

function readMount(view: MapView, cx: DocumentContext): Mount | undefined {
  const from = view.enumValue('from', ['tmp_dir', 'build_dir'] as const);
  const fromPath = view.str('fromPath');
  const to = view.str('to');
  view.reportUnknownKeys();
  const hasFrom = view.get('from') !== undefined;
  const hasFromPath = fromPath !== undefined && fromPath !== '';
  if (hasFrom && hasFromPath) {
    cx.report(view.keyAt('fromPath'), view.path, 'specify only one of "from" and "fromPath"');
    return undefined;
  }
  if (!hasFrom && !hasFromPath) {
    cx.report(view.node, view.path, 'missing key "from" (tmp_dir or build_dir) or "fromPath" (a host path)');
    return undefined;
  }
  if (to === undefined || to === '') {
    cx.report(view.node, view.path, 'missing key "to": the absolute path in the image is required');
    return undefined;
  }
  if (!isAbsolutePath(to)) {
    cx.report(view.at('to'), view.pathOf('to'), `"to" must be an absolute path in the image, got ${JSON.stringify(to)}`);
    return undefined;
  }
  if (hasFromPath) {
    cx.inspect(view.at('fromPath'), view.pathOf('fromPath'), cx.inspector.mountFromPath?.(fromPath));
    return { fromPath, to };
  }
  if (from === undefined) return undefined;
  if (from === 'build_dir') cx.inspect(view.at('from'), view.pathOf('from'), cx.inspector.mountBuildDir?.());
  return { from, to };
}

function readImport(view: MapView, cx: DocumentContext, refs: ImageRef[]): Import | undefined {
  const sources = (['from', 'image', 'artifact'] as const).filter((key) => view.get(key) !== undefined);
  const values = { from: view.str('from'), image: view.str('image'), artifact: view.str('artifact') };
  const add = view.str('add');
  const to = view.str('to');
  const before = readStage(view, 'before');
  const after = readStage(view, 'after');
  const imp: Import = {
    image: '',
    external: false,
    add: add ?? '',
    to: to ?? add ?? '',
    before,
    after,
    includePaths: view.strOrList('includePaths') ?? [],
    excludePaths: view.strOrList('excludePaths') ?? [],
    owner: view.str('owner'),
    group: view.str('group'),
    stage: view.str('stage'),
  };
  view.reportUnknownKeys();

  let ok = true;
  if (sources.length === 0) {
    cx.report(view.node, view.path, 'missing key "from": the image to import from is required');
    ok = false;
  } else if (sources.length > 1) {
    cx.report(view.keyAt(sources[1]!), view.path, `specify only one of ${sources.map((s) => `"${s}"`).join(' and ')}`);
    ok = false;
  } else {
    const key = sources[0]!;
    imp.image = values[key] ?? '';
    imp.external = key !== 'artifact' && hasTagOrDigest(imp.image);
    if (!imp.external) refs.push({ target: imp.image, node: view.at(key), path: view.pathOf(key), kind: 'import' });
  }
  if (add === undefined || add === '') {
    cx.report(view.node, view.path, 'missing key "add": the absolute path to copy from the source image is required');
    ok = false;
  } else if (!isAbsolutePath(add)) {
    cx.report(view.at('add'), view.pathOf('add'), `"add" must be an absolute path, got ${JSON.stringify(add)}`);
    ok = false;
  }
  if (to !== undefined && to !== '' && !isAbsolutePath(to)) {
    cx.report(view.at('to'), view.pathOf('to'), `"to" must be an absolute path, got ${JSON.stringify(to)}`);
    ok = false;
  }
  const hasBefore = view.get('before') !== undefined;
  const hasAfter = view.get('after') !== undefined;
  if (hasBefore && hasAfter) {
    cx.report(view.keyAt('after'), view.path, 'specify only one of "before" and "after"');
    ok = false;
  } else if (!hasBefore && !hasAfter && imp.stage === undefined) {
    cx.report(view.node, view.path, 'missing key "before" or "after": the stage (install or setup) is required');
    ok = false;
  }
  return ok ? imp : undefined;
}

function readCommand(view: MapView, key: string, cx: DocumentContext): string | string[] | undefined {
  const node = view.get(key);
  if (node === undefined) return undefined;
  if (isSeq(node)) return cx.reader.strList(node, view.pathOf(key));
  return cx.reader.str(node, view.pathOf(key));
}

function readDocker(view: MapView, cx: DocumentContext): DockerInstructions {
  const docker: DockerInstructions = {
    volume: view.strOrList('VOLUME') ?? [],
    expose: view.strOrList('EXPOSE') ?? [],
    env: view.strMap('ENV') ?? {},
    label: view.strMap('LABEL') ?? {},
    entrypoint: readCommand(view, 'ENTRYPOINT', cx),
    cmd: readCommand(view, 'CMD', cx),
    workdir: view.str('WORKDIR'),
    user: view.str('USER'),
    healthcheck: view.str('HEALTHCHECK'),
  };
  view.reportUnknownKeys();
  return docker;
}

export function readStapelImage(view: MapView, cx: DocumentContext): ImageDraft[] {
  const { names, node: nameNode, artifact } = readImageNames(view, cx, 'stapel');
  cx.subject = subjectOf(names, artifact);
  const refs: ImageRef[] = [];

  const from = view.str('from');
  const fromImage = view.str('fromImage');
  const fromArtifact = view.str('fromArtifact');
  const bases = (['from', 'fromImage', 'fromArtifact'] as const).filter((key) => view.get(key) !== undefined);
  let fromRef: ImageDraft['from'];
  if (bases.length === 0) {
    cx.report(view.node, [], 'missing key "from": the base image (an image reference, or the name of another image) is required');
  } else if (bases.length > 1) {
    cx.report(view.keyAt(bases[1]!), [], `specify only one of ${bases.map((key) => `"${key}"`).join(', ')}`);
  } else if (fromImage !== undefined && fromImage !== '') {
    refs.push({ target: fromImage, node: view.at('fromImage'), path: ['fromImage'], kind: 'fromImage' });
  } else if (fromArtifact !== undefined && fromArtifact !== '') {
    refs.push({ target: fromArtifact, node: view.at('fromArtifact'), path: ['fromArtifact'], kind: 'fromArtifact' });
  } else if (from !== undefined && from !== '') {
    fromRef = { target: from, node: view.at('from'), path: ['from'] };
  }

  const fromLatest = view.bool('fromLatest') ?? false;
  if (fromLatest) {
    if (from === 'scratch') cx.report(view.at('fromLatest'), ['fromLatest'], '"fromLatest" cannot be used with "from: scratch"');
    cx.inspect(view.at('fromLatest'), ['fromLatest'], cx.inspector.fromLatest?.());
  }

  const git: GitMapping[] = [];
  for (const item of view.list('git') ?? []) {
    const mapping = cx.reader.map(item.node, item.path);
    const parsed = mapping === undefined ? undefined : readGitMapping(mapping, cx);
    if (parsed !== undefined) git.push(parsed);
  }

  const shellView = view.map('shell');
  const ansibleView = view.map('ansible');
  if (shellView !== undefined && ansibleView !== undefined) {
    cx.report(view.keyAt('ansible'), [], 'specify only one of "shell" and "ansible"');
  }
  const shell = shellView === undefined ? undefined : readShell(shellView);
  const ansible = ansibleView === undefined ? undefined : readAnsible(ansibleView, cx);

  const mounts: Mount[] = [];
  const mountTargets = new Map<string, Path>();
  for (const item of view.list('mount') ?? []) {
    const mountView = cx.reader.map(item.node, item.path);
    const mount = mountView === undefined ? undefined : readMount(mountView, cx);
    if (mount === undefined || mountView === undefined) continue;
    const seen = mountTargets.get(mount.to);
    if (seen !== undefined) {
      cx.report(mountView.at('to'), mountView.pathOf('to'), `conflict between mounts: "to: ${mount.to}" is already used at ${formatPath(seen)}`);
      continue;
    }
    mountTargets.set(mount.to, mountView.path);
    mounts.push(mount);
  }

  const imports: Import[] = [];
  for (const item of view.list('import') ?? []) {
    const importView = cx.reader.map(item.node, item.path);
    const imp = importView === undefined ? undefined : readImport(importView, cx, refs);
    if (imp !== undefined) imports.push(imp);
  }

  const dockerView = view.map('docker');
  const docker = dockerView === undefined ? undefined : readDocker(dockerView, cx);
  const fromCacheVersion = view.str('fromCacheVersion');
  const disableGitAfterPatch = view.bool('disableGitAfterPatch') ?? false;
  const common = readCommon(view, cx, 'stapel', refs, !artifact);
  if (artifact && common.final) cx.report(view.at('final'), ['final'], 'an artifact cannot be final: use "image:" with "final: true" instead');

  view.reportUnknownKeys((key) =>
    DOCKERFILE_ONLY_KEYS.has(key)
      ? `unknown key ${JSON.stringify(key)}: this is a stapel image (it has no "dockerfile"), and ${JSON.stringify(key)} is a Dockerfile image directive`
      : undefined,
  );

  return names.map((name) => {
    const image: StapelImage = {
      kind: 'stapel',
      name,
      ...structuredClone(common),
      dependsOn: structuredClone(EMPTY_DEPENDS_ON),
      source: { file: cx.file, document: cx.raw.index, line: cx.lineOf(null) },
      artifact,
      from: from === '' ? undefined : from,
      fromImage: fromImage === '' ? undefined : fromImage,
      fromArtifact: fromArtifact === '' ? undefined : fromArtifact,
      fromLatest,
      fromCacheVersion,
      disableGitAfterPatch,
      git: structuredClone(git),
      shell: structuredClone(shell),
      ansible: structuredClone(ansible),
      import: structuredClone(imports),
      mount: structuredClone(mounts),
      docker: structuredClone(docker),
    };
    return { image, cx, nameNode, refs, from: fromRef, stagedExplicit: undefined };
  });
}
