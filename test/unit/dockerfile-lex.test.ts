import { describe, expect, it } from 'vitest';
import { ShellLex, expandWord, expandWords } from '../../src/builder/dockerfile/shell-lex.js';
import { ShellExpansionError } from '../../src/builder/dockerfile/errors.js';
import { BuildError } from '../../src/errors.js';

// Cases from BuildKit's shell/envVarTest and lex_test.go (the behaviour `docker build` has), with the same
// environment: PWD=/home SHELL=bash KOREAN=한국어 NULL= (set, empty).
const ENV = { PWD: '/home', SHELL: 'bash', KOREAN: '한국어', NULL: '' };

describe('expandWord (ProcessWord)', () => {
  it.each([
    ['hello', 'hello'],
    ["he'll'o", 'hello'],
    ["he\\'llo", "he'llo"],
    ['abc\\tdef', 'abctdef'],
    ['"abc\\tdef"', 'abc\\tdef'],
    ['"abc\\\\tdef"', 'abc\\tdef'],
    ["'abc\\tdef'", 'abc\\tdef'],
    ['hello\\', 'hello'],
    ['hello\\\\', 'hello\\'],
    ['"hel\'lo"', "hel'lo"],
    ["'hello\\'", 'hello\\'],
    ["'hello\\there'", 'hello\\there'],
    ['"\'\'"', "''"],
    ['$.', '$.'],
    ['he$1x', 'hex'],
    ['he$.x', 'he$.x'],
    ['he$pwd.', 'he.'],
    ['he$PWD', 'he/home'],
    ['he\\$PWD', 'he$PWD'],
    ['he\\\\$PWD', 'he\\/home'],
    ['"he\\$PWD"', 'he$PWD'],
    ['"he\\\\$PWD"', 'he\\/home'],
    ['\\${}', '${}'],
    ['he\\${}xx', 'he${}xx'],
    ['he${hi}xx', 'hexx'],
    ['he${PWD}', 'he/home'],
    ['he${XXX:-000}xx', 'he000xx'],
    ['he${PWD:-000}xx', 'he/homexx'],
    ['he${XXX:-$PWD}xx', 'he/homexx'],
    ['he${XXX:-${PWD:-yyy}}xx', 'he/homexx'],
    ['he${XXX:-${YYY:-yyy}}xx', 'heyyyxx'],
    ['he${XXX:+${PWD}}xx', 'hexx'],
    ['he${PWD:+${XXX}}xx', 'hexx'],
    ['he${PWD:+${SHELL}}xx', 'hebashxx'],
    ['he${XXX:+000}xx', 'hexx'],
    ['he${PWD:+000}xx', 'he000xx'],
    ["'he${XX}'", 'he${XX}'],
    ['"he${PWD}"', 'he/home'],
    ['"he\'$PWD\'"', "he'/home'"],
    ["'$PWD'", '$PWD'],
    ["'\\$PWD'", '\\$PWD'],
    ['\'"hello"\'', '"hello"'],
    ['he${PWD+000}xx', 'he000xx'],
    ['he${PWD-000}xx', 'he/homexx'],
    ['he${XXX+000}xx', 'hexx'],
    ['he${XXX-000}xx', 'he000xx'],
    ['he${KOREAN}', 'he한국어'],
    ['he${KOREAN:-}', 'he한국어'],
    // ${VAR-w} only replaces an unset variable, ${VAR:-w} an empty one too; likewise + and :+.
    ['${NULL:-default}', 'default'],
    ['${NULL-default}', ''],
    ['${NULL:+alt}', ''],
    ['${NULL+alt}', 'alt'],
    ['a  b', 'a  b'],
  ])('%s → %s', (word, expected) => {
    expect(expandWord(word, ENV)).toBe(expected);
  });

  it.each([["he'llo"], ["he\\\\'llo"], ['"hello'], ['"hello\\"'], ["'hello"], ['${}'], ['he${}xx'], ['he${.}'], ['he${XXX:YYY}'], ['he${PWD'], ['he${PWD=000}xx'], ['he${XXX=000}xx']])(
    '%s is an error',
    (word) => {
      expect(() => expandWord(word, ENV)).toThrow(ShellExpansionError);
      expect(() => expandWord(word, ENV)).toThrow(/^failed to process/);
    },
  );

  it('leaves unset variables empty and reads Maps as well as records', () => {
    expect(expandWord('[$NOPE][${NOPE}]', {})).toBe('[][]');
    expect(expandWord('$A-$B', new Map([['A', '1'], ['B', '2']]))).toBe('1-2');
    // Only own properties of a record are variables.
    expect(expandWord('[$constructor][$toString]', {})).toBe('[][]');
  });

  it('${VAR:?msg} and ${VAR?msg} fail with the message when the variable is unset (or empty, with the colon)', () => {
    const set = { VAR: 'plain', ARG: 'x' };
    const empty = { VAR: '', ARG: 'x' };
    const unset = { ARG: 'x' };
    expect(expandWord('${VAR:?message here$ARG}', set)).toBe('plain');
    expect(() => expandWord('${VAR:?message here$ARG}', empty)).toThrow('VAR: message herex');
    expect(() => expandWord('${VAR:?message here$ARG}', unset)).toThrow('VAR: message herex');
    expect(expandWord('${VAR?message here$ARG}', empty)).toBe('');
    expect(() => expandWord('${VAR?message here$ARG}', unset)).toThrow('VAR: message herex');
    expect(() => expandWord('${VAR:?}', unset)).toThrow('VAR: is not allowed to be unset');
    expect(() => expandWord('${VAR:?}', empty)).toThrow('VAR: is not allowed to be empty');
    expect(() => expandWord('${VAR:?}', unset)).toThrow(BuildError);
  });

  it('# and % remove the shortest prefix or suffix, ## and %% the longest (Dockerfile reference examples)', () => {
    const str = { str: 'foobarbaz' };
    expect(expandWord('${str#f*b}', str)).toBe('arbaz');
    expect(expandWord('${str##f*b}', str)).toBe('az');
    expect(expandWord('${str%b*}', str)).toBe('foobar');
    expect(expandWord('${str%%b*}', str)).toBe('foo');
    expect(expandWord('${str/ba/fo}', str)).toBe('fooforbaz');
    expect(expandWord('${str//ba/fo}', str)).toBe('fooforfoz');
  });

  it.each([
    ['${FOO#()[]{\\}^$.\\*\\?|\\\\}', { FOO: '()[]{}^$.*?|\\x' }, 'x'],
    ['${FOO%%\\**}', { FOO: 'xx**' }, 'xx'],
    ['${FOO#*x*y}', { FOO: 'xxyy' }, 'y'],
    ['${FOO#*}', { FOO: 'xxyy' }, 'xxyy'],
    ['${FOO#$BAR}', { FOO: 'xxyy', BAR: 'x' }, 'xyy'],
    ['${FOO#}', { FOO: 'xxyy' }, 'xxyy'],
    ['${FOO##*x}', { FOO: 'xxyy' }, 'yy'],
    ['${FOO#?\\?}', { FOO: '???y' }, '?y'],
    ['${ABC:-.}${FOO%x}${ABC:-.}', { FOO: 'xxyy' }, '.xxyy.'],
    ['${FOO%%\\**\\*}', { FOO: 'a***yy*' }, 'a'],
    ['${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}', { FOO: '/foo*/*/*.txt', NEEDLE: '\\*/' }, '/foo.*/*.txt - /foo..*.txt'],
    ['${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}', { FOO: '/tmp/tmp/bar.txt', NEEDLE: '/tmp' }, '/tmp/bar.txt - /bar.txt'],
    ['${FOO/$NEEDLE/$REPLACEMENT} - ${FOO//$NEEDLE/$REPLACEMENT}', { FOO: '/a/foo/b/c.txt', NEEDLE: '/?/', REPLACEMENT: '/' }, '/foo/b/c.txt - /foo/c.txt'],
    ['${FOO/$NEEDLE/$REPLACEMENT}', { FOO: 'http://google.de', NEEDLE: 'http://', REPLACEMENT: 'https://' }, 'https://google.de'],
    ['${FOO//\\//\\/}', { FOO: '/tmp/foo.txt' }, '\\/tmp\\/foo.txt'],
    ['${FOO///}', { FOO: 'xxyy' }, 'xxyy'],
    ['${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}', { FOO: 'xxx', BAR: '' }, 'xxx  ccc'],
    ['${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc}', { FOO: 'xxx', BAR: '' }, 'xxx bbb ccc'],
    ['${FOO+aaa} ${BAR+bbb} ${BAZ+ccc}', { FOO: 'xxx', BAR: '' }, 'aaa bbb '],
    ['${FOO:+aaa} ${BAR:+bbb} ${BAZ:+ccc}', { FOO: 'xxx', BAR: '' }, 'aaa  '],
    [
      'something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz',
      { VERSION: 'v1.2.3', TARGETOS: 'linux', TARGETARCH: 'arm', TARGETVARIANT: 'v7' },
      'something-v1.2.3.linux-arm-v7.tar.gz',
    ],
  ])('BuildKit lex_test: %s', (word, env, expected) => {
    expect(expandWord(word, env)).toBe(expected);
  });

  it.each([['${FOO=aaa}'], ['${FOO=:aaa}'], ['${FOO//ww}'], ['${FOO//}'], ['${FOO#\\x}']])('BuildKit lex_test: %s is an error', (word) => {
    expect(() => expandWord(word, { FOO: 'xxyy' })).toThrow(ShellExpansionError);
  });

  it('uses the backtick as the escape character when the Dockerfile says so', () => {
    expect(expandWord('C:\\path\\$X', { X: 'x' }, '`')).toBe('C:\\path\\x');
    expect(expandWord('`$X `"q`"', { X: 'x' }, '`')).toBe('$X "q"');
    expect(expandWord('"a`"b"', {}, '`')).toBe('a"b');
  });
});

