// werf's imageSpec stage (pkg/build/stage/image_spec.go and image.UpdateConfigFile in pkg/image/spec_config.go in
// werf/werf): the last stage of a final image whose config the `imageSpec` (merged with `build.imageSpec`) edits.
// It adds no layer and no history entry. Pure: the config is edited as parsed JSON, so fields Slipway does not know
// survive; a value werf clears (go-containerregistry marshals it with `omitempty`) is removed from the JSON.
//
// Where Slipway differs, on purpose:
//   - the essential labels protected from `removeLabels` are Slipway's own service labels (`slipway`,
//     `slipway.io/parent-stage-id`, `slipway-stage-content-digest`, `slipway-project-repo-commit`), the ones that
//     play werf's `werf`, `werf.io/parent-stage-id`, `werf-stage-content-digest` and `werf-project-repo-commit` role;
//   - the environment keeps its order (werf rebuilds it from a Go map, in random order): surviving entries where
//     they were, new ones after them sorted by name;
//   - the stage digest takes the labels as rendered (`%image%`, `%project%`), not as written: two images with the
//     same build and a `%image%` label never share the stage.
//   - html/template's context checks are not reproduced: only its escaping of the values `%image%` and
//     `%project%` insert (in HTML text context), which never changes a werf image or project name.

import { ConfigError } from '../errors.js';
import { compare } from '../go/strings.js';
import type { ImageConfig } from '../oci/index.js';
import { SERVICE_LABELS } from '../stages/index.js';
import { compileRegexValue, isRegexValue } from '../text/regex-value.js';
import type { Healthcheck, ImageSpec } from '../config/werf-config.js';
import { expandWord } from './dockerfile/shell-lex.js';
import { containerConfig } from './image-config.js';

/** The stage's name in logs and records, werf's. */
export const IMAGE_SPEC_STAGE = 'imageSpec';

/** The labels `removeLabels` never removes (werf's four essential labels, in Slipway's names). */
export const ESSENTIAL_LABELS: readonly string[] = [
  SERVICE_LABELS.project, SERVICE_LABELS.parentStageId, SERVICE_LABELS.stageContentDigest, SERVICE_LABELS.projectRepoCommit,
];

/** werf's global warning when `removeLabels` matches an essential label and `keepEssentialWerfLabels` is not set. */
export const ESSENTIAL_LABELS_WARNING =
  `The ${ESSENTIAL_LABELS.map((l) => JSON.stringify(l)).join(', ')} labels cannot be removed within the imageSpec stage, ` +
  'as they are essential for the proper operation of container registry cleanup.\n\n' +
  'If you need to remove all Slipway labels, use the export command: it removes all Slipway and werf labels and ' +
  'fully detaches images from Slipway, transferring cleanup entirely to the user.\n\n' +
  'To disable this warning, explicitly set the "keepEssentialWerfLabels" directive.';

/** Environment variables werf always removes (commit values its stapel images left behind). */
const ALWAYS_REMOVED_ENV = ['WERF_COMMIT_HASH', 'WERF_COMMIT_TIME_HUMAN', 'WERF_COMMIT_TIME_UNIX'];
/** werf's SSH agent socket inside build containers: `SSH_AUTH_SOCK` with this value is removed. */
const WERF_SSH_AUTH_SOCK = '/.werf/tmp/ssh-auth-sock';

export interface ImageSpecContext {
  project: string;
  /** The werf image name (`%image%`). */
  image: string;
}

