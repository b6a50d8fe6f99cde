// `--tag` templates (cmd/werf/export/export.go in werf/werf): parsing, rendering, and validation before anything is built.
//
// werf parses a template with Go text/template using `%` as both delimiters and four functions. Slipway accepts
// exactly the four patterns, with Go's lexing around them (whitespace inside an action, `%- ` / ` -%` trim
// markers), and rejects everything Go rejects, with Go's reasons where they are meaningful:
//   %image%                    the image name as written in werf.yaml
//   %image_slug%               slugify(name) (werf's slug.Slug)
//   %image_safe_slug%          the name itself when it is a valid docker tag, else slug + hash (werf's slug.DockerTag)
//   %image_content_based_tag%  the content-based tag: `<56 hex>-<13 digits>`, or `<56 hex>` for a multi-platform image
// Go built-ins, literals, pipelines and comments, which werf technically accepts, are refused: they cannot be
// useful in a reference.
//
// Validation is werf's, made stricter where the issue asks (issue 5):
//   - each template is rendered for every image (sorted by name) with 70 × `x` as the content-based tag, and parsed
//     with Slipway's reference grammar (`could not parse reference: <rendered>: <detail>`);
//   - a destination without a registry host is refused with a message that says to write one
//     (`index.docker.io/...` for Docker Hub); so is `docker.io/...`: werf requires Docker Hub to be written
//     `index.docker.io` (its "the user must explicitly provide the address" error; `registry-1.docker.io`, a host
//     of its own for werf, is accepted);
//   - every collision is found, not only those with the first image: two images of one template that render the
//     same destination, and two templates that send different images to the same destination;
//   - a destination that would overwrite a stage in the stages repository (a stage-shaped tag there) is refused;
//   - `oci:DIR[:TAG]` and `oci-archive:FILE[:TAG]` destinations (local, for air-gapped delivery) are accepted.
// All problems of all templates are reported together in one error. Everything here is pure.

import { normalize as normalizePath } from 'node:path';
import { ConflictError, InvalidInputError, UsageError } from '../errors.js';
import {
  DOCKER_HUB_REGISTRY,
  formatReference,
  formatRepository,
  type Reference,
  type Repository,
} from '../oci/reference.js';
import { isMultiplatformTag, isStageTag, parseRejectedStageTag } from '../stages/stage-id.js';
import { quote } from '../go/strconv.js';
import { digestOf as digestOfLocation, formatLocation, tryParseLocation, type LocalKind } from '../store/location.js';
import { compare } from '../go/strings.js';
import { dockerTag, slugify } from '../text/slug.js';

export const TAG_TEMPLATE_PATTERNS = ['image', 'image_slug', 'image_safe_slug', 'image_content_based_tag'] as const;
export type TagTemplatePattern = (typeof TAG_TEMPLATE_PATTERNS)[number];

/** The patterns that carry the image name (one of them is what tells several images apart). */
const IMAGE_NAME_PATTERNS: readonly TagTemplatePattern[] = ['image', 'image_slug', 'image_safe_slug'];

export type TagTemplatePart = { kind: 'text'; text: string } | { kind: 'pattern'; pattern: TagTemplatePattern };

export interface TagTemplate {
  /** The template as the user wrote it. */
  raw: string;
  parts: readonly TagTemplatePart[];
}

/** werf's stand-in for the content-based tag while validating: 70 × `x`, the length of `<56 hex>-<13 digits>`. */
export const CONTENT_BASED_TAG_STUB = 'x'.repeat(70);

// Real-looking content-based tags, to see whether a destination could land on a stage (pkg/storage/repo_stages_storage.go in werf/werf).
const STAGE_TAG_EXAMPLE = '1b77754d35b0a3e603731828ee6f2400c4f937382874db2566c616bb-1624991915332';
const MULTIPLATFORM_TAG_EXAMPLE = '27b6a44a7433422f2a73365a09a64f08bab8f8ffa6b9e06ce4ae34af';

/** Go's template name for the parser's messages: werf names the template `--tag`. */
const TEMPLATE_NAME = '--tag';

const NO_TAG_TEMPLATES_MESSAGE = 'required at least one tag template: use the --tag option to specify templates';

const COLLISION_MESSAGE =
  'tag template must contain image name shortcut %image% or %image_slug% if multiple images are exported ' +
  '(e.g. REPO:TAG-%image% or REPO-%image%:TAG)';

