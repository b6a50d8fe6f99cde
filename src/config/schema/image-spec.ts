// imageSpec (meta build.imageSpec and per image): author, labels, env, volumes, healthcheck, ...; and how a
// per-image imageSpec merges over the meta one.

import type { Healthcheck, ImageSpec } from '../werf-config.js';
import { DocumentContext } from './context.js';
import { isRegexValue } from '../../text/regex-value.js';
import { referenceMatcher } from './rules.js';
import { MapView } from './yaml-view.js';

// ---------------------------------------------------------------------------------------------------------
// imageSpec

function emptyImageSpec(): ImageSpec {
  return {
    author: undefined,
    clearHistory: false,
    keepEssentialWerfLabels: false,
    clearWerfLabels: false,
    removeLabels: [],
    removeVolumes: [],
    removeEnv: [],
    clearCmd: false,
    clearEntrypoint: false,
    clearUser: false,
    clearWorkingDir: false,
    volumes: [],
    labels: {},
    env: {},
    expose: undefined,
    user: undefined,
    cmd: undefined,
    entrypoint: undefined,
    workingDir: undefined,
    stopSignal: undefined,
    healthcheck: undefined,
  };
}

function readRegexOrStringList(view: MapView, key: string, cx: DocumentContext): string[] {
  const values = view.strList(key) ?? [];
  const items = view.has(key) ? (cx.reader.list(view.get(key) ?? null, view.pathOf(key)) ?? []) : [];
  values.forEach((value, index) => {
    if (isRegexValue(value) && referenceMatcher(value) === undefined) {
      cx.report(items[index]?.node, [...view.pathOf(key), index], `invalid regular expression ${JSON.stringify(value)}`);
    }
  });
  return values;
}

function readHealthcheck(view: MapView): Healthcheck {
  const healthcheck: Healthcheck = {
    test: view.strList('test') ?? [],
    interval: view.int('interval', 0),
    timeout: view.int('timeout', 0),
    startPeriod: view.int('startperiod', 0),
    retries: view.int('retries', 0),
  };
  view.reportUnknownKeys((key) =>
    key === 'startPeriod' ? 'unknown key "startPeriod": werf reads this value from "startperiod" (all lower case)' : undefined,
  );
  return healthcheck;
}

/** `build.imageSpec` (global: fewer keys) or an image's `imageSpec`. */
export function readImageSpec(view: MapView, cx: DocumentContext, global: boolean): ImageSpec {
  const spec = emptyImageSpec();
  spec.author = view.str('author');
  spec.clearHistory = view.bool('clearHistory') ?? false;
  const config = view.map('config');
  if (config !== undefined) {
    spec.keepEssentialWerfLabels = config.bool('keepEssentialWerfLabels') ?? false;
    spec.clearWerfLabels = config.bool('clearWerfLabels') ?? false;
    spec.removeLabels = readRegexOrStringList(config, 'removeLabels', cx);
    spec.labels = config.strMap('labels') ?? {};
    if (global) {
      config.reportUnknownKeys((key) =>
        PER_IMAGE_SPEC_KEYS.includes(key)
          ? `unknown key ${JSON.stringify(key)}: only keepEssentialWerfLabels, clearWerfLabels, removeLabels and labels can be set for all images; set ${key} in an image's imageSpec`
          : undefined,
      );
    } else {
      spec.removeVolumes = config.strList('removeVolumes') ?? [];
      spec.removeEnv = readRegexOrStringList(config, 'removeEnv', cx);
      spec.clearCmd = config.bool('clearCmd') ?? false;
      spec.clearEntrypoint = config.bool('clearEntrypoint') ?? false;
      spec.clearUser = config.bool('clearUser') ?? false;
      spec.clearWorkingDir = config.bool('clearWorkingDir') ?? false;
      spec.volumes = config.strList('volumes') ?? [];
      spec.env = config.strMap('env') ?? {};
      spec.expose = config.strList('expose');
      spec.user = config.str('user');
      spec.cmd = config.strList('cmd');
      spec.entrypoint = config.strList('entrypoint');
      spec.workingDir = config.str('workingDir');
      spec.stopSignal = config.str('stopSignal');
      const healthcheck = config.map('healthcheck');
      spec.healthcheck = healthcheck === undefined ? undefined : readHealthcheck(healthcheck);
      config.reportUnknownKeys();
    }
  }
  view.reportUnknownKeys();
  return spec;
}

const PER_IMAGE_SPEC_KEYS = [
  'removeVolumes',
  'removeEnv',
  'clearCmd',
  'clearEntrypoint',
  'clearUser',
  'clearWorkingDir',
  'volumes',
  'env',
  'expose',
  'user',
  'cmd',
  'entrypoint',
  'workingDir',
  'stopSignal',
  'healthcheck',
];

/** werf's mergeImageSpec: the meta `build.imageSpec` applied to a final image's own. */
export function mergeImageSpec(meta: ImageSpec, image: ImageSpec | undefined): ImageSpec {
  const merged: ImageSpec = image === undefined ? emptyImageSpec() : structuredClone(image);
  if (meta.author !== undefined && meta.author !== '') merged.author = meta.author;
  if (meta.clearHistory) merged.clearHistory = true;
  if (meta.keepEssentialWerfLabels) merged.keepEssentialWerfLabels = true;
  merged.labels = { ...merged.labels, ...meta.labels };
  for (const label of meta.removeLabels) if (!merged.removeLabels.includes(label)) merged.removeLabels.push(label);
  return merged;
}
