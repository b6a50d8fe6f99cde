// What export does to labels and annotations, and how `--add-label` and `--add-annotation` values are read
// (cmd/werf/export/export.go and pkg/build/export_phase.go in werf/werf). Pure.
//
// The values come resolved from the CLI (src/cli/options.ts: flags, `SLIPWAY_*` / `WERF_EXPORT_ADD_LABEL_*`
// environment families, the `--add-label-separator` default); nothing here reads the environment.

import { UsageError } from '../errors.js';
import { quote } from '../go/strconv.js';
import { split } from '../go/strings.js';

/** The default `--add-label-separator`: a newline (werf changed it from `,` in 2025). */
export const DEFAULT_ADD_LABEL_SEPARATOR = '\n';

const KEY_VALUE_SEPARATOR = '=';

// ---------------------------------------------------------------------------------------------------------
// --add-label, --add-annotation

/** Go's `strings.SplitN(pair, "=", 2)` checked as werf does: two parts and a non-empty key. */
function splitPair(pair: string): [string, string] | undefined {
  const at = pair.indexOf(KEY_VALUE_SEPARATOR);
  if (at <= 0) return undefined;
  return [pair.slice(0, at), pair.slice(at + KEY_VALUE_SEPARATOR.length)];
}

function invalidPair(pair: string): string {
  return `invalid key=value pair ${quote(pair)} (${quote(KEY_VALUE_SEPARATOR)})`;
}

/**
 * werf's `InputArrayToKeyValueMap` over the env values, then the command-line values: each value is split on
 * `separator` (Go's strings.Split), each piece on its first `=`; the key must be non-empty, the value may be empty
 * or hold more `=`; no trimming or unquoting. Later pairs win. Throws werf's error:
 * `unsupported --add-label value: invalid value "<value>" ("<sep>"): invalid key=value pair "<piece>" ("=")`.
 *
 * Note: the option table's resolved `options.addLabel` already holds the env values first; pass it as `cliValues`
 * with `envValues` empty.
 */
export function parseAddLabels(
  cliValues: readonly string[],
  envValues: readonly string[],
  separator: string,
): Record<string, string> {
  const result = new Map<string, string>();
  for (const value of [...envValues, ...cliValues]) {
    const pairs: [string, string][] = [];
    for (const piece of split(value, separator)) {
      const pair = splitPair(piece);
      if (pair === undefined) {
        throw new UsageError(
          `unsupported --add-label value: invalid value ${quote(value)} (${quote(separator)}): ${invalidPair(piece)}`,
          { hint: `write KEY=VALUE; several pairs in one value are separated by --add-label-separator (here ${quote(separator)})` },
        );
      }
      pairs.push(pair);
    }
    for (const [key, pairValue] of pairs) result.set(key, pairValue);
  }
  return Object.fromEntries(result);
}

/**
 * `--add-annotation K=V` values (one pair each, the `--add-label` pair rule: split on the first `=`, non-empty
 * key, the value may be empty). Later values win. Throws a UsageError naming the value.
 */
export function parseAnnotations(values: readonly string[]): Record<string, string> {
  const result = new Map<string, string>();
  for (const value of values) {
    const pair = splitPair(value);
    if (pair === undefined) {
      throw new UsageError(`unsupported --add-annotation value: ${invalidPair(value)}`, { hint: 'write KEY=VALUE' });
    }
    result.set(pair[0], pair[1]);
  }
  return Object.fromEntries(result);
}

// ---------------------------------------------------------------------------------------------------------
// The label edit

/**
 * A label export removes: Slipway's (`slipway`, `slipway-*`, `slipway.io/*`) and werf's by werf's own rule, every
 * key that starts with `werf` (so `werf.io/…`, and a user's `werfish` too; `io.werf.x` stays). Case-sensitive.
 */
export function isExportRemovedLabel(key: string): boolean {
  return key === 'slipway' || key.startsWith('slipway-') || key.startsWith('slipway.io/') || key.startsWith('werf');
}

/**
 * The labels of an exported image config: the source labels without the removed ones (in their order), then the
 * added ones set over them (an added `werf-foo` survives). Returns undefined when the source had no labels
 * (absent or null) and nothing is added: leave the config's `Labels` as it was. Otherwise an object, possibly
 * empty when every source label was removed. The input is not modified.
 */
export function exportLabels(
  labels: Readonly<Record<string, string>> | null | undefined,
  add: Readonly<Record<string, string>>,
): Record<string, string> | undefined {
  const added = Object.entries(add);
  if ((labels === null || labels === undefined) && added.length === 0) return undefined;
  // A Map, then Object.fromEntries: keys such as `__proto__` stay plain labels.
  const result = new Map<string, string>();
  for (const [key, value] of Object.entries(labels ?? {})) {
    if (!isExportRemovedLabel(key)) result.set(key, value);
  }
  for (const [key, value] of added) result.set(key, value);
  return Object.fromEntries(result);
}