// ---------------------------------------------------------------------------------------------------------
// Parsing

// Go text/template's lexer: space, tab, carriage return and newline; identifiers are letters, digits and `_`.
const GO_SPACE = /^[ \t\r\n]$/;
const GO_SPACES_AT_END = /[ \t\r\n]+$/;
const GO_SPACES_AT_START = /^[ \t\r\n]+/;
const GO_IDENTIFIER = /^[\p{L}_][\p{L}\p{Nd}_]*$/u;
// Words Go's parser treats as keywords, constants or built-in functions: never "not defined".
const GO_RESERVED = new Set([
  'block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with', 'nil', 'true', 'false',
  'and', 'call', 'html', 'index', 'slice', 'js', 'len', 'not', 'or', 'print', 'printf', 'println', 'urlquery',
  'eq', 'ge', 'gt', 'le', 'lt', 'ne',
]);

function isPattern(name: string): name is TagTemplatePattern {
  return (TAG_TEMPLATE_PATTERNS as readonly string[]).includes(name);
}

function templatePrefix(raw: string): string {
  return `invalid tag template ${quote(raw)}: `;
}

function syntaxError(raw: string, offset: number, reason: string): UsageError {
  const line = 1 + (raw.slice(0, offset).match(/\n/g)?.length ?? 0);
  return new UsageError(`${templatePrefix(raw)}template: ${TEMPLATE_NAME}:${line}: ${reason}`, {
    hint: 'a tag template may use %image%, %image_slug%, %image_safe_slug% and %image_content_based_tag%; a literal % cannot appear in it',
  });
}

/**
 * Parse a `--tag` template. Throws a UsageError `invalid tag template "<raw>": template: --tag:1: <reason>` for an
 * unknown name (`function "<name>" not defined`), an unpaired `%` (`unclosed action`), an empty action `%%`
 * (`missing value for command`) and anything but the four patterns.
 */
export function parseTagTemplate(raw: string): TagTemplate {
  const parts: TagTemplatePart[] = [];
  let trimNextText = false;
  const pushText = (text: string): void => {
    const value = trimNextText ? text.replace(GO_SPACES_AT_START, '') : text;
    trimNextText = false;
    if (value !== '') parts.push({ kind: 'text', text: value });
  };
  let position = 0;
  while (position < raw.length) {
    const open = raw.indexOf('%', position);
    if (open < 0) {
      pushText(raw.slice(position));
      break;
    }
    pushText(raw.slice(position, open));
    const close = raw.indexOf('%', open + 1);
    if (close < 0) throw syntaxError(raw, open, 'unclosed action');
    let inner = raw.slice(open + 1, close);
    // `%- ` trims the whitespace before the action, ` -%` the whitespace after it (Go's trim markers).
    if (inner.length >= 2 && inner[0] === '-' && GO_SPACE.test(inner[1]!)) {
      const last = parts[parts.length - 1];
      if (last?.kind === 'text') {
        const trimmed = last.text.replace(GO_SPACES_AT_END, '');
        if (trimmed === '') parts.pop();
        else parts[parts.length - 1] = { kind: 'text', text: trimmed };
      }
      inner = inner.slice(1);
    }
    if (inner.length >= 2 && inner.endsWith('-') && GO_SPACE.test(inner[inner.length - 2]!)) {
      trimNextText = true;
      inner = inner.slice(0, -1);
    }
    const name = inner.replace(GO_SPACES_AT_START, '').replace(GO_SPACES_AT_END, '');
    if (name === '') throw syntaxError(raw, open, 'missing value for command');
    // Go reports the first name that is no function, even among arguments (`%image foo%`).
    const words = name.split(/[ \t\r\n]+/);
    const undefinedName = words.every((word) => GO_IDENTIFIER.test(word))
      ? words.find((word) => !isPattern(word) && !GO_RESERVED.has(word))
      : undefined;
    if (isPattern(name)) {
      parts.push({ kind: 'pattern', pattern: name });
    } else if (undefinedName !== undefined) {
      throw syntaxError(raw, open, `function ${quote(undefinedName)} not defined`);
    } else {
      throw syntaxError(
        raw,
        open,
        `unsupported action ${quote(`%${inner}%`)}: only %image%, %image_slug%, %image_safe_slug% and %image_content_based_tag% are supported`,
      );
    }
    position = close + 1;
  }
  return { raw, parts };
}