describe('expandWords (ProcessWords)', () => {
  const env = { hi: 'hi', space: 'abc  def', leading: '  ab c', trailing: 'ab c   ' };
  it.each([
    ['hello', ['hello']],
    ['hello${hi}bye', ['hellohibye']],
    ['hello${space}bye', ['helloabc', 'defbye']],
    ['hello"${space}"bye', ['helloabc  defbye']],
    ['hello "${space}"bye', ['hello', 'abc  defbye']],
    ['hello${leading}def', ['hello', 'ab', 'cdef']],
    ['hello"${leading}" def', ['hello  ab c', 'def']],
    ['hello${trailing}d', ['helloab', 'c', 'd']],
    ['hello"${trailing}"d', ['helloab c   d']],
    ["'a b' c\\ d", ['a b', 'c d']],
    ['  a   b  ', ['a', 'b']],
    ['', []],
  ])('%s', (word, expected) => {
    expect(expandWords(word, env)).toEqual(expected);
  });
});

describe('ShellLex options', () => {
  it('keeps quotes, escapes and unset references when asked (used for heredoc delimiters)', () => {
    const lex = new ShellLex({ rawQuotes: true, rawEscapes: true, skipUnsetEnv: true });
    expect(lex.process(`RUN cat <<'EOF' \\$x $UNSET \${UNSET:-d}`, {}).words).toEqual(['RUN', 'cat', "<<'EOF'", '\\$x', '$UNSET', '${UNSET:-d}']);
  });

  it('treats quotes as ordinary characters with skipProcessQuotes (heredoc content)', () => {
    const lex = new ShellLex({ skipProcessQuotes: true });
    expect(lex.process('say "$A" \'$A\' \\$A', { A: 'x' }).result).toBe('say "x" \'x\' $A');
  });

  it('reports matched and unmatched variables', () => {
    const r = new ShellLex().process('${FOO-aaa} ${BAR-bbb} ${BAZ-ccc}', { FOO: 'xxx', BAR: '' });
    expect([...r.matched].sort()).toEqual(['BAR', 'FOO']);
    expect([...r.unmatched]).toEqual(['BAZ']);
  });
});
