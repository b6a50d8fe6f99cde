import { describe, expect, it } from 'vitest';
import { murmur3x86_32, murmurHex } from '../../src/text/murmur.js';
import {
  DEFAULT_SLUG_MAX_SIZE,
  DOCKER_TAG_MAX_SIZE,
  dockerTag,
  HELM_RELEASE_MAX_SIZE,
  helmRelease,
  isValidDockerTag,
  KUBERNETES_NAMESPACE_MAX_SIZE,
  kubernetesNamespace,
  limitedSlug,
  project,
  slug,
  slugify,
} from '../../src/text/slug.js';
import { SLUG_CHARMAP } from '../../src/text/slug-charmap.js';

describe('murmurHex (werf LegacyMurmurHash)', () => {
  it('reproduces the reference values: lowercase hex, no padding', () => {
    expect(murmurHex('backend')).toBe('27dba8ed');
    expect(murmurHex('A')).toBe('54dcf7ce');
    expect(murmurHex('da/ta')).toBe('afa96f8');
    expect(murmurHex('')).toBe('0');
    expect(murmurHex()).toBe('0');
  });

  it('joins several arguments with :::', () => {
    expect(murmurHex('a', 'b')).toBe(murmurHex('a:::b'));
    expect(murmurHex('a', 'b')).not.toBe(murmurHex('ab'));
  });

  it('hashes UTF-8 bytes and every tail length', () => {
    expect(murmurHex('Привет')).toBe(murmur3x86_32(Buffer.from('Привет', 'utf8')).toString(16));
    // MurmurHash3_x86_32 reference vectors (seed 0 and others).
    expect(murmur3x86_32(new Uint8Array([]), 1)).toBe(0x514e28b7);
    expect(murmur3x86_32(new Uint8Array([]), 0xffffffff)).toBe(0x81f16f39);
    expect(murmur3x86_32(new Uint8Array([0xff, 0xff, 0xff, 0xff]), 0)).toBe(0x76293b50);
    expect(murmur3x86_32(new Uint8Array([0x21, 0x43, 0x65, 0x87]), 0)).toBe(0xf55b516b);
    expect(murmur3x86_32(new Uint8Array([0x21, 0x43, 0x65]), 0)).toBe(0x7e4a8634);
    expect(murmur3x86_32(new Uint8Array([0x21, 0x43]), 0)).toBe(0xa0f7b07a);
    expect(murmur3x86_32(new Uint8Array([0x21]), 0)).toBe(0x72661cf4);
    expect(murmur3x86_32(Buffer.from('Hello, world!'), 1234)).toBe(0xfaf6cdb3);
    expect(murmur3x86_32(Buffer.from('The quick brown fox jumps over the lazy dog'), 0)).toBe(0x2e4ff723);
  });
});

describe('the slug character table', () => {
  it('has werf’s 971 entries, all single code points mapping to ASCII', () => {
    const entries = Object.entries(SLUG_CHARMAP);
    expect(entries).toHaveLength(971);
    for (const [input, output] of entries) {
      expect([...input]).toHaveLength(1);
      expect(output).toMatch(/^[a-z0-9-]*$/);
    }
    expect(SLUG_CHARMAP['Щ']).toBe('shch');
    expect(SLUG_CHARMAP['Ъ']).toBe('');
    expect(SLUG_CHARMAP['⒑']).toBe('10');
  });
});

describe('slugify', () => {
  it.each([
    ['', ''],
    ['backend', 'backend'],
    ['Backend_API', 'backend-api'],
    ['frontend/app', 'frontend-app'],
    ['-leading', 'leading'],
    ['trailing-', 'trailing'],
    ['trailing--', 'trailing'],
    ['a--b', 'a-b'],
    ['a-!-b', 'a-b'],
    ['--', ''],
    ['!@#', ''],
    ['über-service', 'uber-service'],
    ['Привет', 'privyet'],
    ['Съешь ещё', 'syesh-yeshchyo'],
    ['ÆßÞŒİı', 'aebthoell'],
    ['²³µ', '23u'],
    ['app@1', 'app1'],
    ['release/1.2.3', 'release-1-2-3'],
    ['__init__', 'init'],
    ['tab\there', 'tabhere'],
    ['＿～', ''],
    ['a＿b～c', 'a-b-c'],
  ])('%j → %j', (input, expected) => {
    expect(slugify(input)).toBe(expected);
  });

  it('has no length limit and no hash', () => {
    expect(slugify('X'.repeat(300))).toBe('x'.repeat(300));
  });
});

