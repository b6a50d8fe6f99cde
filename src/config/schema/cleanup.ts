// The meta document's cleanup section: keepPolicies (references with `in`/`last`/`operator` limits,
// imagesPerReference) and the disable* switches.

import type { CleanupKeepPolicy, CleanupLimit, MetaCleanup, ReferenceMatcher } from '../werf-config.js';
import { DocumentContext } from './context.js';
import { parseDuration } from '../../go/time.js';
import { referenceMatcher } from './rules.js';
import { MapView } from './yaml-view.js';

/**
 * A keep policy's `in`: Go's time.ParseDuration (werf decodes it into a time.Duration), in milliseconds. Undefined
 * when Go rejects it, and for a negative duration, which werf would take and which would keep nothing.
 */
function durationMs(text: string): number | undefined {
  let ns: bigint;
  try {
    ns = parseDuration(text);
  } catch {
    return undefined;
  }
  return ns < 0n ? undefined : Number(ns) / 1e6;
}

function readCleanupLimit(view: MapView): CleanupLimit {
  const last = view.int('last', -1);
  let inMs: number | undefined;
  let inText: string | undefined;
  const inNode = view.get('in');
  if (inNode !== undefined) {
    const text = view.reader.str(inNode, view.pathOf('in'));
    if (text !== undefined) {
      inMs = durationMs(text);
      if (inMs === undefined) {
        view.reader.sink.report(inNode, view.pathOf('in'), `invalid duration ${JSON.stringify(text)}: expected a Go duration such as 12h, 168h or 1h30m (there is no unit for days)`);
      } else {
        inText = text;
      }
    }
  }
  let operator = view.enumValue('operator', ['And', 'Or'] as const);
  if (operator === undefined && !view.has('operator') && last !== undefined && inMs !== undefined) operator = 'And';
  view.reportUnknownKeys();
  return { last, inMs, in: inText, operator };
}

function readKeepPolicy(view: MapView, cx: DocumentContext): CleanupKeepPolicy {
  const policy: CleanupKeepPolicy = {
    references: { branch: undefined, tag: undefined, limit: undefined },
    imagesPerReference: undefined,
  };
  const references = view.map('references');
  if (references === undefined) {
    if (!view.has('references')) cx.report(view.node, view.path, 'missing key "references": a keep policy needs a branch or a tag');
  } else {
    const read = (key: 'branch' | 'tag'): ReferenceMatcher | undefined => {
      const text = references.str(key);
      if (text === undefined) return undefined;
      const matcher = text === '' ? undefined : referenceMatcher(text);
      if (matcher === undefined) {
        cx.report(references.at(key), references.pathOf(key), `invalid value ${JSON.stringify(text)}: expected a name or a /regular expression/`);
      }
      return matcher;
    };
    policy.references.branch = read('branch');
    policy.references.tag = read('tag');
    const hasBranch = references.get('branch') !== undefined;
    const hasTag = references.get('tag') !== undefined;
    if (hasBranch && hasTag) {
      cx.report(references.keyAt('tag'), references.path, 'specify only one of "branch" and "tag"');
    } else if (!hasBranch && !hasTag) {
      cx.report(references.node, references.path, 'missing key "branch" or "tag": one of them is required');
    }
    const limit = references.map('limit');
    policy.references.limit = limit === undefined ? undefined : readCleanupLimit(limit);
    references.reportUnknownKeys();
  }
  const perReference = view.map('imagesPerReference');
  policy.imagesPerReference = perReference === undefined ? undefined : readCleanupLimit(perReference);
  view.reportUnknownKeys();
  return policy;
}

export function readCleanup(view: MapView | undefined, cx: DocumentContext): MetaCleanup {
  const cleanup: MetaCleanup = {
    disable: false,
    disableKubernetesBasedPolicy: false,
    disableGitHistoryBasedPolicy: false,
    disableBuiltWithinLastNHoursPolicy: false,
    keepImagesBuiltWithinLastNHours: 2,
    keepPolicies: [],
  };
  if (view === undefined) return cleanup;
  cleanup.disable = view.bool('disable') ?? false;
  cleanup.disableKubernetesBasedPolicy = view.bool('disableKubernetesBasedPolicy') ?? false;
  cleanup.disableGitHistoryBasedPolicy = view.bool('disableGitHistoryBasedPolicy') ?? false;
  cleanup.disableBuiltWithinLastNHoursPolicy = view.bool('disableBuiltWithinLastNHoursPolicy') ?? false;
  cleanup.keepImagesBuiltWithinLastNHours = view.int('keepImagesBuiltWithinLastNHours', 0) ?? 2;
  for (const item of view.list('keepPolicies') ?? []) {
    const policy = cx.reader.map(item.node, item.path);
    if (policy !== undefined) cleanup.keepPolicies.push(readKeepPolicy(policy, cx));
  }
  view.reportUnknownKeys((key) =>
    key === 'policies'
      ? 'unknown key "policies": werf 1.1 cleanup policies are not supported; use "keepPolicies"'
      : undefined,
  );
  return cleanup;
}
