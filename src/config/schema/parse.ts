// werf.yaml documents → typed configuration, with every problem of the file reported at once. This file holds
// the whole-file pass (parseWerfConfig: documents, image graph); the sections are read by the files beside it.
//
// The rendered file is split into documents the way werf splits it (`splitContent` in pkg/config/parser.go:
// a line of `---`, optionally followed by spaces or a comment); documents holding only comments and blanks are
// skipped, and the others are numbered from 1. Each document is parsed as YAML 1.1 (werf uses yaml.v2) and
// read through a small typed view of the AST, so that each problem has a key path and a line.
//
// Problems are collected, never thrown one by one: parseWerfConfig throws one ConfigValidationError listing
// them all, in line order, each formatted as
//
//     <file>:<line>: document <n> (image "<name>"): <key path>: <message>
//
// for example `werf.yaml:12: document 2 (image "backend"): unknown key "dockerfil"` or
// `werf.yaml:20: document 2 (image "backend"): dependencies[0].imports[0].type: expected one of ImageName, ...`.
// Lines are lines of the rendered file; when the source had template actions, the error says so in its hint.
//
// The keys accepted are werf 2's (its JSON schema, schemas/werf.json, and pkg/config/raw_*.go), plus the
// werf 1.x keys still found in the wild (`artifact:`, `fromArtifact`, `ansible`, `docker`, import `artifact`),
// which are parsed and typed too.

import { isMap, LineCounter, parseDocument, type Node } from 'yaml';
import {
  imageLogName,
  type ConfigDocument,
  type DependsOn,
  type ImageConfig,
  type WerfConfig,
} from '../werf-config.js';
import { DocumentContext, type ConfigInspector } from './context.js';
import { readDockerfileImage } from './dockerfile-image.js';
import { splitDocuments } from './documents.js';
import type { ImageDraft } from './image-common.js';
import { mergeImageSpec } from './image-spec.js';
import { ConfigValidationError, formatIssue, sortIssues, type ConfigIssue } from './issues.js';
import { readMeta, type MetaDraft } from './meta.js';
import { projectNameProblem } from './rules.js';
import { readStapelImage } from './stapel-image.js';
import { describeNode, MapView, type Path } from './yaml-view.js';

// ---------------------------------------------------------------------------------------------------------
// The whole file

export interface ParseWerfConfigOptions {
  /** The configuration file, relative to the project directory, for messages. Default `werf.yaml`. */
  file?: string;
  /** An override of `project` (SLIPWAY_PROJECT_NAME / WERF_PROJECT_NAME), with the variable it came from. */
  projectName?: { value: string; from: string };
  /** The source had template actions: line numbers are those of the rendered text (said in the error's hint). */
  templated?: boolean;
  /** Giterminism checks; without one, every directive is allowed. */
  inspector?: ConfigInspector;
}

function yamlErrorMessage(message: string): string {
  return message.replace(/ at line \d+, column \d+:[\s\S]*$/, '').split('\n')[0]!;
}

/** Reports missing images, the nameless-image rule, duplicates and cycles; fills in `dependsOn`. */
function checkImageGraph(drafts: readonly ImageDraft[]): void {
  const byName = new Map<string, ImageDraft>();
  for (const draft of drafts) {
    const name = draft.image.name;
    const first = byName.get(name);
    if (first === undefined) {
      byName.set(name, draft);
      continue;
    }
    const key = draft.image.kind === 'stapel' && draft.image.artifact ? 'artifact' : 'image';
    draft.cx.report(
      draft.nameNode,
      [key],
      `image ${name === '' ? '~' : JSON.stringify(name)} is already defined in document ${first.cx.raw.index} (line ${first.cx.lineOf(first.nameNode)}): image names must be unique`,
    );
  }
  const nameless = byName.get('');
  if (nameless !== undefined && drafts.filter((draft) => draft.image.final).length > 1) {
    nameless.cx.report(nameless.nameNode, ['image'], 'the nameless image (`image: ~`) cannot be used together with other images: give every image a name');
  }

  for (const draft of drafts) {
    const dependsOn: DependsOn = { from: undefined, imports: [], dependencies: [] };
    for (const ref of draft.refs) {
      if (!byName.has(ref.target)) {
        const what = ref.kind === 'fromArtifact' ? 'artifact' : 'image';
        draft.cx.report(ref.node, ref.path, `${what} ${JSON.stringify(ref.target)} is not defined in werf.yaml`);
        continue;
      }
      if (ref.kind === 'fromImage' || ref.kind === 'fromArtifact') dependsOn.from = ref.target;
      else if (ref.kind === 'import' && !dependsOn.imports.includes(ref.target)) dependsOn.imports.push(ref.target);
      else if (ref.kind === 'dependency' && !dependsOn.dependencies.includes(ref.target)) dependsOn.dependencies.push(ref.target);
    }
    if (draft.from !== undefined) {
      if (draft.from.target === draft.image.name) {
        draft.cx.report(draft.from.node, draft.from.path, `image ${JSON.stringify(draft.image.name)} cannot use itself as its base image`);
      } else if (byName.has(draft.from.target)) {
        dependsOn.from = draft.from.target;
      }
    }
    draft.image.dependsOn = dependsOn;
  }

  // Cycles: depth-first from each image in document order; each cycle reported once, at its first image.
  const related = (draft: ImageDraft): { target: string; node: Node | null; path: Path }[] => {
    const edges: { target: string; node: Node | null; path: Path }[] = [];
    if (draft.from !== undefined && draft.image.dependsOn.from === draft.from.target) edges.push(draft.from);
    for (const ref of draft.refs) if (byName.has(ref.target)) edges.push(ref);
    return edges;
  };
  const done = new Set<string>();
  const reported = new Set<string>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    if (done.has(name)) return;
    const draft = byName.get(name);
    if (draft === undefined) return;
    stack.push(name);
    for (const edge of related(draft)) {
      const at = stack.indexOf(edge.target);
      if (at >= 0) {
        const cycle = [...stack.slice(at), edge.target];
        const key = [...new Set(cycle)].sort().join('\u0000');
        if (!reported.has(key)) {
          reported.add(key);
          const start = byName.get(cycle[0]!)!;
          const firstEdge = related(start).find((e) => e.target === cycle[1]) ?? edge;
          start.cx.report(firstEdge.node, firstEdge.path, `dependency cycle between images: ${cycle.map(imageLogName).join(' -> ')}`);
        }
        continue;
      }
      visit(edge.target);
    }
    stack.pop();
    done.add(name);
  };
  for (const draft of drafts) visit(draft.image.name);
}