describe('slug(data, max)', () => {
  it('hashes the original data and crops the slug to leave room for it', () => {
    expect(slug('A', 42)).toBe('a-54dcf7ce');
    expect(slug('!!!', 42)).toBe(murmurHex('!!!'));
    expect(slug('x'.repeat(50), 20)).toBe(`${'x'.repeat(20 - 9)}-${murmurHex('x'.repeat(50))}`);
  });

  it('keeps the quirk: a crop ending in a dash gives -- before the hash', () => {
    // werf's own test vectors (LimitedSlug with max 48).
    expect(slug('postgres-feature-31981-change-delivery-date-del-result', 48)).toBe('postgres-feature-31981-change-delivery--852739dc');
    expect(slug('php_fpm_exporter-monitoring-dev-encrypt-1', 48)).toBe('php-fpm-exporter-monitoring-dev-encrypt--83286e5');
  });
});

describe('worked examples (werf export tags)', () => {
  it.each([
    ['backend', 'backend', 'backend'],
    ['Backend_API', 'backend-api', 'Backend_API'],
    ['frontend/app', 'frontend-app', 'frontend-app-a5320b24'],
    ['app.v2', 'app-v2', 'app.v2'],
    ['my image', 'my-image', 'my-image-b52b6d27'],
    ['-leading', 'leading', 'leading-f7525074'],
    ['a--b', 'a-b', 'a--b'],
    ['über-service', 'uber-service', 'uber-service-f195846b'],
    ['Привет', 'privyet', 'privyet-29a2eec8'],
    ['app@1', 'app1', 'app1-ab776093'],
    ['release/1.2.3', 'release-1-2-3', 'release-1-2-3-bdff4012'],
    ['__init__', 'init', '__init__'],
    ['', '', ''],
  ])('%j: %%image_slug%% %j, %%image_safe_slug%% %j', (name, imageSlug, safeSlug) => {
    expect(slugify(name)).toBe(imageSlug);
    expect(dockerTag(name)).toBe(safeSlug);
  });

  it('130 × x: unchanged slug, a 128-character safe slug', () => {
    const name = 'x'.repeat(130);
    expect(slugify(name)).toBe(name);
    const safe = dockerTag(name);
    expect(safe).toBe(`${'x'.repeat(119)}-42b993b8`);
    expect(safe).toHaveLength(128);
  });
});

// werf's pkg/slug/slug_test.go.
function expectIdempotent(fn: (s: string) => string, data: string): void {
  const first = fn(data);
  expect(fn(first)).toBe(first);
}

