// Image selection from positional IMAGE_NAME arguments, and the order images are built in.
//
// Selection follows werf's `config.NewImagesToProcess` (pkg/config/images_to_process.go):
//   - each argument is a Go `filepath.Match` glob (`*`, `?`, `[...]`, `\` escapes; `*` and `?` never match
//     `/`); a leading `!` makes it an exclusion;
//   - checked first, in this order: `**` → `recursive glob (**) not supported`; longer than 100 characters →
//     `pattern too long`; any of `&|$` → `special characters not allowed`; a malformed glob →
//     `invalid pattern "<p>": syntax error in pattern`;
//   - no include pattern selects every image; an include pattern matching no image is an error,
//     `no image matches pattern "<p>"`;
//   - an image matching an exclusion is dropped, unless an include pattern equals its name literally.
// werf returns the names in map order (random); Slipway sorts them by name (byte order, as Go sorts).
// With `finalOnly`, non-final images are left out; werf does that silently, Slipway warns when the user
// named such an image (by its exact name, or with a pattern that matched no final image).

import { InvalidInputError, NotFoundError, ConfigError } from '../errors.js';
import { BadPatternError, match } from '../go/filepath.js';
import { compare } from '../go/strings.js';
import { imageLogName, relatedImageNames, type ImageConfig, type WerfConfig } from './werf-config.js';

// ---------------------------------------------------------------------------------------------------------
// Patterns

const MAX_PATTERN_LENGTH = 100;

export interface ImagePatterns {
  include: string[];
  exclude: string[];
}

/** Split arguments into include and exclude patterns, checking them as werf does (InvalidInputError). */
export function parseImagePatterns(args: readonly string[]): ImagePatterns {
  const include: string[] = [];
  const exclude: string[] = [];
  for (const pattern of args) {
    if (pattern.includes('**')) throw new InvalidInputError('recursive glob (**) not supported');
    if (pattern.length > MAX_PATTERN_LENGTH) throw new InvalidInputError('pattern too long');
    if (/[&|$]/.test(pattern)) throw new InvalidInputError('special characters not allowed');
    if (pattern.startsWith('!')) exclude.push(pattern.slice(1));
    else include.push(pattern);
  }
  return { include, exclude };
}

function matchPattern(name: string, pattern: string): boolean {
  try {
    return match(pattern, name);
  } catch (error) {
    if (error instanceof BadPatternError) throw new InvalidInputError(`invalid pattern ${JSON.stringify(pattern)}: ${error.message}`);
    throw error;
  }
}

const GLOB_CHARACTERS = /[*?[\\]/;

export interface SelectImagesOptions {
  /** Keep only final images (what export works on). */
  finalOnly: boolean;
}

export interface ImageSelection {
  /** Sorted by name. */
  images: ImageConfig[];
  /** Things the user should know but that are not errors (a named image that is not final). */
  warnings: string[];
}

/**
 * The images selected by IMAGE_NAME patterns. Throws InvalidInputError for a bad pattern and NotFoundError
 * (`no image matches pattern "x"`) for an include pattern that matches nothing; both exit 1, as in werf.
 */
export function selectImages(config: Pick<WerfConfig, 'images'>, patterns: readonly string[], options: SelectImagesOptions): ImageSelection {
  const { include, exclude } = parseImagePatterns(patterns);
  const selected = new Set<string>();
  const warnings: string[] = [];

  if (include.length === 0) {
    for (const image of config.images) selected.add(image.name);
  }
  for (const pattern of include) {
    const matched = config.images.filter((image) => matchPattern(image.name, pattern));
    if (matched.length === 0) throw new NotFoundError(`no image matches pattern ${JSON.stringify(pattern)}`);
    for (const image of matched) selected.add(image.name);
    if (options.finalOnly) {
      const literal = !GLOB_CHARACTERS.test(pattern);
      const noFinal = matched.every((image) => !image.final);
      for (const image of matched) {
        if (!image.final && (literal || noFinal)) {
          const warning = `image ${JSON.stringify(imageLogName(image.name))} is not final and is not exported`;
          if (!warnings.includes(warning)) warnings.push(warning);
        }
      }
    }
  }
  for (const name of [...selected]) {
    const excluded = exclude.some((pattern) => matchPattern(name, pattern)) && !include.includes(name);
    if (excluded) selected.delete(name);
  }

  const images = config.images
    .filter((image) => selected.has(image.name) && (!options.finalOnly || image.final))
    .sort((a, b) => compare(a.name, b.name));
  return { images, warnings };
}

// ---------------------------------------------------------------------------------------------------------
// Build order

function indexImages(images: readonly ImageConfig[]): Map<string, ImageConfig> {
  const byName = new Map<string, ImageConfig>();
  for (const image of images) byName.set(image.name, image);
  return byName;
}

/** The images `roots` need (themselves included), from the whole configuration. */
function closure(all: readonly ImageConfig[], roots: readonly ImageConfig[]): Map<string, ImageConfig> {
  const byName = indexImages(all);
  const needed = new Map<string, ImageConfig>();
  const pending = [...roots];
  while (pending.length > 0) {
    const image = pending.pop()!;
    if (needed.has(image.name)) continue;
    needed.set(image.name, image);
    for (const name of relatedImageNames(image)) {
      const related = byName.get(name);
      if (related === undefined) throw new ConfigError(`image ${JSON.stringify(imageLogName(image.name))} needs image ${JSON.stringify(name)}, which is not defined`);
      pending.push(related);
    }
  }
  return needed;
}

/**
 * Images in the order they can be built: each after the images it needs (base image, imports,
 * dependencies), ties broken by name. With `roots`, only the images they need (transitively), roots
 * included; without, every image. Throws ConfigError on a cycle (a validated config has none).
 */
export function resolveDependencyOrder(images: readonly ImageConfig[], roots: readonly ImageConfig[] = images): ImageConfig[] {
  return dependencyLevels(images, roots).flat();
}

/**
 * The same order as sets of images that do not need each other (werf's "independent sets"): every image of
 * a set needs only images of earlier sets. Each set is sorted by name.
 */
export function dependencyLevels(images: readonly ImageConfig[], roots: readonly ImageConfig[] = images): ImageConfig[][] {
  const needed = closure(images, roots);
  const levels: ImageConfig[][] = [];
  const placed = new Set<string>();
  while (placed.size < needed.size) {
    const ready = [...needed.values()]
      .filter((image) => !placed.has(image.name) && relatedImageNames(image).every((name) => placed.has(name)))
      .sort((a, b) => compare(a.name, b.name));
    if (ready.length === 0) {
      const stuck = [...needed.keys()].filter((name) => !placed.has(name)).sort(compare);
      throw new ConfigError(`dependency cycle between images: ${stuck.map(imageLogName).join(', ')}`);
    }
    for (const image of ready) placed.add(image.name);
    levels.push(ready);
  }
  return levels;
}
