import { describe, expect, it } from 'vitest';
import { quote } from '../../src/go/strconv.js';
import { OPTIONS, pickOptions, resolveOptions } from '../../src/cli/options.js';
import {
  DEFAULT_ADD_LABEL_SEPARATOR,
  exportLabels,
  isExportRemovedLabel,
  parseAddLabels,
  parseAnnotations,
} from '../../src/export/labels.js';
import { usageErrorOf } from '../support/errors.js';

// The CLI resolves `--add-label` and `--add-label-separator` (flags and environment) through the option table and
// passes the values to src/export; these read them the same way.
function addLabelEnvValues(env: Record<string, string>): string[] {
  return resolveOptions(pickOptions(['addLabel']), {}, env).addLabel;
}

function separatorFrom(flagValue: string | undefined, env: Record<string, string>): string {
  return resolveOptions(pickOptions(['addLabelSeparator']), flagValue === undefined ? {} : { addLabelSeparator: flagValue }, env).addLabelSeparator;
}

describe('parseAddLabels (cmd/werf/export/export.go)', () => {
  const parse = (...values: string[]) => parseAddLabels(values, [], DEFAULT_ADD_LABEL_SEPARATOR);

  it.each([
    [['a=b'], { a: 'b' }],
    [['a=b=c'], { a: 'b=c' }],
    [['a='], { a: '' }],
    [['a=1\nb=2'], { a: '1', b: '2' }],
    [['a=1,b=2'], { a: '1,b=2' }],
    [['a=1', 'a=2'], { a: '2' }],
    [[' a = b '], { ' a ': ' b ' }],
    [['a="q"'], { a: '"q"' }],
    [[], {}],
  ])('%j → %j', (values, expected) => {
    expect(parse(...values)).toEqual(expected);
  });

  it.each([
    ['=v', '=v', '=v'],
    ['', '', ''],
    ['novalue', 'novalue', 'novalue'],
    ['a=1\n', 'a=1\\n', ''],
    ['a=1\nbad', 'a=1\\nbad', 'bad'],
  ])('rejects %j with werf’s message', (value, quotedValue, piece) => {
    const error = usageErrorOf(() => parse(value));
    expect(error.message).toBe(
      `unsupported --add-label value: invalid value "${quotedValue}" ("\\n"): invalid key=value pair "${piece}" ("=")`,
    );
  });

  it('matches the reference example exactly', () => {
    expect(usageErrorOf(() => parse('foo')).message).toBe(
      'unsupported --add-label value: invalid value "foo" ("\\n"): invalid key=value pair "foo" ("=")',
    );
  });

  it('splits on a custom separator, Go strings.Split style', () => {
    expect(parseAddLabels(['a=1,b=2'], [], ',')).toEqual({ a: '1', b: '2' });
    expect(usageErrorOf(() => parseAddLabels(['a=1,'], [], ',')).message).toBe(
      'unsupported --add-label value: invalid value "a=1," (","): invalid key=value pair "" ("=")',
    );
    // An empty separator splits into single characters: an empty value gives no pairs at all.
    expect(parseAddLabels([''], [], '')).toEqual({});
    expect(usageErrorOf(() => parseAddLabels(['a=1'], [], '')).message).toBe(
      'unsupported --add-label value: invalid value "a=1" (""): invalid key=value pair "a" ("=")',
    );
  });

  it('applies env values first, so the command line wins', () => {
    expect(parseAddLabels(['a=cli'], ['a=env', 'b=env'], '\n')).toEqual({ a: 'cli', b: 'env' });
  });

  it('stops at the first bad value, env values included', () => {
    expect(usageErrorOf(() => parseAddLabels(['ok=1'], ['bad'], '\n')).message).toContain('invalid value "bad"');
  });

  it('keeps a __proto__ key as a plain label', () => {
    const labels = parse('__proto__=x');
    expect(Object.keys(labels)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
  });
});

describe('--add-label and --add-label-separator from the option table', () => {
  it('reads WERF_EXPORT_ADD_LABEL_* ordered by NAME=VALUE, without the separator', () => {
    const env = {
      WERF_EXPORT_ADD_LABEL_2: 'b=2',
      WERF_EXPORT_ADD_LABEL_1: 'a=1',
      WERF_EXPORT_ADD_LABEL_10: 'c=3',
      WERF_EXPORT_ADD_LABEL_SEPARATOR: ',',
      WERF_EXPORT_ADD_LABELX: 'no=1',
      OTHER: 'x=1',
    };
    // `..._10=c=3` sorts before `..._1=a=1`: '0' < '=' in the full NAME=VALUE strings.
    expect(addLabelEnvValues(env)).toEqual(['c=3', 'a=1', 'b=2']);
  });

  it("reads Slipway's family instead of werf's when any of it is set", () => {
    const env = {
      WERF_EXPORT_ADD_LABEL_1: 'werf=1',
      SLIPWAY_EXPORT_ADD_LABEL_B: 'b=1',
      SLIPWAY_ADD_LABEL_A: 'a=1',
      SLIPWAY_EXPORT_ADD_LABEL_SEPARATOR: ';',
      SLIPWAY_ADD_LABEL_SEPARATOR: ';',
    };
    expect(addLabelEnvValues(env)).toEqual(['a=1', 'b=1']);
    expect(addLabelEnvValues({})).toEqual([]);
  });

  it('agrees with the option table, which puts env values before command-line ones', () => {
    const env = { WERF_EXPORT_ADD_LABEL_A: 'a=env', WERF_EXPORT_ADD_LABEL_SEPARATOR: ';' };
    const resolved = resolveOptions(pickOptions(['addLabel', 'addLabelSeparator']), { addLabel: ['a=cli'] }, env);
    expect(resolved.addLabel).toEqual([...addLabelEnvValues(env), 'a=cli']);
    expect(resolved.addLabelSeparator).toBe(separatorFrom(undefined, env));
    expect(parseAddLabels(resolved.addLabel, [], resolved.addLabelSeparator)).toEqual(
      parseAddLabels(['a=cli'], addLabelEnvValues(env), separatorFrom(undefined, env)),
    );
  });

  it('takes the separator from the flag, then non-empty env vars, else a newline', () => {
    expect(separatorFrom(undefined, {})).toBe('\n');
    expect(separatorFrom(undefined, { WERF_EXPORT_ADD_LABEL_SEPARATOR: '' })).toBe('\n');
    expect(separatorFrom(undefined, { WERF_EXPORT_ADD_LABEL_SEPARATOR: ',' })).toBe(',');
    expect(separatorFrom(undefined, { WERF_EXPORT_ADD_LABEL_SEPARATOR: ',', SLIPWAY_EXPORT_ADD_LABEL_SEPARATOR: ';' })).toBe(';');
    expect(separatorFrom('|', { WERF_EXPORT_ADD_LABEL_SEPARATOR: ',' })).toBe('|');
    expect(separatorFrom('', { WERF_EXPORT_ADD_LABEL_SEPARATOR: ',' })).toBe('');
  });

  it('registers the export options in the table', () => {
    expect(OPTIONS.tag.value).toBe('string[]');
    expect(OPTIONS.requireBuiltImages.short).toBe('-Z');
    const resolved = resolveOptions(
      pickOptions(['tag', 'requireBuiltImages', 'useBuildReport', 'exportReportPath', 'addAnnotation']),
      { tag: ['a/b:%image%'] },
      { WERF_REQUIRE_BUILT_IMAGES: 'true', WERF_USE_BUILD_REPORT: '1', SLIPWAY_EXPORT_ADD_ANNOTATION_1: 'k=v' },
    );
    expect(resolved).toEqual({
      tag: ['a/b:%image%'],
      requireBuiltImages: true,
      useBuildReport: true,
      exportReportPath: undefined,
      addAnnotation: ['k=v'],
    });
  });
});

describe('parseAnnotations', () => {
  it('takes one KEY=VALUE per value, later wins', () => {
    expect(parseAnnotations(['a=1', 'b=x=y', 'c=', 'a=2'])).toEqual({ a: '2', b: 'x=y', c: '' });
    expect(parseAnnotations([])).toEqual({});
    expect(parseAnnotations(['a=1\nb=2'])).toEqual({ a: '1\nb=2' });
  });

  it.each([['novalue'], ['=v'], ['']])('rejects %j naming it', (value) => {
    expect(usageErrorOf(() => parseAnnotations(['ok=1', value])).message).toBe(
      `unsupported --add-annotation value: invalid key=value pair ${quote(value)} ("=")`,
    );
  });
});

describe('exportLabels', () => {
  it("removes Slipway's and werf's labels, keeps the rest in order", () => {
    const source = {
      maintainer: 'me',
      slipway: 'project',
      'slipway-version': '1',
      'slipway.io/parent-stage-id': 'x',
      slipwayish: 'kept',
      werf: 'project',
      'werf-stage-content-digest': 'd',
      'werf.io/parent-stage-id': 'x',
      werfish: 'removed, as werf does',
      'io.werf.x': 'kept',
      'org.opencontainers.image.title': 't',
      WERF: 'kept: case-sensitive',
    };
    expect(Object.entries(exportLabels(source, {}) ?? {})).toEqual([
      ['maintainer', 'me'],
      ['slipwayish', 'kept'],
      ['io.werf.x', 'kept'],
      ['org.opencontainers.image.title', 't'],
      ['WERF', 'kept: case-sensitive'],
    ]);
  });

  it('sets the added labels after the removal, so werf-foo and slipway-foo survive', () => {
    expect(exportLabels({ a: '1', werf: 'p', b: '2' }, { b: 'new', 'werf-foo': 'bar', 'slipway-foo': 'baz' })).toEqual({
      a: '1',
      b: 'new',
      'werf-foo': 'bar',
      'slipway-foo': 'baz',
    });
  });

  it('leaves Labels alone (undefined) when the source had none and nothing is added', () => {
    expect(exportLabels(undefined, {})).toBeUndefined();
    expect(exportLabels(null, {})).toBeUndefined();
    expect(exportLabels(null, { a: '1' })).toEqual({ a: '1' });
    expect(exportLabels({ werf: 'p' }, {})).toEqual({});
    expect(exportLabels({}, {})).toEqual({});
  });

  it('does not modify its input', () => {
    const source = { werf: 'p', a: '1' };
    exportLabels(source, { a: '2' });
    expect(source).toEqual({ werf: 'p', a: '1' });
  });

  it('isExportRemovedLabel', () => {
    for (const key of ['slipway', 'slipway-x', 'slipway.io/x', 'werf', 'werf-x', 'werf.io/x', 'werfish']) {
      expect(isExportRemovedLabel(key)).toBe(true);
    }
    for (const key of ['slipwayish', 'slipway.iox', 'Slipway', 'io.werf', 'xwerf', '']) {
      expect(isExportRemovedLabel(key)).toBe(false);
    }
  });
});
