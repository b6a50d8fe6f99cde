// Image documents: the directives Dockerfile and stapel images share (names, dependencies, imageSpec, final,
// platform, cacheVersion, network, secrets) and the keys each kind accepts.

import { isSeq, type Node } from 'yaml';
import {
  DEPENDENCY_IMPORT_TYPES,
  type Dependency,
  type DependencyImport,
  type DependsOn,
  type ImageConfig,
  type UserStage,
} from '../werf-config.js';
import { DocumentContext } from './context.js';
import { readImageSpec } from './image-spec.js';
import { quoteList } from './rules.js';
import { readSecrets } from './secrets.js';
import { formatPath, isNull, MapView, type Path } from './yaml-view.js';

// ---------------------------------------------------------------------------------------------------------
// Image documents: shared directives

export interface ImageRef {
  target: string;
  node: Node | null;
  path: Path;
  kind: 'fromImage' | 'fromArtifact' | 'import' | 'dependency';
}

export interface ImageDraft {
  image: ImageConfig;
  cx: DocumentContext;
  nameNode: Node | null;
  /** Images that must exist. */
  refs: ImageRef[];
  /** A stapel `from`: a werf image when one has that name, else an external reference. */
  from: { target: string; node: Node | null; path: Path } | undefined;
  /** Dockerfile images: `staged` as written, else the meta default applies. */
  stagedExplicit: boolean | undefined;
}

export function readStage(view: MapView, key: 'before' | 'after'): UserStage | undefined {
  return view.enumValue(key, ['install', 'setup'] as const);
}

function readDependencies(view: MapView, cx: DocumentContext, kind: 'dockerfile' | 'stapel', refs: ImageRef[]): Dependency[] {
  const dependencies: Dependency[] = [];
  const targets = new Map<string, Path>();
  for (const item of view.list('dependencies') ?? []) {
    const dep = cx.reader.map(item.node, item.path);
    if (dep === undefined) continue;
    const from = dep.str('from');
    const legacy = dep.str('image');
    if (from !== undefined && legacy !== undefined) {
      cx.report(dep.keyAt('image'), dep.path, 'specify only one of "from" and the deprecated "image"');
    }
    const image = from ?? legacy;
    if (image === undefined || image === '') {
      cx.report(dep.node, dep.path, 'missing key "from": the image depended on is required');
    } else {
      const key = from !== undefined ? 'from' : 'image';
      refs.push({ target: image, node: dep.at(key), path: dep.pathOf(key), kind: 'dependency' });
    }

    let before: UserStage | undefined;
    let after: UserStage | undefined;
    if (kind === 'stapel') {
      before = readStage(dep, 'before');
      after = readStage(dep, 'after');
      const hasBefore = dep.get('before') !== undefined;
      const hasAfter = dep.get('after') !== undefined;
      if (hasBefore && hasAfter) cx.report(dep.keyAt('after'), dep.path, 'specify only one of "before" and "after"');
      else if (!hasBefore && !hasAfter) cx.report(dep.node, dep.path, 'missing key "before" or "after": the stage (install or setup) is required');
    }

    const imports: DependencyImport[] = [];
    for (const importItem of dep.list('imports') ?? []) {
      const imp = cx.reader.map(importItem.node, importItem.path);
      if (imp === undefined) continue;
      const type = imp.enumValue('type', DEPENDENCY_IMPORT_TYPES);
      if (!imp.has('type')) cx.report(imp.node, imp.path, 'missing key "type"');
      const targetKey = kind === 'dockerfile' ? 'targetBuildArg' : 'targetEnv';
      const target = imp.str(targetKey);
      if (target === undefined || target === '') {
        cx.report(imp.node, imp.path, `missing key "${targetKey}"`);
      } else if (targets.has(target)) {
        cx.report(imp.at(targetKey), imp.pathOf(targetKey), `duplicate ${targetKey} ${JSON.stringify(target)}: already set at ${formatPath(targets.get(target)!)}`);
      } else {
        targets.set(target, imp.pathOf(targetKey));
      }
      imp.reportUnknownKeys((key) => {
        if (kind === 'dockerfile' && key === 'targetEnv') return 'unknown key "targetEnv": Dockerfile images receive dependencies through build args ("targetBuildArg")';
        if (kind === 'stapel' && key === 'targetBuildArg') return 'unknown key "targetBuildArg": stapel images receive dependencies through environment variables ("targetEnv")';
        return undefined;
      });
      if (type !== undefined) {
        imports.push({
          type,
          targetBuildArg: kind === 'dockerfile' ? target : undefined,
          targetEnv: kind === 'stapel' ? target : undefined,
        });
      }
    }

    dep.reportUnknownKeys((key) =>
      kind === 'dockerfile' && (key === 'before' || key === 'after')
        ? `unknown key ${JSON.stringify(key)}: "before" and "after" are for stapel image dependencies, not Dockerfile ones`
        : undefined,
    );
    if (image !== undefined && image !== '') dependencies.push({ image, before, after, imports });
  }
  return dependencies;
}

