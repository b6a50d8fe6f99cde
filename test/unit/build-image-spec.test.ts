// werf's imageSpec stage on a config (src/builder/image-spec.ts), case by case against werf's image_spec.go and
// image.UpdateConfigFile; the spec_mutation fixture end to end is in test/integration/image-spec.test.ts.
import { describe, expect, it } from 'vitest';
import { ESSENTIAL_LABELS, applyImageSpec, imageSpecDependencies, renderLabelTemplate } from '../../src/builder/image-spec.js';
import type { ImageSpec } from '../../src/config/werf-config.js';
import { ConfigError } from '../../src/errors.js';
import type { ImageConfig } from '../../src/oci/index.js';

const CONTEXT = { project: 'demo-app', image: 'backend' };

function spec(overrides: Partial<ImageSpec> = {}): ImageSpec {
  return {
    author: undefined, clearHistory: false, keepEssentialWerfLabels: false, clearWerfLabels: false, removeLabels: [], removeVolumes: [],
    removeEnv: [], clearCmd: false, clearEntrypoint: false, clearUser: false, clearWorkingDir: false, volumes: [], labels: {}, env: {},
    expose: undefined, user: undefined, cmd: undefined, entrypoint: undefined, workingDir: undefined, stopSignal: undefined,
    healthcheck: undefined, ...overrides,
  };
}

function image(config: Record<string, unknown> = {}, extra: Partial<ImageConfig> = {}): ImageConfig {
  return { architecture: 'amd64', os: 'linux', config: structuredClone(config), history: [{ created_by: 'x' }], ...extra };
}

