import { describe, it, expect } from 'vitest';

import { render, renderErrorMessage } from '../support/template.js';

describe('and, or, not', () => {
  it('returns the deciding value', () => {
    expect(render('{{ and 1 "x" 2 }}|{{ and 1 0 2 }}|{{ and "" 1 }}')).toBe('2|0|');
    expect(render('{{ or 0 "" "x" "y" }}|{{ or 0 "" }}|{{ or .missing "d" }}')).toBe('x||d');
    expect(render('{{ not 0 }} {{ not "a" }} {{ not .missing }}')).toBe('true false true');
  });

  it('short-circuits: later arguments are not evaluated', () => {
    let calls = 0;
    const data = { f: () => ++calls };
    expect(render('{{ or 1 .f }}{{ and 0 .f }}', data)).toBe('10');
    expect(calls).toBe(0);
    expect(render('{{ and 1 .f }}', data)).toBe('1');
    expect(calls).toBe(1);
    expect(render('{{ if and .x .x.y }}yes{{ else }}no{{ end }}', { x: null })).toBe('no');
  });

  it('takes a piped value last', () => {
    expect(render('{{ "v" | and 1 }} {{ "v" | or 0 }} {{ 0 | or "" }}')).toBe('v v 0');
  });

  it('needs an argument', () => {
    expect(renderErrorMessage('{{ and }}')).toBe('werf.yaml:1:1: wrong number of args for and: want at least 1 got 0');
  });
});

describe('comparisons', () => {
  it('eq compares basic values and accepts several alternatives', () => {
    expect(render('{{ eq 1 1 }} {{ eq 1 2 }} {{ eq "a" "a" }} {{ eq true true }} {{ eq 1 2 3 1 }} {{ eq "x" "a" "b" }}')).toBe(
      'true false true true true false',
    );
    expect(render('{{ eq .n 1.5 }} {{ eq 2 2.0 }}', { n: 1.5 })).toBe('true true');
  });

  it('eq handles nil and missing values like Go', () => {
    expect(render('{{ eq .missing nil }} {{ eq nil nil }} {{ eq .s nil }} {{ eq .l nil }} {{ eq .n nil }}', { s: 'x', l: [1], n: null })).toBe(
      'true true false false true',
    );
  });

  it('eq refuses incompatible or non-comparable types', () => {
    expect(renderErrorMessage('{{ eq 1 "1" }}')).toBe('werf.yaml:1:1: error calling eq: incompatible types for comparison');
    expect(renderErrorMessage('{{ eq (list 1) (list 1) }}')).toBe('werf.yaml:1:1: error calling eq: non-comparable type [1]: []interface {}');
    expect(renderErrorMessage('{{ eq 1 }}')).toBe('werf.yaml:1:1: error calling eq: missing argument for comparison');
  });

  it('ne, lt, le, gt, ge', () => {
    expect(render('{{ ne 1 2 }} {{ ne "a" "a" }}')).toBe('true false');
    expect(render('{{ lt 1 2 }} {{ lt 2 1 }} {{ le 2 2 }} {{ gt 3 2 }} {{ ge 2 3 }} {{ lt 1.5 2 }}')).toBe('true false true true false true');
    expect(render('{{ lt "a" "b" }} {{ gt "B" "a" }} {{ lt "é" "z" }}')).toBe('true false false');
    expect(renderErrorMessage('{{ lt true false }}')).toBe('werf.yaml:1:1: error calling lt: invalid type for comparison');
    expect(renderErrorMessage('{{ lt 1 "a" }}')).toBe('werf.yaml:1:1: error calling lt: incompatible types for comparison');
    expect(renderErrorMessage('{{ lt .missing 1 }}')).toBe('werf.yaml:1:1: error calling lt: invalid type for comparison');
  });
});

