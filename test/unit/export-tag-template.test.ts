import { describe, expect, it } from 'vitest';
import { ConflictError, InvalidInputError, SlipwayError, UsageError } from '../../src/errors.js';
import {
  CONTENT_BASED_TAG_STUB,
  destinationFor,
  formatDestination,
  noTagTemplatesError,
  parseDestination,
  parseTagTemplate,
  renderDestination,
  renderTagTemplate,
  requireTagTemplates,
  usesContentBasedTag,
  usesImageName,
  validateTagTemplates,
} from '../../src/export/tag-template.js';
import { dockerTag } from '../../src/text/slug.js';
import { errorOf } from '../support/errors.js';

const C = '2604b86b2c7a1c6d19c62601aadb19e7d5c6bb8f17bc2bf26a390ea7-1611836746968';
const MULTI = '27b6a44a7433422f2a73365a09a64f08bab8f8ffa6b9e06ce4ae34af';
const STAGES = { registry: 'reg.example.com', repository: 'proj/stages' };

function messageOf(fn: () => unknown): string {
  return errorOf(SlipwayError, fn).message;
}

describe('parseTagTemplate', () => {
  it('splits text and the four patterns', () => {
    expect(parseTagTemplate('reg.io/%image_slug%:%image_safe_slug%-%image_content_based_tag%_%image%').parts).toEqual([
      { kind: 'text', text: 'reg.io/' },
      { kind: 'pattern', pattern: 'image_slug' },
      { kind: 'text', text: ':' },
      { kind: 'pattern', pattern: 'image_safe_slug' },
      { kind: 'text', text: '-' },
      { kind: 'pattern', pattern: 'image_content_based_tag' },
      { kind: 'text', text: '_' },
      { kind: 'pattern', pattern: 'image' },
    ]);
    expect(parseTagTemplate('reg.io/app:latest').parts).toEqual([{ kind: 'text', text: 'reg.io/app:latest' }]);
    expect(parseTagTemplate('').parts).toEqual([]);
  });

  it('allows whitespace inside an action, as Go does', () => {
    expect(parseTagTemplate('a:% image %').parts).toEqual([
      { kind: 'text', text: 'a:' },
      { kind: 'pattern', pattern: 'image' },
    ]);
    expect(parseTagTemplate('a:%\timage_slug\n%').parts[1]).toEqual({ kind: 'pattern', pattern: 'image_slug' });
  });

  it("applies Go's trim markers", () => {
    expect(renderTagTemplate('reg.io/app:v-  %- image -%  -x', 'b', C)).toBe('reg.io/app:v-b-x');
    expect(renderTagTemplate('a %- image%', 'b', C)).toBe('ab');
    expect(renderTagTemplate('%image -% a', 'b', C)).toBe('ba');
  });

  it.each([
    ['reg.io/x:%foo%', 'template: --tag:1: function "foo" not defined'],
    ['reg.io/x:%Image%', 'template: --tag:1: function "Image" not defined'],
    ['reg.io/x:% image_name %', 'template: --tag:1: function "image_name" not defined'],
    ['reg.io/x:%image foo%', 'template: --tag:1: function "foo" not defined'],
    ['reg.io/x:%image', 'template: --tag:1: unclosed action'],
    ['reg.io/x:%image%%', 'template: --tag:1: unclosed action'],
    ['50%', 'template: --tag:1: unclosed action'],
    ['reg.io/x:%%', 'template: --tag:1: missing value for command'],
    ['reg.io/x:% %', 'template: --tag:1: missing value for command'],
    ['reg.io/x:%- -%', 'template: --tag:1: missing value for command'],
    ['a\nb:%foo%', 'template: --tag:2: function "foo" not defined'],
  ])('rejects %j: %s', (raw, reason) => {
    const error = errorOf(SlipwayError, () => parseTagTemplate(raw));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(`invalid tag template ${JSON.stringify(raw)}: ${reason}`);
  });

  it.each(['%print%', '%"lit"%', '%1%', '%image | image_slug%', '%.Name%', '%$x%', '%/* c */%', '%if%', '%-image%', '%image image%'])(
    'rejects Go built-ins, literals, pipelines and the like: %j',
    (raw) => {
      expect(messageOf(() => parseTagTemplate(raw))).toMatch(
        /^invalid tag template ".*": template: --tag:1: unsupported action ".*": only %image%, %image_slug%, %image_safe_slug% and %image_content_based_tag% are supported$/,
      );
    },
  );

  it('quotes the template with Go %q', () => {
    expect(messageOf(() => parseTagTemplate('a"b\n%x%'))).toBe('invalid tag template "a\\"b\\n%x%": template: --tag:2: function "x" not defined');
  });

  it('tells which patterns a template uses', () => {
    expect(usesImageName(parseTagTemplate('r.io/a:%image_safe_slug%'))).toBe(true);
    expect(usesImageName(parseTagTemplate('r.io/a:%image_content_based_tag%'))).toBe(false);
    expect(usesContentBasedTag(parseTagTemplate('r.io/a:%image_content_based_tag%'))).toBe(true);
    expect(usesContentBasedTag(parseTagTemplate('r.io/a:%image%'))).toBe(false);
  });
});

