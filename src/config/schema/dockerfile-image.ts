// Dockerfile image documents.

import { posix } from 'node:path';
import { isSeq } from 'yaml';
import { parseAddHost } from '../add-host.js';
import type { DockerfileImage } from '../werf-config.js';
import { DocumentContext } from './context.js';
import {
  EMPTY_DEPENDS_ON,
  readCommon,
  readImageNames,
  STAPEL_ONLY_KEYS,
  subjectOf,
  type ImageDraft,
  type ImageRef,
} from './image-common.js';
import { isAbsolutePath } from './rules.js';
import { MapView } from './yaml-view.js';

// ---------------------------------------------------------------------------------------------------------
// Dockerfile images

export function readDockerfileImage(view: MapView, cx: DocumentContext): ImageDraft[] {
  const { names, node: nameNode } = readImageNames(view, cx, 'dockerfile');
  cx.subject = subjectOf(names, false);
  const refs: ImageRef[] = [];

  const dockerfile = view.str('dockerfile') ?? '';
  if (dockerfile === '') {
    cx.report(view.at('dockerfile'), ['dockerfile'], 'expected the path of the Dockerfile, relative to the context');
  } else if (isAbsolutePath(dockerfile)) {
    cx.report(view.at('dockerfile'), ['dockerfile'], 'the Dockerfile path must be relative to the context');
  }
  const context = view.str('context') ?? '';
  if (isAbsolutePath(context)) cx.report(view.at('context'), ['context'], 'the context must be a path relative to the project directory');

  const contextAddFiles = view.strOrList('contextAddFiles') ?? [];
  const contextAddFile = view.strOrList('contextAddFile') ?? [];
  if (contextAddFiles.length > 0 && contextAddFile.length > 0) {
    cx.report(view.keyAt('contextAddFile'), [], 'only one of "contextAddFiles" and "contextAddFile" can be used: move everything into "contextAddFiles"');
  }
  const addFilesKey = contextAddFile.length > 0 && contextAddFiles.length === 0 ? 'contextAddFile' : 'contextAddFiles';
  const addFiles = addFilesKey === 'contextAddFile' ? contextAddFile : contextAddFiles;
  addFiles.forEach((path, index) => {
    if (isAbsolutePath(path)) cx.report(view.at(addFilesKey), [addFilesKey, index], 'each path must be relative to the context');
    else cx.inspect(view.at(addFilesKey), [addFilesKey, index], cx.inspector.contextAddFile?.(posix.join(context, path)));
  });

  const target = view.str('target');
  const args = view.strMap('args') ?? {};
  const addHost = view.strOrList('addHost') ?? [];
  // Checked here, so that a bad entry is refused before anything is built; the message names the entry's line.
  const addHostItems = isSeq(view.get('addHost')) ? view.list('addHost') : undefined;
  addHost.forEach((entry, index) => {
    const parsed = parseAddHost(entry);
    if (!('error' in parsed)) return;
    if (addHostItems === undefined) cx.report(view.at('addHost'), ['addHost'], parsed.error);
    else cx.report(addHostItems[index]?.node, ['addHost', index], parsed.error);
  });
  const ssh = view.str('ssh');
  const staged = view.bool('staged');
  const common = readCommon(view, cx, 'dockerfile', refs, true);

  for (const dependency of common.dependencies) {
    for (const imp of dependency.imports) {
      if (imp.targetBuildArg !== undefined && Object.hasOwn(args, imp.targetBuildArg)) {
        cx.report(view.at('args'), ['args', imp.targetBuildArg], `build arg ${JSON.stringify(imp.targetBuildArg)} is also set by a dependency import ("targetBuildArg"): avoid duplicated build args`);
      }
    }
  }

  view.reportUnknownKeys((key) =>
    STAPEL_ONLY_KEYS.has(key)
      ? `unknown key ${JSON.stringify(key)}: this is a Dockerfile image (it has "dockerfile"), and ${JSON.stringify(key)} is a stapel directive`
      : undefined,
  );

  return names.map((name) => {
    const image: DockerfileImage = {
      kind: 'dockerfile',
      name,
      ...structuredClone(common),
      dependsOn: structuredClone(EMPTY_DEPENDS_ON),
      source: { file: cx.file, document: cx.raw.index, line: cx.lineOf(null) },
      dockerfile,
      context,
      contextAddFiles: [...addFiles],
      target,
      args: { ...args },
      addHost: [...addHost],
      ssh,
      staged: staged ?? false,
    };
    return { image, cx, nameNode, refs, from: undefined, stagedExplicit: staged };
  });
}
