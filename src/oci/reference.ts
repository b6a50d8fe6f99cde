// Image references, parsed and normalised the way docker and go-containerregistry do.
// Grammar: github.com/distribution/reference (domain, path components, tag, digest).

import { InvalidInputError } from '../errors.js';

export const DOCKER_HUB_REGISTRY = 'index.docker.io';

export interface Repository {
  /** Host and optional port, normalised: `docker.io` becomes `index.docker.io`. */
  registry: string;
  /** Path inside the registry, e.g. `library/alpine` or `mycompany/myproject`. */
  repository: string;
}

export interface Reference extends Repository {
  tag?: string;
  digest?: string;
}

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const PORT = /^[0-9]+$/;
const IPV6_HOST = /^\[[0-9a-fA-F:.]+\]$/;
export const TAG_PATTERN = /^[\w][\w.-]{0,127}$/;
const DIGEST_PATTERN = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const NAME_MAX_LENGTH = 255;

function invalid(input: string, problem: string): InvalidInputError {
  return new InvalidInputError(`invalid image reference "${input}": ${problem}`, {
    hint: 'write it as [REGISTRY/]REPOSITORY[:TAG][@DIGEST], e.g. example.org/team/app:1.0',
  });
}

function isRegistryComponent(first: string): boolean {
  return first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[');
}

function validateRegistry(input: string, registry: string): void {
  let host = registry;
  let port: string | undefined;
  const ipv6 = /^(\[[^\]]+\])(?::(.*))?$/.exec(registry);
  if (ipv6) {
    host = ipv6[1]!;
    port = ipv6[2];
    if (!IPV6_HOST.test(host)) throw invalid(input, `registry host "${host}" is not a valid IPv6 address`);
  } else {
    const colon = registry.lastIndexOf(':');
    if (colon >= 0) {
      host = registry.slice(0, colon);
      port = registry.slice(colon + 1);
    }
    for (const part of host.split('.')) {
      if (!DOMAIN_COMPONENT.test(part)) throw invalid(input, `registry host "${host}" has an invalid part "${part}"`);
    }
  }
  if (port !== undefined && !PORT.test(port)) throw invalid(input, `registry port "${port}" is not a number`);
}

function validatePath(input: string, path: string): void {
  for (const component of path.split('/')) {
    if (component === '') throw invalid(input, `repository "${path}" has an empty path component`);
    if (component !== component.toLowerCase()) {
      throw invalid(input, `repository "${path}" must be lowercase (component "${component}")`);
    }
    if (!PATH_COMPONENT.test(component)) {
      throw invalid(input, `repository path component "${component}" may hold only a-z, 0-9 and single separators (. _ __ -)`);
    }
  }
}

/** Split `name` into registry and repository, applying Docker Hub's defaults. */
function splitName(input: string, name: string): Repository {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  let registry: string;
  let repository: string;
  if (slash >= 0 && isRegistryComponent(first)) {
    registry = first;
    repository = name.slice(slash + 1);
    validateRegistry(input, registry);
  } else {
    registry = DOCKER_HUB_REGISTRY;
    repository = name;
  }
  if (registry === 'docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB_REGISTRY;
  if (registry === DOCKER_HUB_REGISTRY && !repository.includes('/')) repository = `library/${repository}`;
  if (repository === '') throw invalid(input, 'the repository name is empty');
  validatePath(input, repository);
  if (name.length > NAME_MAX_LENGTH) throw invalid(input, `the name is longer than ${NAME_MAX_LENGTH} characters`);
  return { registry, repository };
}

/** Parse `[registry/]repo[:tag][@digest]`. A reference with neither tag nor digest stays without (callers choose a default). */
export function parseReference(input: string): Reference {
  if (input.trim() !== input || input === '') throw invalid(input, 'it is empty or has surrounding spaces');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_PATTERN.test(digest)) throw invalid(input, `digest "${digest}" is not of the form algorithm:hex`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_PATTERN.test(tag)) {
      throw invalid(input, `tag "${tag}" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`);
    }
  }
  const ref: Reference = splitName(input, rest);
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

/** Parse a repository without tag or digest, as given to `--repo`. */
export function parseRepository(input: string): Repository {
  const ref = parseReference(input);
  if (ref.tag !== undefined || ref.digest !== undefined) {
    throw invalid(input, 'a repository is expected here, without a tag or digest');
  }
  return { registry: ref.registry, repository: ref.repository };
}

export function formatRepository(repo: Repository): string {
  return `${repo.registry}/${repo.repository}`;
}

export function formatReference(ref: Reference): string {
  let out = formatRepository(ref);
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** The tag or digest a reference points at, digest first: what a registry's /manifests/ endpoint takes. */
export function referenceTarget(ref: Reference, defaultTag = 'latest'): string {
  return ref.digest ?? ref.tag ?? defaultTag;
}

export function withTag(repo: Repository, tag: string): Reference {
  return { registry: repo.registry, repository: repo.repository, tag };
}

export function withDigest(repo: Repository, digest: string): Reference {
  return { registry: repo.registry, repository: repo.repository, digest };
}

/** True for hosts where go-containerregistry defaults to plain HTTP. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host) || host.endsWith('.localhost');
}