describe("werf's slug unit tests", () => {
  it.each([
    ['', undefined, ''],
    ['data', undefined, 'data'],
    ['A', undefined, 'a-54dcf7ce'],
    ['x'.repeat(DEFAULT_SLUG_MAX_SIZE + 1), undefined, `${'x'.repeat(DEFAULT_SLUG_MAX_SIZE - 9)}-27e2f02f`],
    ['postgres-feature-31981-change-delivery-date-del-result', 48, 'postgres-feature-31981-change-delivery--852739dc'],
    ['php_fpm_exporter-monitoring-dev-encrypt-1', 48, 'php-fpm-exporter-monitoring-dev-encrypt--83286e5'],
  ])('LimitedSlug(%j, %j) = %j', (data, max, expected) => {
    const maxSize = max ?? DEFAULT_SLUG_MAX_SIZE;
    const result = max === undefined ? limitedSlug(data) : limitedSlug(data, max);
    expect(result).toBe(expected);
    expect(result.length).toBeLessThanOrEqual(maxSize);
    expectIdempotent((s) => limitedSlug(s, maxSize), data);
  });

  it.each([
    ['', ''],
    ['-data', 'data-a871d86e'],
    ['da/ta', 'da-ta-afa96f8'],
    ['x'.repeat(DOCKER_TAG_MAX_SIZE + 1), `${'x'.repeat(DOCKER_TAG_MAX_SIZE - 9)}-8cca70eb`],
  ])('DockerTag(%j) = %j', (data, expected) => {
    expect(dockerTag(data)).toBe(expected);
    expect(dockerTag(data).length).toBeLessThanOrEqual(DOCKER_TAG_MAX_SIZE);
    expectIdempotent(dockerTag, data);
  });

  it.each([
    ['', ''],
    ['data', 'data'],
    ['release.name', 'release.name'],
    ['-data', 'data-a871d86e'],
    ['da/ta', 'da-ta-afa96f8'],
    ['x'.repeat(HELM_RELEASE_MAX_SIZE + 1), `${'x'.repeat(HELM_RELEASE_MAX_SIZE - 9)}-18c5dfb9`],
  ])('HelmRelease(%j) = %j', (data, expected) => {
    expect(helmRelease(data)).toBe(expected);
    expect(helmRelease(data).length).toBeLessThanOrEqual(HELM_RELEASE_MAX_SIZE);
    expectIdempotent(helmRelease, data);
  });

  it.each([
    ['', ''],
    ['data', 'data'],
    ['da_ta', 'da-ta-3b339d14'],
    ['kubernetes.namespace', 'kubernetes-namespace-1507f75c'],
    ['x'.repeat(KUBERNETES_NAMESPACE_MAX_SIZE + 1), `${'x'.repeat(KUBERNETES_NAMESPACE_MAX_SIZE - 9)}-afd4efcd`],
  ])('KubernetesNamespace(%j) = %j', (data, expected) => {
    expect(kubernetesNamespace(data)).toBe(expected);
    expect(kubernetesNamespace(data).length).toBeLessThanOrEqual(KUBERNETES_NAMESPACE_MAX_SIZE);
    expectIdempotent(kubernetesNamespace, data);
  });

  it("matches the examples of werf's `slugify` help", () => {
    expect(kubernetesNamespace('feature-fix-2')).toBe('feature-fix-2');
    expect(kubernetesNamespace('branch/one/!@#4.4-3')).toBe('branch-one-4-4-3-4fe08955');
    expect(kubernetesNamespace('My_branch')).toBe('my-branch-8ebf2d1d');
    expect(helmRelease('looooooooooooooooooooooooooooooooooooooooooong_string')).toBe(
      'looooooooooooooooooooooooooooooooooooooooooo-b150a895',
    );
    expect(dockerTag('helo/ehlo')).toBe('helo-ehlo-b6f6ab1f');
    expect(dockerTag('16.04')).toBe('16.04');
  });
});

describe('the other wrappers', () => {
  it('isValidDockerTag: ASCII word start, word characters, dots and dashes, at most 128', () => {
    expect(isValidDockerTag('')).toBe(true);
    expect(isValidDockerTag('Backend_API')).toBe(true);
    expect(isValidDockerTag('_x')).toBe(true);
    expect(isValidDockerTag('.x')).toBe(false);
    expect(isValidDockerTag('über')).toBe(false);
    expect(isValidDockerTag('x'.repeat(128))).toBe(true);
    expect(isValidDockerTag('x'.repeat(129))).toBe(false);
  });

  it('limitedSlug keeps a slug with one legacy -- and slugs one with two', () => {
    expect(limitedSlug('abc--def')).toBe('abc--def');
    expect(limitedSlug('a--b--c')).toBe(slug('a--b--c', DEFAULT_SLUG_MAX_SIZE));
    expect(limitedSlug('x'.repeat(42))).toBe('x'.repeat(42));
  });

  it('kubernetesNamespace rejects uppercase and dots; helmRelease allows dots, not uppercase', () => {
    expect(kubernetesNamespace('Data')).toBe(`data-${murmurHex('Data')}`);
    expect(helmRelease('my_release-NAME')).toBe(`my-release-name-${murmurHex('my_release-NAME')}`);
    expect(helmRelease('a.b.c')).toBe('a.b.c');
    expect(helmRelease('a..b')).toBe(`a-b-${murmurHex('a..b')}`);
  });

  it('project: unchanged when valid, else slugify cut to 50 with no hash', () => {
    expect(project('my-project')).toBe('my-project');
    expect(project('')).toBe('');
    expect(project('My_Project')).toBe('my-project');
    expect(project('x'.repeat(50))).toBe('x'.repeat(50));
    expect(project('X'.repeat(60))).toBe('x'.repeat(50));
    expect(project(`${'a'.repeat(49)}_b`)).toBe(`${'a'.repeat(49)}-`);
  });
});