describe('len, index, slice', () => {
  it('len counts bytes of strings, elements of lists and entries of maps', () => {
    expect(render('{{ len "abc" }} {{ len "héllo" }} {{ len (list 1 2) }} {{ len (dict "a" 1) }} {{ len .l }}', { l: [] })).toBe('3 6 2 1 0');
    expect(renderErrorMessage('{{ len .missing }}')).toBe('werf.yaml:1:1: error calling len: len of nil pointer');
    expect(renderErrorMessage('{{ len 3 }}')).toBe('werf.yaml:1:1: error calling len: len of type int');
  });

  it('index reads lists, maps, strings and nested values', () => {
    const data = { l: ['a', ['b', 'c']], m: { k: { j: 'deep' } } };
    expect(render('{{ index .l 0 }} {{ index .l 1 1 }} {{ index .m "k" "j" }} {{ index "abc" 1 }}', data)).toBe('a c deep 98');
    expect(render('{{ index .m "nope" }}', data)).toBe('<no value>');
    expect(renderErrorMessage('{{ index .l 5 }}', data)).toBe('werf.yaml:1:1: error calling index: index out of range: 5');
    expect(renderErrorMessage('{{ index .missing 0 }}', data)).toBe('werf.yaml:1:1: error calling index: index of untyped nil');
    expect(renderErrorMessage('{{ index .l "x" }}', data)).toBe('werf.yaml:1:1: error calling index: cannot index slice/array with type string');
    expect(renderErrorMessage('{{ index .m 1 }}', data)).toBe('werf.yaml:1:1: error calling index: value has type int; should be string');
    expect(renderErrorMessage('{{ index 5 1 }}', data)).toBe("werf.yaml:1:1: error calling index: can't index item of type int");
  });

  it('slice is sprig’s: lists only', () => {
    expect(render('{{ slice (list 1 2 3 4) 1 3 }} {{ slice (list 1 2 3) 1 }} {{ slice (list 1 2) }}')).toBe('[2 3] [2 3] [1 2]');
    expect(renderErrorMessage('{{ slice "abc" 1 }}')).toBe('werf.yaml:1:1: error calling slice: list should be type of slice or array but string');
  });
});

describe('print, println, printf', () => {
  it('print adds spaces between operands when neither is a string', () => {
    expect(render('{{ print "a" 1 2 "b" nil }}')).toBe('a1 2b<nil>');
    expect(render('{{ print 1 2 }}|{{ print "a" "b" }}|{{ print }}')).toBe('1 2|ab|');
    expect(render('{{ println "a" 1 }}')).toBe('a 1\n');
  });

  it('printf formats strings, integers and quoted values', () => {
    expect(render('{{ printf "%s-%d-%v-%q-%t-%%" "s" 42 (list 1 "a") "q\\"x" true }}')).toBe('s-42-[1 a]-"q\\"x"-true-%');
    expect(render('{{ printf "%5s|%-5s|%.2s|%05d|%-4d|%+d|%x|%X|%o|%b|%#x|%c|%U" "ab" "ab" "abc" 42 7 5 255 255 8 5 255 65 65 }}')).toBe(
      '   ab|ab   |ab|00042|7   |+5|ff|FF|10|101|0xff|A|U+0041',
    );
    expect(render('{{ printf "%q %x % x %T %T %T %T" 65 "hi" "hi" 1 "s" (list) (dict) }}')).toBe(
      "'A' 6869 68 69 int string []interface {} map[string]interface {}",
    );
  });

  it('printf formats floats like Go', () => {
    expect(render('{{ printf "%f|%.2f|%5.2f|%e|%g|%v|%.3g|%08.3f" 3.14159 3.14159 3.14159 1234.5678 0.0000123 2.0 1234.0 -3.14159 }}')).toBe(
      '3.141590|3.14| 3.14|1.234568e+03|1.23e-05|2|1.23e+03|-003.142',
    );
    expect(render('{{ printf "%.0f %.0f %.0f %.1f" 0.5 1.5 2.5 0.25 }}')).toBe('0 2 2 0.2');
    expect(render('{{ printf "%v %v %v" 100000.0 1000000.0 0.0001 }}')).toBe('100000 1e+06 0.0001');
  });

  it('printf reports wrong verbs, missing and extra arguments the way fmt does', () => {
    expect(render('{{ printf "%d" "str" }}|{{ printf "%s" 5 }}|{{ printf "%d" }}|{{ printf "x" 1 "a" }}|{{ printf "%!" }}')).toBe(
      '%!d(string=str)|%!s(int=5)|%!d(MISSING)|x%!(EXTRA int=1, string=a)|%!!(MISSING)',
    );
    expect(render('{{ printf "%s" nil }}|{{ printf "%v" nil }}|{{ printf "%d" .missing }}|{{ printf "%" }}')).toBe('%!s(<nil>)|<nil>|%!d(<nil>)|%!(NOVERB)');
    expect(render('{{ printf "%[2]s %[1]s" "a" "b" }}|{{ printf "%*d" 5 1 }}|{{ printf "%.*f" 1 2.25 }}')).toBe('b a|    1|2.2');
  });

  it('printf needs a string format', () => {
    expect(renderErrorMessage('{{ printf 1 }}')).toBe('werf.yaml:1:1: wrong type for value; expected string; got int');
    expect(renderErrorMessage('{{ printf .missing }}')).toBe('werf.yaml:1:1: invalid value; expected string');
  });
});