/**
 * Parse and validate rendered werf.yaml text. Throws ConfigValidationError listing every problem found.
 * Pure: reads nothing but its arguments (giterminism questions go through `options.inspector`).
 */
export function parseWerfConfig(rendered: string, options: ParseWerfConfigOptions = {}): WerfConfig {
  const file = options.file ?? 'werf.yaml';
  const inspector = options.inspector ?? {};
  const issues: ConfigIssue[] = [];
  const metas: MetaDraft[] = [];
  const drafts: ImageDraft[] = [];
  const documents: ConfigDocument[] = [];
  let unparsable = false;

  for (const raw of splitDocuments(rendered)) {
    const lineCounter = new LineCounter();
    const doc = parseDocument(raw.text, { version: '1.1', lineCounter, uniqueKeys: true, prettyErrors: true });
    const cx = new DocumentContext(file, raw, doc, lineCounter, issues, inspector);
    if (doc.errors.length > 0) {
      unparsable = true;
      for (const error of doc.errors) {
        const line = error.linePos?.[0]?.line;
        issues.push({
          file,
          line: line === undefined ? raw.line : raw.line - 1 + line,
          document: raw.index,
          subject: undefined,
          path: '',
          message: `invalid YAML: ${yamlErrorMessage(error.message)}`,
        });
      }
      continue;
    }
    const root = cx.reader.resolve(doc.contents);
    if (!isMap(root)) {
      cx.report(root, [], `expected a mapping of directives, got ${describeNode(root)}`);
      continue;
    }
    const view = new MapView(cx.reader, root, []);
    const base = { index: raw.index, line: raw.line, text: raw.text };
    if (view.has('configVersion')) {
      metas.push(readMeta(view, cx));
      documents.push({ ...base, kind: 'meta', imageNames: [] });
    } else if (view.has('dockerfile') || view.has('image') || view.has('artifact')) {
      const images = view.has('dockerfile') ? readDockerfileImage(view, cx) : readStapelImage(view, cx);
      drafts.push(...images);
      documents.push({ ...base, kind: 'image', imageNames: images.map((draft) => draft.image.name) });
    } else {
      cx.report(
        root,
        [],
        'cannot recognize the document: the meta document has "configVersion", an image document has "image" ' +
          '(with "dockerfile" for a Dockerfile image)',
      );
    }
  }

  if (metas.length === 0 && !unparsable) {
    issues.push({
      file,
      line: undefined,
      document: undefined,
      subject: undefined,
      path: '',
      message:
        'the meta document is missing: add a document with "configVersion: 1" and "project: <name>", separated from ' +
        'the image documents by a line of ---',
    });
  }
  for (const extra of metas.slice(1)) {
    extra.cx.report(null, [], `duplicate meta document: the meta document is document ${metas[0]!.cx.raw.index}`);
  }
  if (!unparsable) checkImageGraph(drafts);

  const meta = metas[0];
  let project = meta?.project;
  if (options.projectName !== undefined && options.projectName.value !== '') {
    const problem = projectNameProblem(options.projectName.value);
    if (problem !== undefined) {
      issues.push({ file, line: undefined, document: undefined, subject: undefined, path: '', message: `$${options.projectName.from}: ${problem}` });
    }
    project = options.projectName.value;
  }

  if (issues.length > 0 || meta === undefined || project === undefined) {
    const seen = new Set<string>();
    const unique = sortIssues(issues).filter((issue) => {
      const text = formatIssue(issue);
      if (seen.has(text)) return false;
      seen.add(text);
      return true;
    });
    throw new ConfigValidationError(unique, { file, templated: options.templated ?? false });
  }

  const images: ImageConfig[] = drafts.map((draft) => {
    const image = draft.image;
    if (image.kind === 'dockerfile' && draft.stagedExplicit === undefined) image.staged = meta.build.staged;
    if (meta.build.imageSpec !== undefined && image.final) image.imageSpec = mergeImageSpec(meta.build.imageSpec, image.imageSpec);
    return image;
  });

  return {
    configVersion: 1,
    project,
    build: meta.build,
    cleanup: meta.cleanup,
    deploy: meta.deploy,
    gitWorktree: meta.gitWorktree,
    images,
    file,
    rendered,
    documents,
  };
}
