// werf's slug algorithms (pkg/slug/slug.go in werf/werf), reproduced exactly, quirks included:
//   - slugify: map every code point through werf's table, drop leading dashes, collapse dash runs, drop one
//     trailing dash; no length limit, no hash (`%image_slug%`, werf's `slug.Slug`);
//   - slug(data, max): slugify, crop to `max - len(hash) - 1`, append `-<murmurhex(data)>`; a crop can end in
//     `-`, which gives `--` before the hash (werf's legacy check looks at the wrong end and never fires);
//   - dockerTag (`%image_safe_slug%`), limitedSlug, kubernetesNamespace, helmRelease, project: the wrappers.
// Lengths are Go's `len`, i.e. UTF-8 bytes. Everything here is pure.

import { murmurHex } from './murmur.js';
import { SLUG_CHARMAP } from './slug-charmap.js';

const SEPARATOR = '-';

/** werf's legacy default maximum for LimitedSlug (metadata tags). */
export const DEFAULT_SLUG_MAX_SIZE = 42;
/** A docker tag's maximum length. */
export const DOCKER_TAG_MAX_SIZE = 128;
/** A DNS-1123 label's maximum length. */
export const KUBERNETES_NAMESPACE_MAX_SIZE = 63;
/** werf's maximum for a Helm release name. */
export const HELM_RELEASE_MAX_SIZE = 53;
/** werf's maximum for a project name. */
export const PROJECT_NAME_MAX_SIZE = 50;

const DNS1123_SUBDOMAIN_MAX_SIZE = 253;

const CHARMAP: ReadonlyMap<string, string> = new Map(Object.entries(SLUG_CHARMAP));

// Go's RE2 `\w` is ASCII [0-9A-Za-z_], as is JavaScript's without the `u` flag.
const DOCKER_TAG_RE = /^[\w][\w.-]*$/;
const PROJECT_NAME_RE = /^(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;
// k8s.io/apimachinery validation.IsDNS1123Label / IsDNS1123Subdomain.
const DNS1123_LABEL_RE = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN_RE = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

/** Go's `len(s)`: the UTF-8 byte length. */
function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/**
 * werf's `slugify` (exported by werf as `slug.Slug`, used for `%image_slug%`): the result matches
 * `[a-z0-9]+(-[a-z0-9]+)*` or is empty.
 */
export function slugify(data: string): string {
  let result = '';
  let resultEmpty = true;
  let cursorDash = false;
  let previousDash = false;
  for (const codePoint of data) {
    const cursor = CHARMAP.get(codePoint) ?? '';
    if (cursor === '') continue;
    cursorDash = cursor === SEPARATOR;
    const startedDash = cursorDash && resultEmpty;
    const doubledDash = cursorDash && !resultEmpty && previousDash;
    if (startedDash || doubledDash) continue;
    result += cursor;
    previousDash = cursorDash;
    resultEmpty = false;
  }
  // werf looks at the last mapped piece, even when it was skipped as a doubled dash (the result then still ends
  // with the dash emitted before it).
  if (!resultEmpty && cursorDash) return result.slice(0, -1);
  return result;
}

/**
 * werf's internal `slug(data, maxSize)`: the slugified data cropped to leave room for `-<hash>`, then the
 * murmur hash of the ORIGINAL data; just the hash when nothing of the data survives slugify.
 */
export function slug(data: string, maxSize: number): string {
  const slugged = slugify(data);
  const hash = murmurHex(data);
  const parts: string[] = [];
  if (slugged !== '') {
    // slugify's output is ASCII, so characters are bytes here.
    const maxLength = Math.max(0, maxSize - hash.length - SEPARATOR.length);
    const cropped = slugged.slice(0, Math.min(slugged.length, maxLength));
    // werf's legacy check, kept for reproducibility: it was meant to test for a trailing dash.
    parts.push(cropped.startsWith(SEPARATOR) ? cropped.slice(0, -1) : cropped);
  }
  parts.push(hash);
  return parts.join(SEPARATOR);
}

function shouldNotBeSlugged(data: string, pattern: RegExp, maxSize: number): boolean {
  return data.length === 0 || (pattern.test(data) && byteLength(data) <= maxSize);
}

/** werf's `IsValidDockerTag`: empty, or `^[\w][\w.-]*$` and at most 128 characters. */
export function isValidDockerTag(name: string): boolean {
  return shouldNotBeSlugged(name, DOCKER_TAG_RE, DOCKER_TAG_MAX_SIZE);
}

/** werf's `DockerTag` (`%image_safe_slug%`): the name itself when it is a valid tag, else `slug(name, 128)`. */
export function dockerTag(name: string): string {
  return isValidDockerTag(name) ? name : slug(name, DOCKER_TAG_MAX_SIZE);
}

function shouldBeSlugged(data: string, maxSize: number): boolean {
  if (data.length === 0) return false;
  if (slugify(data) === data && byteLength(data) <= maxSize) return false;
  // werf's legacy idempotence rule for slugs that already carry one `--` (a crop that ended in a dash).
  if (byteLength(data) > maxSize) return true;
  if (data.split('--').length - 1 !== 1) return true;
  const formatted = data.replace('--', '-');
  return slugify(formatted) !== formatted;
}

/** werf's `LimitedSlug`: the data itself when it already is a slug of at most `maxSize`, else `slug(data, maxSize)`. */
export function limitedSlug(data: string, maxSize: number = DEFAULT_SLUG_MAX_SIZE): string {
  return shouldBeSlugged(data, maxSize) ? slug(data, maxSize) : data;
}

function isValidKubernetesNamespace(name: string): boolean {
  if (name.length === 0) return true;
  return byteLength(name) <= KUBERNETES_NAMESPACE_MAX_SIZE && DNS1123_LABEL_RE.test(name);
}

/** werf's `KubernetesNamespace`: unchanged when a DNS-1123 label (≤63), else `slug(name, 63)`. */
export function kubernetesNamespace(name: string): string {
  return isValidKubernetesNamespace(name) ? name : slug(name, KUBERNETES_NAMESPACE_MAX_SIZE);
}

function isValidHelmRelease(name: string): boolean {
  if (name.length === 0) return true;
  const length = byteLength(name);
  return length <= HELM_RELEASE_MAX_SIZE && length <= DNS1123_SUBDOMAIN_MAX_SIZE && DNS1123_SUBDOMAIN_RE.test(name);
}

/** werf's `HelmRelease`: unchanged when a DNS-1123 subdomain of at most 53, else `slug(name, 53)`. */
export function helmRelease(name: string): string {
  return isValidHelmRelease(name) ? name : slug(name, HELM_RELEASE_MAX_SIZE);
}

/** werf's `Project`: unchanged when valid, else slugify cut to 50 characters (no hash). */
export function project(name: string): string {
  if (shouldNotBeSlugged(name, PROJECT_NAME_RE, PROJECT_NAME_MAX_SIZE)) return name;
  const slugged = slugify(name);
  return slugged.length > PROJECT_NAME_MAX_SIZE ? slugged.slice(0, PROJECT_NAME_MAX_SIZE) : slugged;
}