export function readImageNames(view: MapView, cx: DocumentContext, kind: 'dockerfile' | 'stapel'): { names: string[]; node: Node | null; artifact: boolean } {
  const imageEntry = view.entry('image');
  const artifactEntry = kind === 'stapel' && view.has('artifact') ? view.entry('artifact') : undefined;
  if (imageEntry !== undefined && artifactEntry !== undefined) {
    cx.report(artifactEntry.keyNode, [], 'specify only one of "image" and "artifact"');
  }
  if (imageEntry === undefined && artifactEntry !== undefined) {
    const name = cx.reader.strictStr(artifactEntry.value, ['artifact'], 'an artifact name');
    if (name === '') cx.report(artifactEntry.value ?? artifactEntry.keyNode, ['artifact'], 'the artifact name cannot be empty');
    return { names: name ? [name] : [], node: artifactEntry.value ?? artifactEntry.keyNode, artifact: true };
  }
  if (imageEntry === undefined) {
    cx.report(view.node, [], 'missing key "image": the image name is required');
    return { names: [], node: view.node, artifact: false };
  }
  const value = imageEntry.value;
  if (isNull(value)) {
    // The nameless image, of either kind, as werf reads it (raw_image_from_dockerfile.go: `image: ~` is the name "").
    // werf's deprecation warning is its stapel images' (stapel_image.go), not its Dockerfile images'.
    return { names: [''], node: value ?? imageEntry.keyNode, artifact: false };
  }
  if (isSeq(value)) {
    const names: string[] = [];
    for (const item of cx.reader.list(value, ['image']) ?? []) {
      const name = cx.reader.strictStr(item.node, item.path, 'an image name');
      if (name === '') cx.report(item.node, item.path, 'an image name cannot be empty');
      else if (name !== undefined) names.push(name);
    }
    if (value.items.length === 0) cx.report(value, ['image'], 'expected at least one image name');
    return { names, node: value, artifact: false };
  }
  const name = cx.reader.strictStr(value, ['image'], 'an image name or a list of names');
  return { names: name === undefined ? [] : [name], node: value, artifact: false };
}

export function subjectOf(names: readonly string[], artifact: boolean): string | undefined {
  if (names.length === 0) return undefined;
  if (artifact) return `artifact ${JSON.stringify(names[0])}`;
  if (names.length === 1) return names[0] === '' ? 'image ~' : `image ${JSON.stringify(names[0])}`;
  return `images ${quoteList(names)}`;
}

/** Directives common to both kinds of images. */
export function readCommon(view: MapView, cx: DocumentContext, kind: 'dockerfile' | 'stapel', refs: ImageRef[], defaultFinal: boolean) {
  const imageSpec = view.map('imageSpec');
  return {
    final: view.bool('final') ?? defaultFinal,
    platform: view.strList('platform') ?? [],
    cacheVersion: view.str('cacheVersion'),
    network: view.str('network'),
    secrets: readSecrets(view, cx),
    dependencies: readDependencies(view, cx, kind, refs),
    imageSpec: imageSpec === undefined ? undefined : readImageSpec(imageSpec, cx, false),
  };
}

export const EMPTY_DEPENDS_ON: DependsOn = { from: undefined, imports: [], dependencies: [] };

export const DOCKERFILE_ONLY_KEYS = new Set(['dockerfile', 'context', 'contextAddFiles', 'contextAddFile', 'target', 'args', 'addHost', 'ssh', 'staged']);
export const STAPEL_ONLY_KEYS = new Set([
  'from',
  'fromImage',
  'fromArtifact',
  'fromLatest',
  'fromCacheVersion',
  'disableGitAfterPatch',
  'git',
  'shell',
  'ansible',
  'mount',
  'import',
  'docker',
  'artifact',
]);
export const IMAGE_DOCUMENT_KEYS = new Set([
  ...DOCKERFILE_ONLY_KEYS,
  ...STAPEL_ONLY_KEYS,
  'image',
  'final',
  'platform',
  'network',
  'secrets',
  'dependencies',
  'imageSpec',
]);