/** Whether the template carries the image name (%image%, %image_slug% or %image_safe_slug%). */
export function usesImageName(template: TagTemplate): boolean {
  return template.parts.some((part) => part.kind === 'pattern' && IMAGE_NAME_PATTERNS.includes(part.pattern));
}

/** Whether the template uses %image_content_based_tag%. */
export function usesContentBasedTag(template: TagTemplate): boolean {
  return template.parts.some((part) => part.kind === 'pattern' && part.pattern === 'image_content_based_tag');
}

function patternValue(pattern: TagTemplatePattern, imageName: string, contentBasedTag: string): string {
  switch (pattern) {
    case 'image':
      return imageName;
    case 'image_slug':
      return slugify(imageName);
    case 'image_safe_slug':
      return dockerTag(imageName);
    case 'image_content_based_tag':
      return contentBasedTag;
  }
}

function asTemplate(template: TagTemplate | string): TagTemplate {
  return typeof template === 'string' ? parseTagTemplate(template) : template;
}

/** The template's text for one image: what werf's tag function returns (before any parsing as a reference). */
export function renderTagTemplate(template: TagTemplate | string, imageName: string, contentBasedTag: string): string {
  return asTemplate(template)
    .parts.map((part) => (part.kind === 'text' ? part.text : patternValue(part.pattern, imageName, contentBasedTag)))
    .join('');
}

// ---------------------------------------------------------------------------------------------------------
// Destinations

/**
 * Where an image is exported to: a registry tag, or (for air-gapped delivery) a local OCI layout or archive. A
 * location of the one grammar (store/location.ts) that always names a tag (`latest` when none is written), with
 * the text it was rendered as.
 */
export type ExportDestination =
  | { kind: 'registry'; reference: Reference & { tag: string }; text: string }
  | { kind: LocalKind; path: string; tag: string; text: string };

const DOCKER_HUB_SPELLINGS = [`${DOCKER_HUB_REGISTRY}/`, 'registry-1.docker.io/'];

type ParsedDestination =
  | { ok: true; destination: ExportDestination }
  | { ok: false; noHost: boolean; dockerIo?: true; message: string };

