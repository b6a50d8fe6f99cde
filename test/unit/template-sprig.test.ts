import { describe, it, expect } from 'vitest';

import { render, renderErrorMessage } from '../support/template.js';

describe('defaults and flow', () => {
  it('default, empty, coalesce, ternary, all, any', () => {
    expect(render('{{ default "d" .x }}|{{ default "d" "" }}|{{ default "d" 0 }}|{{ default "d" "v" }}|{{ .x | default "p" }}')).toBe('d|d|d|v|p');
    expect(render('{{ default "d" (list) }}|{{ default "d" false }}|{{ default "d" true }}')).toBe('d|d|true');
    expect(render('{{ empty "" }} {{ empty 0 }} {{ empty .x }} {{ empty (dict) }} {{ empty "a" }} {{ empty (list 0) }}')).toBe(
      'true true true true false false',
    );
    expect(render('{{ coalesce .a .b "c" "d" }}|{{ coalesce 0 "" }}', { b: '' })).toBe('c|<no value>');
    expect(render('{{ ternary "yes" "no" true }} {{ true | ternary "yes" "no" }} {{ ternary "yes" "no" false }}')).toBe('yes yes no');
    expect(render('{{ all 1 "a" }} {{ all 1 "" }} {{ any 0 "" }} {{ any 0 "a" }}')).toBe('true false false true');
  });

  it('fail stops rendering with its message', () => {
    expect(renderErrorMessage('a\n {{ fail "no way" }}')).toBe('werf.yaml:2:2: error calling fail: no way');
  });
});

describe('lists', () => {
  it('list, first, last, rest, initial', () => {
    expect(render('{{ list 1 "a" true }} {{ first (list 1 2 3) }} {{ last (list 1 2 3) }} {{ rest (list 1 2 3) }} {{ initial (list 1 2 3) }}')).toBe(
      '[1 a true] 1 3 [2 3] [1 2]',
    );
    expect(render('{{ first (list) }}|{{ last (list) }}')).toBe('<no value>|<no value>');
    expect(renderErrorMessage('{{ first "abc" }}')).toBe('werf.yaml:1:1: error calling first: Cannot find first on type string');
  });

  it('append, push, prepend, concat do not modify their input', () => {
    expect(render('{{ $l := list 1 2 }}{{ append $l 3 }} {{ push $l 4 }} {{ prepend $l 0 }} {{ $l }}')).toBe('[1 2 3] [1 2 4] [0 1 2] [1 2]');
    expect(render('{{ concat (list 1) (list 2 3) (list) }}')).toBe('[1 2 3]');
  });

  it('uniq, without, has, compact, reverse, sortAlpha', () => {
    expect(render('{{ uniq (list 1 2 1 "1" 2) }}')).toBe('[1 2 1]');
    expect(render('{{ without (list 1 2 3 2) 2 }} {{ without (list "a" "b" "c") "a" "c" }}')).toBe('[1 3] [b]');
    expect(render('{{ has 2 (list 1 2) }} {{ has "2" (list 1 2) }} {{ list 1 2 | has 1 }} {{ has 1 .missing }}')).toBe('true false true false');
    expect(render('{{ compact (list 0 "" "a" nil false 1 (list)) }}')).toBe('[a 1]');
    expect(render('{{ reverse (list 1 2 3) }}')).toBe('[3 2 1]');
    expect(render('{{ sortAlpha (list "b" "C" "a" 10 9) }}')).toBe('[10 9 C a b]');
  });

  it('until, untilStep, seq, chunk', () => {
    expect(render('{{ until 3 }} {{ until -2 }} {{ untilStep 1 10 3 }} {{ untilStep 5 0 -2 }}')).toBe('[0 1 2] [0 -1] [1 4 7] [5 3 1]');
    expect(render('{{ seq 3 }}|{{ seq 2 4 }}|{{ seq 0 2 6 }}|{{ seq 3 1 }}')).toBe('1 2 3|2 3 4|0 2 4 6|3 2 1');
    expect(render('{{ chunk 2 (list 1 2 3) }}')).toBe('[[1 2] [3]]');
  });
});

