// The meta document: configVersion, project, build (cacheVersion, platform, staged, imageSpec), cleanup
// (cleanup.ts), deploy and gitWorktree.

import { isScalar, type Node } from 'yaml';
import type { MetaBuild, MetaCleanup, MetaGitWorktree, YamlValue } from '../werf-config.js';
import { readCleanup } from './cleanup.js';
import { DocumentContext } from './context.js';
import { IMAGE_DOCUMENT_KEYS } from './image-common.js';
import { readImageSpec } from './image-spec.js';
import { projectNameProblem } from './rules.js';
import { describeNode, MapView } from './yaml-view.js';

// ---------------------------------------------------------------------------------------------------------
// The meta document

export interface MetaDraft {
  cx: DocumentContext;
  project: string | undefined;
  projectNode: Node | undefined;
  build: MetaBuild;
  cleanup: MetaCleanup;
  deploy: { [key: string]: YamlValue } | undefined;
  gitWorktree: MetaGitWorktree;
}

export function readMeta(view: MapView, cx: DocumentContext): MetaDraft {
  cx.subject = 'meta';
  const versionEntry = view.entry('configVersion');
  const version = versionEntry?.value;
  if (!(isScalar(version) && version.value === 1)) {
    cx.report(version ?? versionEntry?.keyNode, ['configVersion'], `expected 1, got ${describeNode(version)}: 'configVersion: 1' is required`);
  }

  let project: string | undefined;
  const projectNode = view.get('project');
  if (projectNode === undefined) {
    cx.report(view.entry('project')?.keyNode ?? view.node, view.has('project') ? ['project'] : [], 'missing key "project": the project name is required');
  } else {
    project = cx.reader.str(projectNode, ['project']);
    const problem = project === undefined ? undefined : projectNameProblem(project);
    if (problem !== undefined) cx.report(projectNode, ['project'], problem);
  }

  const build: MetaBuild = { cacheVersion: undefined, platform: [], staged: false, imageSpec: undefined };
  const buildView = view.map('build');
  if (buildView !== undefined) {
    build.cacheVersion = buildView.str('cacheVersion');
    build.platform = buildView.strList('platform') ?? [];
    build.staged = buildView.bool('staged') ?? false;
    const spec = buildView.map('imageSpec');
    build.imageSpec = spec === undefined ? undefined : readImageSpec(spec, cx, true);
    buildView.reportUnknownKeys();
  }

  const cleanup = readCleanup(view.map('cleanup'), cx);

  let deploy: { [key: string]: YamlValue } | undefined;
  const deployNode = view.get('deploy');
  if (deployNode !== undefined && cx.reader.map(deployNode, ['deploy']) !== undefined) {
    const value = cx.reader.value(deployNode);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) deploy = value;
  }

  const gitWorktree: MetaGitWorktree = { forceShallowClone: false, allowUnshallow: true, allowFetchOriginBranchesAndTags: true };
  const worktree = view.map('gitWorktree');
  if (worktree !== undefined) {
    gitWorktree.forceShallowClone = worktree.bool('forceShallowClone') ?? false;
    gitWorktree.allowUnshallow = worktree.bool('allowUnshallow') ?? true;
    gitWorktree.allowFetchOriginBranchesAndTags = worktree.bool('allowFetchOriginBranchesAndTags') ?? true;
    worktree.reportUnknownKeys();
  }

  view.reportUnknownKeys((key) =>
    IMAGE_DOCUMENT_KEYS.has(key)
      ? `unknown key ${JSON.stringify(key)}: image directives go in their own document (separated by ---), not in the meta document`
      : undefined,
  );
  return { cx, project, projectNode, build, cleanup, deploy, gitWorktree };
}
