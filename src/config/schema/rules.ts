// Small werf rules shared by the sections: project names, reference matchers, tags.

import { compileNameOrRegexValue } from '../../text/regex-value.js';
import type { ReferenceMatcher } from '../werf-config.js';

// ---------------------------------------------------------------------------------------------------------
// Small werf rules

const PROJECT_NAME_PATTERN = /^(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;
const PROJECT_NAME_MAX_LENGTH = 50;

/** werf's `slug.ValidateProject`; returns the problem, or undefined. */
export function projectNameProblem(name: string): string | undefined {
  if (name === '') return 'the project name cannot be empty';
  if (!PROJECT_NAME_PATTERN.test(name) || name.length > PROJECT_NAME_MAX_LENGTH) {
    return (
      `bad project name ${JSON.stringify(name)}: use lower-case letters, digits and dashes, not starting or ending ` +
      `with a dash (${PROJECT_NAME_PATTERN.source}), at most ${PROJECT_NAME_MAX_LENGTH} characters`
    );
  }
  return undefined;
}

/** werf's keep-policy reference: `/regex/`, or an exact name (src/text/regex-value.ts); undefined if invalid. */
export function referenceMatcher(source: string): ReferenceMatcher | undefined {
  try {
    return { source, regex: compileNameOrRegexValue(source) };
  } catch {
    return undefined;
  }
}

/** An image reference with a tag or a digest (`nginx:1.25`, `x@sha256:...`), as opposed to a werf image name. */
export function hasTagOrDigest(reference: string): boolean {
  if (reference.includes('@')) return true;
  const lastComponent = reference.slice(reference.lastIndexOf('/') + 1);
  return lastComponent.includes(':');
}

export function isAbsolutePath(path: string): boolean {
  return path.startsWith('/');
}

export function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

export function quoteList(names: readonly string[]): string {
  return names.map((name) => JSON.stringify(name)).join(', ');
}