describe('dicts', () => {
  it('dict, get, set, unset, hasKey', () => {
    expect(render('{{ dict "b" 1 "a" 2 }} {{ dict "odd" }}')).toBe('map[a:2 b:1] map[odd:]');
    expect(render('{{ $d := dict "a" 1 }}{{ get $d "a" }}|{{ get $d "b" }}|{{ hasKey $d "a" }}|{{ hasKey $d "b" }}')).toBe('1||true|false');
    expect(render('{{ $d := dict }}{{ $_ := set $d "k" "v" }}{{ $d.k }}{{ $_ := unset $d "k" }}{{ $d }}')).toBe('vmap[]');
    expect(render('{{ hasKey .missing "a" }}')).toBe('false');
    expect(render('{{ $d := dict }}{{ $_ := set $d "__proto__" "x" }}{{ $d }} {{ hasKey $d "constructor" }}')).toBe('map[__proto__:x] false');
  });

  it('keys and values are sorted by key for determinism', () => {
    expect(render('{{ keys (dict "b" 1 "a" 2 "c" 3) }} {{ values (dict "b" 1 "a" 2 "c" 3) }}')).toBe('[a b c] [2 1 3]');
    expect(render('{{ keys .x .y }}', { x: { b: 1 }, y: { a: 1 } })).toBe('[b a]');
    expect(render('{{ keys . | sortAlpha }}', { z: 1, y: 2 })).toBe('[y z]');
  });

  it('pluck, pick, omit, dig', () => {
    expect(render('{{ pluck "a" (dict "a" 1) (dict "b" 2) (dict "a" 3) }}')).toBe('[1 3]');
    expect(render('{{ pick (dict "a" 1 "b" 2 "c" 3) "a" "c" }} {{ omit (dict "a" 1 "b" 2 "c" 3) "a" }}')).toBe('map[a:1 c:3] map[b:2 c:3]');
    expect(render('{{ dig "a" "b" "none" . }} {{ dig "a" "x" "none" . }}', { a: { b: 'found' } })).toBe('found none');
  });

  it('merge keeps existing values; mergeOverwrite replaces them; both merge deeply', () => {
    const data = {
      dst: { a: 1, empty: '', nested: { x: 1 } },
      src: { a: 2, b: 3, empty: 'filled', nested: { x: 2, y: 2 } },
    };
    expect(render('{{ merge .dst .src }}', structuredClone(data))).toBe('map[a:1 b:3 empty:filled nested:map[x:1 y:2]]');
    expect(render('{{ mergeOverwrite .dst .src }}', structuredClone(data))).toBe('map[a:2 b:3 empty:filled nested:map[x:2 y:2]]');
    expect(render('{{ mergeOverwrite (dict "k" true) (dict "k" false) }}')).toBe('map[k:false]');
    expect(render('{{ $d := dict "a" 1 }}{{ $_ := merge $d (dict "b" 2) }}{{ $d }}')).toBe('map[a:1 b:2]');
  });

  it('split returns a map of _0, _1, ...; splitList a list', () => {
    expect(render('{{ split "/" "a/b/c" }} {{ (split "/" "a/b")._1 }} {{ splitList "," "a,,b" }} {{ splitn "/" 2 "a/b/c" }}')).toBe(
      'map[_0:a _1:b _2:c] b [a  b] map[_0:a _1:b/c]',
    );
  });
});