describe('renderTagTemplate (cmd/werf/export/export.go)', () => {
  const template = 'reg.example.com/proj/%image_slug%:%image_safe_slug%-v1';

  it('renders the worked examples', () => {
    expect(renderTagTemplate(template, 'backend', C)).toBe('reg.example.com/proj/backend:backend-v1');
    expect(renderTagTemplate(template, 'Frontend_App', C)).toBe('reg.example.com/proj/frontend-app:Frontend_App-v1');
    expect(renderTagTemplate('ghcr.io/org/app:%image_content_based_tag%', 'backend', C)).toBe(`ghcr.io/org/app:${C}`);
    expect(renderTagTemplate('r.io/%image_slug%:%image_safe_slug%', 'frontend/app', C)).toBe('r.io/frontend-app:frontend-app-a5320b24');
    expect(renderTagTemplate('r.io/%image%:%image_safe_slug%', 'Привет', C)).toBe('r.io/Привет:privyet-29a2eec8');
  });

  it('uses the literal text for every image when there is no pattern', () => {
    expect(renderTagTemplate('ghcr.io/org/app:latest', 'a', C)).toBe('ghcr.io/org/app:latest');
    expect(renderTagTemplate('ghcr.io/org/app:latest', 'b', C)).toBe('ghcr.io/org/app:latest');
  });
});