/** `docker.io/x` written for `index.docker.io/x`, as werf asks. */
function withIndexDockerIo(text: string): string {
  return text.replace(/^(docker:\/\/)?docker\.io\//, `$1${DOCKER_HUB_REGISTRY}/`);
}

function tryParseDestination(text: string): ParsedDestination {
  const parsed = tryParseLocation(text);
  if (!parsed.ok) return { ok: false, noHost: false, message: `could not parse reference: ${text}: ${parsed.detail}` };
  const location = parsed.location;
  if (digestOfLocation(location) !== undefined) {
    return { ok: false, noHost: false, message: `could not parse reference: ${text}: an export destination takes a tag, not a digest` };
  }
  if (location.kind !== 'registry') return { ok: true, destination: { kind: location.kind, path: location.path, tag: location.tag ?? 'latest', text } };
  const name = text.startsWith('docker://') ? text.slice('docker://'.length) : text;
  const { reference } = location;
  if (reference.registry === DOCKER_HUB_REGISTRY && name.startsWith('docker.io/')) {
    return {
      ok: false, noHost: false, dockerIo: true,
      message: `${quote(text)} writes Docker Hub as docker.io: werf requires the address "${DOCKER_HUB_REGISTRY}" for Docker Hub`,
    };
  }
  if (reference.registry === DOCKER_HUB_REGISTRY && !DOCKER_HUB_SPELLINGS.some((spelling) => name.startsWith(spelling))) {
    return { ok: false, noHost: true, message: `${quote(text)} names no registry host` };
  }
  return { ok: true, destination: { kind: 'registry', reference: { registry: reference.registry, repository: reference.repository, tag: reference.tag ?? 'latest' }, text } };
}

/**
 * A rendered destination: `[docker://]REGISTRY/REPOSITORY[:TAG]` (the registry host is required; `docker.io` and
 * `index.docker.io` are both Docker Hub), `oci:DIR[:TAG]` or `oci-archive:FILE[:TAG]`. Throws InvalidInputError.
 */
export function parseDestination(text: string): ExportDestination {
  const parsed = tryParseDestination(text);
  if (parsed.ok) return parsed.destination;
  if (parsed.dockerIo) throw new InvalidInputError(`${parsed.message}: write ${quote(withIndexDockerIo(text))}`);
  throw new InvalidInputError(
    parsed.noHost ? `${parsed.message}: write the registry, e.g. ${quote(`${DOCKER_HUB_REGISTRY}/${text}`)} for Docker Hub` : parsed.message,
  );
}

/** The destination in one canonical spelling: `registry/repository:tag`, `oci:DIR:TAG`, `oci-archive:FILE:TAG`. */
export function formatDestination(destination: ExportDestination): string {
  return formatLocation(destination);
}

/** What two destinations must differ in: the canonical spelling, with local paths normalised. */
function destinationKey(destination: ExportDestination): string {
  if (destination.kind === 'registry') return formatReference(destination.reference);
  return `${destination.kind}:${normalizePath(destination.path)}:${destination.tag}`;
}

/**
 * The destination of one image for a (validated) template, after the build: the content-based tag is the real one.
 * Throws a UsageError `invalid tag template "<raw>": ...` when the result is not a valid destination.
 */
export function renderDestination(template: TagTemplate | string, imageName: string, contentBasedTag: string): ExportDestination {
  const parsed = asTemplate(template);
  const text = renderTagTemplate(parsed, imageName, contentBasedTag);
  try {
    return parseDestination(text);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new UsageError(`${templatePrefix(parsed.raw)}${error.message}`, { cause: error });
    throw error;
  }
}

/**
 * renderDestination() as a string in the canonical spelling of formatDestination(): a normalised reference with its
 * tag (`index.docker.io/org/app:v1`), or `oci:DIR:TAG` / `oci-archive:FILE:TAG`.
 */
export function destinationFor(template: TagTemplate | string, imageName: string, contentBasedTag: string): string {
  return formatDestination(renderDestination(template, imageName, contentBasedTag));
}

// ---------------------------------------------------------------------------------------------------------
// Validation

/** werf's error when no `--tag` is given. */
export function noTagTemplatesError(): UsageError {
  return new UsageError(NO_TAG_TEMPLATES_MESSAGE, { hint: 'e.g. --tag registry.example.com/project/%image%:latest' });
}

/** Throw werf's error when no `--tag` is given. */
export function requireTagTemplates(templates: readonly string[]): void {
  if (templates.length === 0) throw noTagTemplatesError();
}

export interface ValidateTagTemplatesOptions {
  /** The stages repository (`--repo`): destinations must not overwrite its stages. */
  stagesRepo?: Repository;
}

interface Problem {
  message: string;
  /** A collision or an overwrite (ConflictError) rather than a malformed template (UsageError). */
  conflict: boolean;
}

interface Writer {
  template: string;
  image: string;
  /** The destination as shown to the user, with `%image_content_based_tag%` left in. */
  display: string;
}

function quotedList(values: readonly string[]): string {
  const quoted = values.map((value) => quote(value));
  if (quoted.length <= 1) return quoted.join('');
  return `${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]!}`;
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

function isStageShapedTag(tag: string): boolean {
  return isStageTag(tag) || isMultiplatformTag(tag) || parseRejectedStageTag(tag) !== undefined;
}

function overwritesStage(template: TagTemplate, image: string, stagesRepo: Repository): boolean {
  for (const contentBasedTag of [STAGE_TAG_EXAMPLE, MULTIPLATFORM_TAG_EXAMPLE]) {
    const parsed = tryParseDestination(renderTagTemplate(template, image, contentBasedTag));
    if (!parsed.ok || parsed.destination.kind !== 'registry') continue;
    const { reference } = parsed.destination;
    if (reference.registry === stagesRepo.registry && reference.repository === stagesRepo.repository && isStageShapedTag(reference.tag)) {
      return true;
    }
  }
  return false;
}

/** Problems of one template: the reference grammar, the registry host, stages, collisions between its images. */
function checkTemplate(template: TagTemplate, images: readonly string[], options: ValidateTagTemplatesOptions, writers: Map<string, Writer[]>): Problem[] {
  const prefix = templatePrefix(template.raw);
  const problems: Problem[] = [];
  const byKey = new Map<string, Writer[]>();
  let noHostReported = false;
  let dockerIoReported = false;
  let stageReported = false;
  for (const image of images) {
    const parsed = tryParseDestination(renderTagTemplate(template, image, CONTENT_BASED_TAG_STUB));
    const display = renderTagTemplate(template, image, '%image_content_based_tag%');
    if (!parsed.ok) {
      if (parsed.dockerIo) {
        if (!dockerIoReported) {
          dockerIoReported = true;
          problems.push({
            message: `${prefix}${quote(display)} writes Docker Hub as docker.io: werf requires the address "${DOCKER_HUB_REGISTRY}" for Docker Hub: write ${quote(withIndexDockerIo(template.raw))}`,
            conflict: false,
          });
        }
      } else if (!parsed.noHost) {
        problems.push({ message: `${prefix}${parsed.message}`, conflict: false });
      } else if (!noHostReported) {
        noHostReported = true;
        problems.push({
          message:
            `${prefix}${quote(display)} names no registry host: export pushes to a registry, which must be written out, ` +
            `e.g. ${quote(`${DOCKER_HUB_REGISTRY}/${template.raw}`)} for Docker Hub (or oci:DIR[:TAG] for a local OCI layout)`,
          conflict: false,
        });
      }
      continue;
    }
    if (options.stagesRepo !== undefined && !stageReported && overwritesStage(template, image, options.stagesRepo)) {
      stageReported = true;
      problems.push({
        message:
          `${prefix}${quote(display)} would overwrite a stage in the stages repository ${formatRepository(options.stagesRepo)}: ` +
          'export to another repository, or to tags that are not stage tags (<56 hex>-<13 digits>, <56 hex>)',
        conflict: true,
      });
    }
    const key = destinationKey(parsed.destination);
    const writer: Writer = { template: template.raw, image, display };
    byKey.set(key, [...(byKey.get(key) ?? []), writer]);
    writers.set(key, [...(writers.get(key) ?? []), writer]);
  }
  for (const colliding of byKey.values()) {
    if (colliding.length < 2) continue;
    const names = colliding.map((writer) => writer.image);
    const where = `images ${quotedList(names)} would ${names.length === 2 ? 'both' : 'all'} be exported to ${quote(colliding[0]!.display)}`;
    problems.push({
      message: usesImageName(template)
        ? `${prefix}${where}: the template must tell them apart (%image% keeps image names as they are)`
        : `${prefix}${COLLISION_MESSAGE}: ${where}`,
      conflict: true,
    });
  }
  return problems;
}

/** Different images sent to one destination by different templates. */
function crossTemplateProblems(writers: Map<string, Writer[]>): Problem[] {
  const problems: Problem[] = [];
  for (const list of writers.values()) {
    const clash = list.some((a) => list.some((b) => a.template !== b.template && a.image !== b.image));
    if (!clash) continue;
    const templates = unique(list.map((writer) => writer.template));
    const images = unique(list.map((writer) => writer.image));
    problems.push({
      message: `tag templates ${quotedList(templates)} would export different images (${quotedList(images)}) to the same destination ${quote(list[0]!.display)}`,
      conflict: true,
    });
  }
  return problems;
}

/**
 * Validate the `--tag` templates for the images that will be exported (the final image names; the order does not
 * matter: they are checked sorted by name), before anything is built or pushed. Returns the parsed templates in the
 * order given. Throws, listing every problem of every template: a ConflictError when all of them are collisions or
 * stage overwrites, else a UsageError. One problem reads exactly like werf's `invalid tag template "<raw>": <reason>`.
 */
export function validateTagTemplates(
  templates: readonly string[],
  images: readonly string[],
  options: ValidateTagTemplatesOptions = {},
): TagTemplate[] {
  requireTagTemplates(templates);
  const sortedImages = unique(images).sort(compare);
  const problems: Problem[] = [];
  const parsedTemplates: TagTemplate[] = [];
  const writers = new Map<string, Writer[]>();
  for (const raw of templates) {
    let template: TagTemplate;
    try {
      template = parseTagTemplate(raw);
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      problems.push({ message: error.message, conflict: false });
      continue;
    }
    parsedTemplates.push(template);
    problems.push(...checkTemplate(template, sortedImages, options, writers));
  }
  problems.push(...crossTemplateProblems(writers));
  if (problems.length === 0) return parsedTemplates;
  const message =
    problems.length === 1
      ? problems[0]!.message
      : [`${problems.length} problems with the tag templates:`, ...problems.map((problem) => `- ${problem.message}`)].join('\n');
  const ErrorClass = problems.every((problem) => problem.conflict) ? ConflictError : UsageError;
  throw new ErrorClass(message);
}