describe('strings', () => {
  it('case and trimming', () => {
    expect(render('{{ upper "abc é" }} {{ lower "ABC É" }} {{ title "hello wide-world it\'s" }} {{ untitle "Hello" }}')).toBe(
      "ABC É abc é Hello Wide-World It'S hello",
    );
    expect(render('{{ swapcase "aBc" }}')).toBe('AbC');
    expect(render('[{{ trim "  a b \\n" }}] [{{ trimAll "$-" "$-a-$" }}] [{{ trimPrefix "v" "v1.2" }}] [{{ trimSuffix ".git" "repo.git" }}] [{{ nospace " a b\\tc " }}]')).toBe(
      '[a b] [a] [1.2] [repo] [abc]',
    );
  });

  it('trunc and substr work on bytes, like Go', () => {
    expect(render('{{ trunc 3 "abcdef" }} {{ trunc -2 "abcdef" }} {{ trunc 10 "abc" }} {{ substr 1 3 "abcdef" }} {{ substr -1 2 "abc" }} {{ substr 1 -1 "abc" }}')).toBe(
      'abc ef abc bc ab bc',
    );
  });

  it('replace, repeat, contains, hasPrefix, hasSuffix, cat', () => {
    expect(render('{{ replace "a" "b" "banana" }} {{ "aaa" | replace "a" "c" }} {{ replace "" "-" "ab" }}')).toBe('bbnbnb ccc -a-b-');
    expect(render('{{ repeat 3 "ab" }} {{ contains "an" "banana" }} {{ hasPrefix "ba" "banana" }} {{ hasSuffix "x" "banana" }}')).toBe(
      'ababab true true false',
    );
    expect(render('{{ cat "a" 1 nil (list 2) }}')).toBe('a 1 [2]');
  });

  it('quote, squote', () => {
    expect(render('{{ quote "a\\"b" }} {{ quote 1 "x" }} {{ squote "a" 2 }} {{ .missing | quote }}|{{ quote "tab\\there" }}')).toBe(
      '"a\\"b" "1" "x" \'a\' \'2\' |"tab\\there"',
    );
  });

  it('indent and nindent', () => {
    expect(render('{{ indent 2 "a\\nb" }}')).toBe('  a\n  b');
    expect(render('key:{{ "a: 1\\nb: 2" | nindent 2 }}')).toBe('key:\n  a: 1\n  b: 2');
  });

  it('join, toString, toStrings', () => {
    expect(render('{{ join "," (list "a" 1 nil true) }} {{ join "-" "single" }}')).toBe('a,1,true single');
    expect(render('{{ toString 1 }} {{ toString 1.5 }} {{ toString (list 1) }} {{ toStrings (list 1 "a") }}')).toBe('1 1.5 [1] [1 a]');
  });

  it('encodings and checksums', () => {
    expect(render('{{ b64enc "hello" }} {{ b64dec "aGVsbG8=" }} {{ b64dec "!!" }}')).toBe('aGVsbG8= hello illegal base64 data at input byte 0');
    expect(render('{{ sha256sum "abc" }}')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(render('{{ sha1sum "abc" }}')).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(render('{{ adler32sum "Wikipedia" }}')).toBe('300286872');
    expect(render('{{ b32enc "hello" }} {{ b32dec "NBSWY3DP" }} {{ b32enc "a" }} {{ b32dec (b32enc "round trip é") }}')).toBe('NBSWY3DP hello ME====== round trip é');
  });

  it('uuidv4 is random but well-formed', () => {
    const a = render('{{ uuidv4 }}');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(render('{{ uuidv4 }}')).not.toBe(a);
  });
});

describe('regular expressions', () => {
  it('regexMatch, regexFind, regexFindAll', () => {
    expect(render('{{ regexMatch "^[a-z]+\\\\d$" "abc1" }} {{ regexMatch "^x" "abc" }} {{ regexMatch "(" "x" }}')).toBe('true false false');
    expect(render('{{ regexFind "[0-9]+" "ab12cd345" }}|{{ regexFind "z" "abc" }}')).toBe('12|');
    expect(render('{{ regexFindAll "[0-9]+" "a1b22c333" -1 }} {{ regexFindAll "[0-9]+" "a1b22c333" 2 }} {{ regexFindAll "a*" "baaac" -1 }}')).toBe(
      '[1 22 333] [1 22] [ aaa ]',
    );
  });

  it('regexReplaceAll expands $1, ${name}; the Literal variant does not', () => {
    expect(render('{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}')).toBe('-W-xxW-');
    expect(render('{{ regexReplaceAll "a(x*)b" "-ab-axxb-" "$1W" }}')).toBe('---');
    expect(render('{{ regexReplaceAll "(?P<key>\\\\w+)=(?P<val>\\\\w+)" "a=1 b=2" "$val:$key" }}')).toBe('1:a 2:b');
    expect(render('{{ regexReplaceAllLiteral "a(x*)b" "-ab-axxb-" "${1}" }}')).toBe('-${1}-${1}-');
    expect(render('{{ regexReplaceAll "x*" "abc" "-" }}')).toBe('-a-b-c-');
  });

  it('regexSplit follows Go, including n', () => {
    expect(render('{{ regexSplit "a" "banana" -1 }} {{ regexSplit "a" "banana" 2 }} {{ regexSplit "z+" "pizza" -1 }} {{ regexSplit "" "abc" -1 }}')).toBe(
      '[b n n ] [b nana] [pi a] [a b c]',
    );
    expect(render('{{ len (regexSplit "a" "banana" 0) }}')).toBe('0');
  });

  it('translates RE2 syntax', () => {
    expect(render('{{ regexMatch "(?i)^ABC$" "abc" }} {{ regexMatch "^[[:alpha:]]+$" "abc" }} {{ regexMatch "^[[:digit:]]+$" "12a" }}')).toBe('true true false');
    expect(render('{{ regexMatch "\\\\Aab\\\\z" "ab" }} {{ regexMatch "a\\\\-b" "a-b" }} {{ regexMatch "a{" "a{" }} {{ regexFind "\\\\pL+" "12été" }}')).toBe(
      'true true true été',
    );
    expect(render('{{ regexQuoteMeta "a.b*c" }}')).toBe('a\\.b\\*c');
    expect(renderErrorMessage('{{ regexFind "(" "x" }}')).toMatch(/^werf\.yaml:1:1: error calling regexFind: error parsing regexp \(/);
  });
});

describe('numbers', () => {
  it('integer arithmetic converts its arguments like spf13/cast', () => {
    expect(render('{{ add 1 2 3 }} {{ add }} {{ add "2" 1.9 }} {{ sub 5 7 }} {{ mul 2 3 4 }} {{ div 7 2 }} {{ div -7 2 }} {{ mod 7 3 }} {{ add1 "41" }}')).toBe(
      '6 0 3 -2 24 3 -3 1 42',
    );
    expect(render('{{ max 1 5 3 }} {{ min 4 2 8 }} {{ biggest 1 9 }}')).toBe('5 2 9');
    expect(renderErrorMessage('{{ div 1 0 }}')).toBe('werf.yaml:1:1: error calling div: runtime error: integer divide by zero');
  });

  it('int, int64, float64, atoi', () => {
    expect(render('{{ int "42" }} {{ int "0x10" }} {{ int "010" }} {{ int "4.00" }} {{ int "4.5" }} {{ int "x" }} {{ int 3.9 }} {{ int true }} {{ int64 "-3" }}')).toBe(
      '42 16 8 4 0 0 3 1 -3',
    );
    expect(render('{{ float64 "1.5" }} {{ float64 2 }} {{ float64 "x" }} {{ atoi "12" }} {{ atoi "1.5" }} {{ atoi " 1" }}')).toBe('1.5 2 0 12 0 0');
    expect(render('{{ typeOf (float64 2) }} {{ typeOf (int "2") }}')).toBe('float64 int');
  });

  it('float arithmetic is decimal, like shopspring/decimal', () => {
    expect(render('{{ addf 1.1 2.2 }} {{ subf 1.0 0.9 }} {{ mulf 1.1 3 }} {{ divf 10 4 }} {{ divf 1 3 }} {{ add1f 1.5 }}')).toBe('3.3 0.1 3.3 2.5 0.3333333333333333 2.5');
    expect(render('{{ maxf 1 2.5 }} {{ minf 1 2.5 }} {{ floor 1.7 }} {{ ceil 1.2 }} {{ round 1.255 2 }} {{ round 2.5 0 }} {{ round 1.2551 2 }}')).toBe('2.5 1 1 2 1.25 3 1.26');
  });
});

describe('reflection', () => {
  it('kindOf, typeOf, kindIs, typeIs, deepEqual', () => {
    expect(render('{{ kindOf "a" }} {{ kindOf 1 }} {{ kindOf 1.5 }} {{ kindOf (list) }} {{ kindOf (dict) }} {{ kindOf true }} {{ kindOf nil }}')).toBe(
      'string int float64 slice map bool invalid',
    );
    expect(render('{{ typeOf "a" }} {{ typeOf (list) }} {{ typeOf (dict) }} {{ typeOf nil }}')).toBe('string []interface {} map[string]interface {} <nil>');
    expect(render('{{ kindIs "map" . }} {{ kindIs "slice" . }} {{ typeIs "string" "x" }}', {})).toBe('true false true');
    expect(render('{{ deepEqual (list 1 (dict "a" 2)) (list 1 (dict "a" 2)) }} {{ deepEqual 1 1.0 }} {{ deepEqual "1" 1 }}')).toBe('true false false');
  });
});

describe('paths', () => {
  it('base, dir, clean, ext, isAbs (slash paths)', () => {
    expect(render('{{ base "a/b/c.txt" }} {{ base "a/b/" }} {{ base "" }} {{ dir "a/b/c" }} {{ dir "c" }} {{ clean "a//b/../c/." }} {{ ext "x/y.tar.gz" }} {{ isAbs "/x" }}')).toBe(
      'c.txt b . a/b . a/c .gz true',
    );
    expect(render('{{ osBase "/a/b" }} {{ osDir "/a/b" }} {{ dir "/" }} {{ base "/" }} {{ clean "../../a" }} {{ clean "/../a" }}')).toBe('b /a / / ../../a /a');
  });
});

describe('JSON', () => {
  it('toJson sorts keys and escapes HTML like encoding/json', () => {
    expect(render('{{ toJson . }}', { b: [1, 'x', null, true], a: '<&>', c: { z: 1.5 } })).toBe('{"a":"\\u003c\\u0026\\u003e","b":[1,"x",null,true],"c":{"z":1.5}}');
    expect(render('{{ toRawJson . }}', { a: '<&>' })).toBe('{"a":"<&>"}');
    expect(render('{{ toPrettyJson . }}', { b: [1], a: {} })).toBe('{\n  "a": {},\n  "b": [\n    1\n  ]\n}');
    expect(render('{{ toJson "s" }} {{ toJson 1.0 }} {{ toJson nil }}')).toBe('"s" 1 null');
  });

  it('fromJson decodes numbers as float64 and ignores errors', () => {
    expect(render('{{ $d := fromJson "{\\"a\\": [1, 2.5, 1000000], \\"b\\": {\\"c\\": true}}" }}{{ $d.a }} {{ $d.b.c }} {{ typeOf (index $d.a 0) }}')).toBe(
      '[1 2.5 1e+06] true float64',
    );
    expect(render('{{ fromJson "not json" }}')).toBe('<no value>');
    expect(renderErrorMessage('{{ mustFromJson "not json" }}')).toMatch(/^werf\.yaml:1:1: error calling mustFromJson: /);
  });
});