describe('html, js, urlquery, call', () => {
  it('escapes', () => {
    expect(render(`{{ html "<a href='x'>&\\"</a>" }}`)).toBe('&lt;a href=&#39;x&#39;&gt;&amp;&#34;&lt;/a&gt;');
    expect(render(`{{ js "it's <b>=\\"\\n" }}`)).toBe("it\\'s \\u003Cb\\u003E\\u003D\\\"\\u000A");
    expect(render('{{ urlquery "a b&c=d/é" }}')).toBe('a+b%26c%3Dd%2F%C3%A9');
    expect(render('{{ html 1 2 }}')).toBe('1 2');
  });

  it('call calls a function value', () => {
    expect(renderErrorMessage('{{ call .missing }}')).toBe('werf.yaml:1:1: error calling call: call of nil');
    expect(renderErrorMessage('{{ call 1 }}')).toBe('werf.yaml:1:1: error calling call: non-function 1 of type int');
  });
});

describe('function arguments', () => {
  it('checks the number of arguments', () => {
    expect(renderErrorMessage('{{ upper "a" "b" }}')).toBe('werf.yaml:1:1: wrong number of args for upper: want 1 got 2');
    expect(renderErrorMessage('{{ "a" | replace "x" }}')).toBe('werf.yaml:1:1: wrong number of args for replace: want 3 got 2');
    expect(renderErrorMessage('{{ printf }}')).toBe('werf.yaml:1:1: wrong number of args for printf: want at least 1 got 0');
  });

  it('checks argument types like Go', () => {
    expect(renderErrorMessage('{{ upper 3 }}')).toBe('werf.yaml:1:1: wrong type for value; expected string; got int');
    expect(renderErrorMessage('{{ upper .missing }}')).toBe('werf.yaml:1:1: invalid value; expected string');
    expect(renderErrorMessage('{{ upper nil }}')).toBe('werf.yaml:1:1: cannot assign nil to string');
    expect(renderErrorMessage('{{ upper .n }}', { n: null })).toBe('werf.yaml:1:1: wrong type for value; expected string; got interface {}');
    expect(renderErrorMessage('{{ repeat "3" "a" }}')).toBe('werf.yaml:1:1: wrong type for value; expected int; got string');
    expect(renderErrorMessage('{{ repeat 1.5 "a" }}')).toBe('werf.yaml:1:1: wrong type for value; expected int; got float64');
    expect(render('{{ repeat 2.0 "a" }}')).toBe('aa');
    expect(renderErrorMessage('{{ ternary 1 2 "yes" }}')).toBe('werf.yaml:1:1: wrong type for value; expected bool; got string');
    expect(renderErrorMessage('{{ hasKey (list) "a" }}')).toBe('werf.yaml:1:1: wrong type for value; expected map[string]interface {}; got []interface {}');
  });

  it('lets a function with no arguments be an argument', () => {
    expect(render('{{ len (list uuidv4 uuidv4) }}')).toBe('2');
  });
});