describe('parseDestination and renderDestination', () => {
  it('normalises registry destinations, the tag defaulting to latest', () => {
    expect(parseDestination('reg.io/a/b:v1')).toEqual({
      kind: 'registry',
      reference: { registry: 'reg.io', repository: 'a/b', tag: 'v1' },
      text: 'reg.io/a/b:v1',
    });
    expect(formatDestination(parseDestination('registry-1.docker.io/org/app'))).toBe('index.docker.io/org/app:latest');
    expect(formatDestination(parseDestination('index.docker.io/app:1'))).toBe('index.docker.io/library/app:1');
    expect(formatDestination(parseDestination('docker://localhost:5000/app:1'))).toBe('localhost:5000/app:1');
  });

  it('accepts local OCI destinations', () => {
    expect(parseDestination('oci:/tmp/out:v1')).toEqual({ kind: 'oci', path: '/tmp/out', tag: 'v1', text: 'oci:/tmp/out:v1' });
    expect(parseDestination('oci:out')).toEqual({ kind: 'oci', path: 'out', tag: 'latest', text: 'oci:out' });
    expect(parseDestination('oci-archive:out/image.tar:a_b')).toEqual({
      kind: 'oci-archive',
      path: 'out/image.tar',
      tag: 'a_b',
      text: 'oci-archive:out/image.tar:a_b',
    });
    expect(formatDestination(parseDestination('oci:out'))).toBe('oci:out:latest');
  });

  it.each([
    ['myimage:tag', '"myimage:tag" names no registry host: write the registry, e.g. "index.docker.io/myimage:tag" for Docker Hub'],
    ['org/app:tag', '"org/app:tag" names no registry host: write the registry, e.g. "index.docker.io/org/app:tag" for Docker Hub'],
    ['docker.io/org/app:tag', '"docker.io/org/app:tag" writes Docker Hub as docker.io: werf requires the address "index.docker.io" for Docker Hub: write "index.docker.io/org/app:tag"'],
    ['docker://docker.io/app', '"docker://docker.io/app" writes Docker Hub as docker.io: werf requires the address "index.docker.io" for Docker Hub: write "docker://index.docker.io/app"'],
    ['reg.io/App:1', 'could not parse reference: reg.io/App:1: repository "App" must be lowercase (component "App")'],
    ['reg.io/app:bad tag', 'could not parse reference: reg.io/app:bad tag: tag "bad tag" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}'],
    [`reg.io/app@sha256:${'a'.repeat(64)}`, `could not parse reference: reg.io/app@sha256:${'a'.repeat(64)}: an export destination takes a tag, not a digest`],
    ['oci:', 'could not parse reference: oci:: write oci:DIR[:TAG]'],
    ['oci:out:bad tag', 'could not parse reference: oci:out:bad tag: tag "bad tag" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}'],
    ['oci-archive::v1', 'could not parse reference: oci-archive::v1: write oci-archive:FILE[:TAG]'],
  ])('rejects %j', (text, message) => {
    const error = errorOf(SlipwayError, () => parseDestination(text));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toBe(message);
  });

  it('renders a destination after the build, with the real content-based tag', () => {
    expect(renderDestination('reg.io/proj/%image%:%image_content_based_tag%', 'backend', C)).toEqual({
      kind: 'registry',
      reference: { registry: 'reg.io', repository: 'proj/backend', tag: C },
      text: `reg.io/proj/backend:${C}`,
    });
    expect(destinationFor('index.docker.io/org/app:%image%-%image_content_based_tag%', 'web', MULTI)).toBe(`index.docker.io/org/app:web-${MULTI}`);
    expect(dockerTag('a/b')).toMatch(/^a-b-[0-9a-f]{1,8}$/);
    expect(destinationFor(parseTagTemplate('oci:out:%image_safe_slug%'), 'a/b', C)).toBe(`oci:out:${dockerTag('a/b')}`);
    const error = errorOf(SlipwayError, () => renderDestination('reg.io/%image%:v', 'Upper', C));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      'invalid tag template "reg.io/%image%:v": could not parse reference: reg.io/Upper:v: repository "Upper" must be lowercase (component "Upper")',
    );
  });
});

describe('no --tag', () => {
  it("gives werf's error", () => {
    const message = 'required at least one tag template: use the --tag option to specify templates';
    expect(noTagTemplatesError()).toBeInstanceOf(UsageError);
    expect(noTagTemplatesError().message).toBe(message);
    expect(messageOf(() => requireTagTemplates([]))).toBe(message);
    expect(() => requireTagTemplates(['r.io/a:b'])).not.toThrow();
    expect(messageOf(() => validateTagTemplates([], ['a']))).toBe(message);
  });
});