export interface AppliedImageSpec {
  /** `removeLabels` matched an essential label without `keepEssentialWerfLabels`: print ESSENTIAL_LABELS_WARNING once. */
  essentialLabelsWarning: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// Labels: `%image%` and `%project%`

const HTML_ESCAPES: Record<string, string> = { '\0': '\uFFFD', '"': '&#34;', "'": '&#39;', '&': '&amp;', '+': '&#43;', '<': '&lt;', '>': '&gt;' };

/**
 * werf's replaceLabelTemplate: the key or value as a Go html/template with `%` delimiters and two functions,
 * `image` and `project` (the fields `.Image` and `.Project` work too). Throws a ConfigError naming the label.
 */
export function renderLabelTemplate(text: string, context: ImageSpecContext, label: string): string {
  if (!text.includes('%')) return text;
  let out = '';
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf('%', at);
    if (open < 0) {
      out += text.slice(at);
      break;
    }
    out += text.slice(at, open);
    const close = text.indexOf('%', open + 1);
    if (close < 0) throw labelError(label, text, 'unclosed action');
    const action = text.slice(open + 1, close).trim();
    let value: string;
    if (action === 'image' || action === '.Image') value = context.image;
    else if (action === 'project' || action === '.Project') value = context.project;
    else if (action === '') throw labelError(label, text, 'missing value for command');
    else throw labelError(label, text, `function or field ${JSON.stringify(action)} not defined: use %image% or %project%`);
    out += value.replace(/[\0"'&+<>]/g, (c) => HTML_ESCAPES[c]!);
    at = close + 1;
  }
  return out;
}

function labelError(label: string, text: string, reason: string): ConfigError {
  return new ConfigError(`imageSpec.config.labels: label ${JSON.stringify(label)}: cannot render ${JSON.stringify(text)}: ${reason}`, {
    hint: 'in imageSpec labels, % starts %image% or %project%; no other use of % is possible there',
  });
}

/** The labels to add, keys and values rendered. */
export function renderLabels(labels: Readonly<Record<string, string>>, context: ImageSpecContext): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(labels)) {
    out.set(renderLabelTemplate(key, context, key), renderLabelTemplate(value, context, key));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The stage digest

function sorted(values: readonly string[]): string[] {
  return [...values].sort(compare);
}

function sortedPairs(entries: Iterable<[string, string]>): string[] {
  return [...entries].sort(([a], [b]) => compare(a, b)).flatMap(([k, v]) => [k, v]);
}

/** Go's fmt.Sprint of werf's `*healthConfig`: `<nil>` or `&{[test ...] interval timeout startPeriod retries}`. */
function sprintHealthcheck(healthcheck: Healthcheck | undefined): string {
  if (healthcheck === undefined) return '<nil>';
  const n = (value: number | undefined): string => String(value ?? 0);
  return `&{[${healthcheck.test.join(' ')}] ${n(healthcheck.interval)} ${n(healthcheck.timeout)} ${n(healthcheck.startPeriod)} ${n(healthcheck.retries)}}`;
}

/** What enters the imageSpec stage's digest: werf's GetDependencies list, in its order (labels as rendered). */
export function imageSpecDependencies(spec: ImageSpec, context: ImageSpecContext): string[] {
  return [
    spec.author ?? '',
    String(spec.clearHistory),
    (spec.cmd ?? []).join(' '),
    (spec.entrypoint ?? []).join(' '),
    ...sortedPairs(Object.entries(spec.env)),
    ...sorted(spec.expose ?? []),
    sprintHealthcheck(spec.healthcheck),
    ...sortedPairs(renderLabels(spec.labels, context)),
    spec.stopSignal ?? '',
    spec.user ?? '',
    ...sorted(spec.volumes),
    spec.workingDir ?? '',
    ...sorted(spec.removeLabels),
    ...sorted(spec.removeVolumes),
    ...sorted(spec.removeEnv),
    String(spec.keepEssentialWerfLabels),
    String(spec.clearCmd),
    String(spec.clearEntrypoint),
    String(spec.clearUser),
    String(spec.clearWorkingDir),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// The edit

/** werf's compileRemovePatterns + matchKey: exact names, or `/regex/` anchored as `^body$` (RE2). */
function keyMatcher(patterns: readonly string[], what: string): (key: string) => boolean {
  const exact = new Set<string>();
  const regexps: RegExp[] = [];
  for (const pattern of patterns) {
    if (!isRegexValue(pattern)) {
      exact.add(pattern);
      continue;
    }
    try {
      regexps.push(compileRegexValue(pattern));
    } catch (error) {
      throw new ConfigError(`imageSpec.config.${what}: invalid regular expression ${JSON.stringify(pattern)}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return (key) => exact.has(key) || regexps.some((re) => re.test(key));
}

function setOrDelete<K extends string>(target: Record<string, unknown>, key: K, value: unknown, empty: boolean): void {
  if (empty) delete target[key];
  else target[key] = value;
}

/**
 * Apply `spec` to `config` in place, as werf's ImageSpecStage.PrepareImage and image.UpdateConfigFile do. The
 * config's labels already hold the new stage's service labels (werf merges them in before removing).
 */
export function applyImageSpec(config: ImageConfig, spec: ImageSpec, context: ImageSpecContext): AppliedImageSpec {
  const c = containerConfig(config) as Record<string, unknown> & ReturnType<typeof containerConfig>;
  let essentialLabelsWarning = false;

  // Labels: remove (the essential ones never), then add the rendered ones over them.
  const removeLabel = keyMatcher(spec.removeLabels, 'removeLabels');
  const labels = new Map(Object.entries(c.Labels ?? {}));
  for (const key of [...labels.keys()]) {
    if (!removeLabel(key)) continue;
    if (ESSENTIAL_LABELS.includes(key)) {
      if (!spec.keepEssentialWerfLabels) essentialLabelsWarning = true;
      continue;
    }
    labels.delete(key);
  }
  for (const [key, value] of renderLabels(spec.labels, context)) labels.set(key, value);
  setOrDelete(c, 'Labels', Object.fromEntries(labels), labels.size === 0);

  // Env: entries without `=` are dropped, as werf's map drops them; added values expand against the original env.
  const original = c.Env ?? [];
  const env = new Map<string, string>();
  for (const entry of original) {
    const at = entry.indexOf('=');
    if (at >= 0) env.set(entry.slice(0, at), entry.slice(at + 1));
  }
  const expansionEnv = new Map(env);
  const removeEnv = keyMatcher([...spec.removeEnv, ...ALWAYS_REMOVED_ENV], 'removeEnv');
  for (const key of [...env.keys()]) if (removeEnv(key)) env.delete(key);
  if (env.get('SSH_AUTH_SOCK') === WERF_SSH_AUTH_SOCK) env.delete('SSH_AUTH_SOCK');
  for (const [key, value] of Object.entries(spec.env).sort(([a], [b]) => compare(a, b))) {
    let expanded: string;
    try {
      expanded = expandWord(value, expansionEnv);
    } catch (error) {
      throw new ConfigError(`imageSpec.config.env: ${key}: cannot expand ${JSON.stringify(value)}: ${error instanceof Error ? error.message : String(error)}`);
    }
    env.set(key, expanded);
  }
  setOrDelete(c, 'Env', [...env].map(([k, v]) => `${k}=${v}`), env.size === 0);

  // Volumes: removed by exact path, then added.
  const volumes = new Map(Object.entries(c.Volumes ?? {}));
  for (const volume of spec.removeVolumes) volumes.delete(volume);
  for (const volume of spec.volumes) volumes.set(volume, {});
  setOrDelete(c, 'Volumes', Object.fromEntries(volumes), volumes.size === 0);

  // Expose: when set (even to an empty list), the ports are exactly these.
  if (spec.expose !== undefined) {
    const ports = Object.fromEntries(spec.expose.map((port) => [port, {}]));
    setOrDelete(c, 'ExposedPorts', ports, spec.expose.length === 0);
  }

  // Healthcheck: seconds become Go durations (nanoseconds); zero values are left out (omitempty).
  if (spec.healthcheck !== undefined) {
    const h = spec.healthcheck;
    const health: Record<string, unknown> = {};
    if (h.test.length > 0) health.Test = [...h.test];
    if (h.interval) health.Interval = h.interval * 1e9;
    if (h.timeout) health.Timeout = h.timeout * 1e9;
    if (h.startPeriod) health.StartPeriod = h.startPeriod * 1e9;
    if (h.retries) health.Retries = h.retries;
    c.Healthcheck = health;
  }

  // UpdateConfigFile.
  if (spec.author) config.author = spec.author;
  if (spec.clearHistory) delete config.history;
  if (spec.clearUser) delete c.User;
  if (spec.user) c.User = spec.user;
  // An entrypoint set without a cmd drops the inherited cmd, as Docker's ENTRYPOINT does.
  const clearCmd = (spec.entrypoint !== undefined && spec.cmd === undefined) || spec.clearCmd;
  if (clearCmd) delete c.Cmd;
  if (spec.cmd !== undefined && spec.cmd.length > 0) c.Cmd = [...spec.cmd];
  if (spec.clearEntrypoint) delete c.Entrypoint;
  if (spec.entrypoint !== undefined && spec.entrypoint.length > 0) c.Entrypoint = [...spec.entrypoint];
  if (spec.clearWorkingDir) delete c.WorkingDir;
  if (spec.workingDir) c.WorkingDir = spec.workingDir;
  if (spec.stopSignal) c.StopSignal = spec.stopSignal;
  return { essentialLabelsWarning };
}