describe('applyImageSpec', () => {
  it('an empty spec changes nothing but werf\'s commit variables and entries without =', () => {
    const config = image({ Env: ['PATH=/bin', 'WERF_COMMIT_HASH=abc', 'BROKEN', 'A=1'], Cmd: ['x'], Labels: { a: 'b' } });
    applyImageSpec(config, spec(), CONTEXT);
    expect(config.config).toEqual({ Env: ['PATH=/bin', 'A=1'], Cmd: ['x'], Labels: { a: 'b' } });
    expect(config.history).toHaveLength(1);
  });

  it('env: removal by name and /regex/ (anchored), additions expanded against the original env, order kept', () => {
    const config = image({ Env: ['PATH=/usr/bin', 'APP_ENV=test', 'MY_APP_X=1', 'REMOVE=me', 'HOME=/home'] });
    applyImageSpec(config, spec({ removeEnv: ['/APP_.*/', 'REMOVE'], env: { PATH: '${PATH}:/add', ZED: '$APP_ENV', ADD: 'me' } }), CONTEXT);
    // /APP_.*/ is ^APP_.*$: MY_APP_X stays. The removed APP_ENV still expands (werf expands against the original env).
    expect(config.config!.Env).toEqual(['PATH=/usr/bin:/add', 'MY_APP_X=1', 'HOME=/home', 'ADD=me', 'ZED=test']);
  });

  it('env: removing everything leaves no Env (omitempty)', () => {
    const config = image({ Env: ['A=1'] });
    applyImageSpec(config, spec({ removeEnv: ['/.*/'] }), CONTEXT);
    expect(config.config).not.toHaveProperty('Env');
  });

  it('SSH_AUTH_SOCK pointing at werf\'s agent socket is removed, another value stays', () => {
    const a = image({ Env: ['SSH_AUTH_SOCK=/.werf/tmp/ssh-auth-sock'] });
    const b = image({ Env: ['SSH_AUTH_SOCK=/run/agent'] });
    applyImageSpec(a, spec(), CONTEXT);
    applyImageSpec(b, spec(), CONTEXT);
    expect(a.config!.Env).toBeUndefined();
    expect(b.config!.Env).toEqual(['SSH_AUTH_SOCK=/run/agent']);
  });

  it('labels: essential ones survive removal (with the warning unless keepEssentialWerfLabels), added ones are rendered', () => {
    const labels = Object.fromEntries([...ESSENTIAL_LABELS.map((l) => [l, 'v']), ['slipway-version', '1'], ['keep', 'x'], ['drop.me', 'y']]);
    const config = image({ Labels: labels });
    const result = applyImageSpec(config, spec({ removeLabels: ['/slipway.*/', 'drop.me'], labels: { '%image%.name': '%project%/%image%', plain: '100' } }), CONTEXT);
    expect(result.essentialLabelsWarning).toBe(true);
    expect(config.config!.Labels).toEqual({ ...Object.fromEntries(ESSENTIAL_LABELS.map((l) => [l, 'v'])), keep: 'x', 'backend.name': 'demo-app/backend', plain: '100' });
    const kept = image({ Labels: labels });
    expect(applyImageSpec(kept, spec({ removeLabels: ['/.*/'], keepEssentialWerfLabels: true }), CONTEXT).essentialLabelsWarning).toBe(false);
    expect(Object.keys(kept.config!.Labels!).sort()).toEqual([...ESSENTIAL_LABELS].sort());
  });

  it('labels: an added label may overwrite an essential one, as in werf', () => {
    const config = image({ Labels: { slipway: 'demo-app' } });
    applyImageSpec(config, spec({ labels: { slipway: 'other' } }), CONTEXT);
    expect(config.config!.Labels).toEqual({ slipway: 'other' });
  });

  it('volumes: exact removal (no regex), then additions', () => {
    const config = image({ Volumes: { '/a': {}, '/b': {} } });
    applyImageSpec(config, spec({ removeVolumes: ['/a', '/.*/'], volumes: ['/c'] }), CONTEXT);
    expect(config.config!.Volumes).toEqual({ '/b': {}, '/c': {} });
  });

  it('expose: absent keeps the ports; a list replaces them; [] clears them', () => {
    const ports = { '80/tcp': {} };
    const kept = image({ ExposedPorts: ports });
    applyImageSpec(kept, spec(), CONTEXT);
    expect(kept.config!.ExposedPorts).toEqual(ports);
    const replaced = image({ ExposedPorts: ports });
    applyImageSpec(replaced, spec({ expose: ['99', ''] }), CONTEXT);
    expect(replaced.config!.ExposedPorts).toEqual({ 99: {}, '': {} });
    const cleared = image({ ExposedPorts: ports });
    applyImageSpec(cleared, spec({ expose: [] }), CONTEXT);
    expect(cleared.config).not.toHaveProperty('ExposedPorts');
  });

  it('cmd and entrypoint: an entrypoint alone clears the cmd; clear flags; empty lists set nothing', () => {
    const base = { Cmd: ['--noop'], Entrypoint: ['/bin/true'] };
    const entrypointOnly = image(base);
    applyImageSpec(entrypointOnly, spec({ entrypoint: ['/bin/test'] }), CONTEXT);
    expect(entrypointOnly.config).toEqual({ Entrypoint: ['/bin/test'] });
    const both = image(base);
    applyImageSpec(both, spec({ entrypoint: ['e'], cmd: ['c'] }), CONTEXT);
    expect(both.config).toEqual({ Entrypoint: ['e'], Cmd: ['c'] });
    // werf's quirk: `entrypoint: []` is set but empty: it clears the cmd and leaves the entrypoint.
    const emptyEntrypoint = image(base);
    applyImageSpec(emptyEntrypoint, spec({ entrypoint: [] }), CONTEXT);
    expect(emptyEntrypoint.config).toEqual({ Entrypoint: ['/bin/true'] });
    const cleared = image(base);
    applyImageSpec(cleared, spec({ clearCmd: true, clearEntrypoint: true }), CONTEXT);
    expect(cleared.config).toEqual({});
  });

  it('user, workingDir, stopSignal, author, history and healthcheck', () => {
    const config = image({ User: 'nobody', WorkingDir: '/w', StopSignal: 'SIGTERM' }, { author: 'name' });
    applyImageSpec(config, spec({
      clearUser: true, clearWorkingDir: true, stopSignal: 'SIGINT', author: 'me', clearHistory: true,
      healthcheck: { test: ['CMD', 'true'], interval: 30, timeout: undefined, startPeriod: 5, retries: 0 },
    }), CONTEXT);
    expect(config.author).toBe('me');
    expect(config).not.toHaveProperty('history');
    expect(config.config).toEqual({ StopSignal: 'SIGINT', Healthcheck: { Test: ['CMD', 'true'], Interval: 30e9, StartPeriod: 5e9 } });
    const set = image({ User: 'nobody' }, { author: 'name' });
    applyImageSpec(set, spec({ user: 'app', workingDir: '/app', author: '' }), CONTEXT);
    expect(set.author).toBe('name');
    expect(set.config).toEqual({ User: 'app', WorkingDir: '/app' });
  });

  it('names the input when a /regex/ or a label template is invalid', () => {
    expect(() => applyImageSpec(image(), spec({ removeEnv: ['/(/'] }), CONTEXT)).toThrow(/imageSpec\.config\.removeEnv: invalid regular expression "\/\(\/"/);
    expect(() => applyImageSpec(image(), spec({ labels: { a: '100%' } }), CONTEXT)).toThrow(ConfigError);
    expect(() => applyImageSpec(image(), spec({ labels: { a: '100%' } }), CONTEXT)).toThrow(/label "a": cannot render "100%": unclosed action/);
  });
});