describe('validateTagTemplates', () => {
  it('accepts the worked examples and returns the parsed templates in order', () => {
    const templates = ['reg.example.com/proj/%image_slug%:%image_safe_slug%-v1', 'ghcr.io/org/%image_slug%:%image_content_based_tag%'];
    const parsed = validateTagTemplates(templates, ['backend', 'Frontend_App']);
    expect(parsed.map((t) => t.raw)).toEqual(templates);
    expect(() => validateTagTemplates(['ghcr.io/org/app:%image_content_based_tag%'], ['backend'])).not.toThrow();
    expect(() => validateTagTemplates(['ghcr.io/org/app:latest'], ['only'])).not.toThrow();
    expect(() => validateTagTemplates(['ghcr.io/org/app:latest'], [])).not.toThrow();
    expect(() => validateTagTemplates(['index.docker.io/org/app:%image%', 'registry-1.docker.io/org/app2:%image%'], ['a'])).not.toThrow();
    expect(() => validateTagTemplates(['oci:out:%image%', 'oci-archive:out/%image%.tar'], ['a', 'b'])).not.toThrow();
  });

  it('rejects uppercase in the repository part (§2.4)', () => {
    const error = errorOf(SlipwayError, () => validateTagTemplates(['reg.example.com/proj/%image%:latest'], ['backend', 'Frontend_App']));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      'invalid tag template "reg.example.com/proj/%image%:latest": could not parse reference: reg.example.com/proj/Frontend_App:latest: ' +
        'repository "proj/Frontend_App" must be lowercase (component "Frontend_App")',
    );
  });

  it('renders with 70 × x as the content-based tag, as werf does', () => {
    expect(CONTENT_BASED_TAG_STUB).toBe('x'.repeat(70));
    // 59 + 70 = 129 characters: one too many for a tag.
    const long = `${'y'.repeat(59)}${'x'.repeat(70)}`;
    expect(messageOf(() => validateTagTemplates([`reg.io/a:${'y'.repeat(59)}%image_content_based_tag%`], ['a']))).toBe(
      `invalid tag template "reg.io/a:${'y'.repeat(59)}%image_content_based_tag%": could not parse reference: reg.io/a:${long}: ` +
        `tag "${long}" must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`,
    );
    expect(() => validateTagTemplates([`reg.io/a:${'y'.repeat(58)}%image_content_based_tag%`], ['a'])).not.toThrow();
  });

  it('rejects a destination without a registry host once per template, saying to write it', () => {
    const error = errorOf(SlipwayError, () => validateTagTemplates(['myimage:%image%'], ['a', 'b']));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      'invalid tag template "myimage:%image%": "myimage:a" names no registry host: export pushes to a registry, which must be ' +
        'written out, e.g. "index.docker.io/myimage:%image%" for Docker Hub (or oci:DIR[:TAG] for a local OCI layout)',
    );
    expect(messageOf(() => validateTagTemplates(['org/app:%image%'], ['a']))).toContain('"org/app:a" names no registry host');
  });

  it('rejects docker.io/... once per template, as werf does (Docker Hub is written index.docker.io)', () => {
    const error = errorOf(SlipwayError, () => validateTagTemplates(['docker.io/org/app:%image%'], ['a', 'b']));
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      'invalid tag template "docker.io/org/app:%image%": "docker.io/org/app:a" writes Docker Hub as docker.io: ' +
        'werf requires the address "index.docker.io" for Docker Hub: write "index.docker.io/org/app:%image%"',
    );
  });

  it("rejects one destination for several images with werf's message, naming them", () => {
    const error = errorOf(SlipwayError, () => validateTagTemplates(['ghcr.io/org/app:latest'], ['b', 'a']));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toBe(
      'invalid tag template "ghcr.io/org/app:latest": tag template must contain image name shortcut %image% or %image_slug% ' +
        'if multiple images are exported (e.g. REPO:TAG-%image% or REPO-%image%:TAG): images "a" and "b" would both be exported to "ghcr.io/org/app:latest"',
    );
    expect(messageOf(() => validateTagTemplates(['ghcr.io/org/app:%image_content_based_tag%'], ['c', 'a', 'b']))).toBe(
      'invalid tag template "ghcr.io/org/app:%image_content_based_tag%": tag template must contain image name shortcut %image% or %image_slug% ' +
        'if multiple images are exported (e.g. REPO:TAG-%image% or REPO-%image%:TAG): images "a", "b" and "c" would all be exported to ' +
        '"ghcr.io/org/app:%image_content_based_tag%"',
    );
  });

  it('detects every collision, not only with the first image, in name order', () => {
    // werf would miss this one: a_b and a-b collide, c (possibly first) does not.
    const error = errorOf(SlipwayError, () => validateTagTemplates(['reg.io/x:%image_slug%'], ['c', 'a_b', 'a-b', 'd.e', 'd-e']));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toBe(
      [
        '2 problems with the tag templates:',
        '- invalid tag template "reg.io/x:%image_slug%": images "a-b" and "a_b" would both be exported to "reg.io/x:a-b": the template must tell them apart (%image% keeps image names as they are)',
        '- invalid tag template "reg.io/x:%image_slug%": images "d-e" and "d.e" would both be exported to "reg.io/x:d-e": the template must tell them apart (%image% keeps image names as they are)',
      ].join('\n'),
    );
    expect(() => validateTagTemplates(['reg.io/x:%image_safe_slug%'], ['c', 'a_b', 'a-b'])).not.toThrow();
  });

  it('compares normalised destinations', () => {
    expect(messageOf(() => validateTagTemplates(['index.docker.io/%image%:v'], ['library/x', 'x']))).toContain(
      'images "library/x" and "x" would both be exported to "index.docker.io/library/x:v"',
    );
    expect(messageOf(() => validateTagTemplates(['oci:%image%:v'], ['out', './out']))).toContain('images "./out" and "out" would both be exported');
  });

  it('detects different images sent to one destination by different templates', () => {
    const error = errorOf(SlipwayError, () => validateTagTemplates(['reg.io/x:a-%image%', 'reg.io/x:%image%'], ['b', 'a-b']));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toBe(
      'tag templates "reg.io/x:a-%image%" and "reg.io/x:%image%" would export different images ("b" and "a-b") to the same destination "reg.io/x:a-b"',
    );
    // The same image twice is harmless.
    expect(() => validateTagTemplates(['reg.io/x:%image%', 'reg.io/x:%image%', 'reg.io/%image%:latest'], ['a', 'b'])).not.toThrow();
  });

  it('refuses to overwrite a stage in the stages repository', () => {
    const error = errorOf(SlipwayError, () => validateTagTemplates(['reg.example.com/proj/stages:%image_content_based_tag%'], ['a'], { stagesRepo: STAGES }));
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.message).toBe(
      'invalid tag template "reg.example.com/proj/stages:%image_content_based_tag%": "reg.example.com/proj/stages:%image_content_based_tag%" ' +
        'would overwrite a stage in the stages repository reg.example.com/proj/stages: export to another repository, or to tags that are ' +
        'not stage tags (<56 hex>-<13 digits>, <56 hex>)',
    );
    for (const tag of [C, MULTI, `${C}-rejected`]) {
      expect(messageOf(() => validateTagTemplates([`reg.example.com/proj/stages:${tag}`], ['a'], { stagesRepo: STAGES }))).toContain(
        'would overwrite a stage',
      );
    }
    // Other tags of the stages repository, other repositories, and no stages repository are fine.
    expect(() => validateTagTemplates(['reg.example.com/proj/stages:%image%-latest'], ['a'], { stagesRepo: STAGES })).not.toThrow();
    expect(() => validateTagTemplates(['reg.example.com/proj/app:%image_content_based_tag%'], ['a'], { stagesRepo: STAGES })).not.toThrow();
    expect(() => validateTagTemplates(['reg.example.com/proj/stages:%image_content_based_tag%'], ['a'])).not.toThrow();
    expect(
      messageOf(() =>
        validateTagTemplates(['index.docker.io/org/stages:%image_content_based_tag%'], ['a'], {
          stagesRepo: { registry: 'index.docker.io', repository: 'org/stages' },
        }),
      ),
    ).toContain('would overwrite a stage');
  });

  it('lists every problem of every template in one UsageError', () => {
    const error = errorOf(SlipwayError, () =>
      validateTagTemplates(['reg.io/x:%foo%', 'reg.io/ok:%image%', 'reg.io/%image%:v', 'reg.io/one:v', 'app:%image%'], ['B', 'a']),
    );
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      [
        '4 problems with the tag templates:',
        '- invalid tag template "reg.io/x:%foo%": template: --tag:1: function "foo" not defined',
        '- invalid tag template "reg.io/%image%:v": could not parse reference: reg.io/B:v: repository "B" must be lowercase (component "B")',
        '- invalid tag template "reg.io/one:v": tag template must contain image name shortcut %image% or %image_slug% if multiple images are exported ' +
          '(e.g. REPO:TAG-%image% or REPO-%image%:TAG): images "B" and "a" would both be exported to "reg.io/one:v"',
        '- invalid tag template "app:%image%": "app:B" names no registry host: export pushes to a registry, which must be written out, ' +
          'e.g. "index.docker.io/app:%image%" for Docker Hub (or oci:DIR[:TAG] for a local OCI layout)',
      ].join('\n'),
    );
  });

  it('gives a ConflictError when every problem is a conflict', () => {
    const error = errorOf(SlipwayError, () =>
      validateTagTemplates(['reg.io/one:v', 'reg.io/x:a-%image%', 'reg.io/x:%image%', 'reg.example.com/proj/stages:%image_content_based_tag%'], ['b', 'a-b'], {
        stagesRepo: STAGES,
      }),
    );
    expect(error).toBeInstanceOf(ConflictError);
    // The one-destination template, the cross-template clash, the stage overwrite and the stages template's own collision.
    expect(error.message.split('\n')).toHaveLength(5);
    expect(error.message).toContain('would overwrite a stage');
  });
});