describe('renderLabelTemplate', () => {
  it('renders werf\'s two functions and fields, with surrounding spaces, and html/template\'s escaping of their values', () => {
    expect(renderLabelTemplate('%image%-% project %-%.Image%-%.Project%', CONTEXT, 'k')).toBe('backend-demo-app-backend-demo-app');
    expect(renderLabelTemplate('no template', CONTEXT, 'k')).toBe('no template');
    expect(renderLabelTemplate('%image%', { project: 'p', image: 'a+b' }, 'k')).toBe('a&#43;b');
    expect(() => renderLabelTemplate('%env%', CONTEXT, 'k')).toThrow(/"env" not defined/);
  });
});

describe('imageSpecDependencies', () => {
  it('changes with what werf\'s GetDependencies lists; clearWerfLabels (no effect) does not enter', () => {
    const base = imageSpecDependencies(spec(), CONTEXT);
    expect(imageSpecDependencies(spec({ clearWerfLabels: true }), CONTEXT)).toEqual(base);
    for (const change of [
      { author: 'a' }, { clearHistory: true }, { cmd: ['x'] }, { env: { A: '1' } }, { expose: ['1'] }, { stopSignal: 'S' },
      { healthcheck: { test: [], interval: 1, timeout: undefined, startPeriod: undefined, retries: undefined } },
      { labels: { a: '1' } }, { removeLabels: ['a'] }, { removeVolumes: ['/a'] }, { removeEnv: ['A'] }, { keepEssentialWerfLabels: true },
      { clearCmd: true }, { clearEntrypoint: true }, { clearUser: true }, { clearWorkingDir: true }, { volumes: ['/v'] }, { workingDir: '/w' }, { user: 'u' },
    ] satisfies Partial<ImageSpec>[]) {
      expect(imageSpecDependencies(spec(change), CONTEXT), JSON.stringify(change)).not.toEqual(base);
    }
    // Sorted as werf sorts: the order in werf.yaml does not matter; a %image% label differs per image.
    expect(imageSpecDependencies(spec({ volumes: ['/b', '/a'] }), CONTEXT)).toEqual(imageSpecDependencies(spec({ volumes: ['/a', '/b'] }), CONTEXT));
    expect(imageSpecDependencies(spec({ labels: { a: '%image%' } }), CONTEXT)).not.toEqual(imageSpecDependencies(spec({ labels: { a: '%image%' } }), { ...CONTEXT, image: 'other' }));
  });
});
