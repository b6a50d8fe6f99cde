import { describe, it, expect } from 'vitest';

import { ConfigError } from '../../src/errors.js';
import { renderTemplate } from '../../src/config/template/index.js';
import { render, renderError } from '../support/template.js';

describe('text and actions', () => {
  it('copies text and prints values', () => {
    expect(render('plain text\n')).toBe('plain text\n');
    expect(render('')).toBe('');
    expect(render('a {{ .x }} b', { x: 'X' })).toBe('a X b');
    expect(render('{{.x}}{{.y}}', { x: 1, y: true })).toBe('1true');
  });

  it('prints <no value> for a missing key, like Go with the default missingkey option', () => {
    expect(render('[{{ .missing }}]')).toBe('[<no value>]');
    expect(render('[{{ .a.b.c }}]')).toBe('[<no value>]');
    expect(renderTemplate('[{{ . }}]', undefined, { name: 'x' })).toBe('[<no value>]');
    // A nil value prints <no value> too (the pipeline result is unwrapped), but print shows <nil>.
    expect(render('[{{ .n }}] [{{ print .n }}] [{{ print .missing }}]', { n: null })).toBe('[<no value>] [<nil>] [<nil>]');
  });

  it('fails on a field of nil, but not of a missing key', () => {
    expect(renderError('{{ .a.b }}', { a: null }).message).toBe('werf.yaml:1:1: nil pointer evaluating interface {}.b');
    expect(renderError('{{ .a.b }}', { a: 'str' }).message).toBe("werf.yaml:1:1: can't evaluate field b in type string");
  });

  it('prints maps with sorted keys and slices with spaces, like fmt', () => {
    expect(render('{{ . }}', { b: 2, a: 1, c: [1, 'x', null], d: {} })).toBe('map[a:1 b:2 c:[1 x <nil>] d:map[]]');
    expect(render('{{ .l }}', { l: ['a', 'b'] })).toBe('[a b]');
    expect(render('{{ .l }}', { l: [] })).toBe('[]');
    expect(render('{{ .m }}', { m: { z: { y: 1 }, a: [true] } })).toBe('map[a:[true] z:map[y:1]]');
  });
});

describe('trim markers and comments', () => {
  it('trims the whitespace before {{- and after -}}', () => {
    expect(render('a  \n\t{{- "b" }}  c')).toBe('ab  c');
    expect(render('a  {{ "b" -}} \n\n c')).toBe('a  bc');
    expect(render('a \n {{- "b" -}} \n c')).toBe('abc');
    expect(render('x\n{{- if true }}\n  y\n{{- end }}\n')).toBe('x\n  y\n');
  });

  it('needs a space next to the dash: {{-3}} is the number -3', () => {
    expect(render('a {{-3}} b')).toBe('a -3 b');
    expect(render('a {{- 3 }} b')).toBe('a3 b');
    expect(render('{{ 3 -}}\n')).toBe('3');
    expect(render('a {{-\t3\t-}}\tb')).toBe('a3b');
    expect(render('a {{-\n3\n-}}\nb')).toBe('a3b');
  });

  it('trims across newlines and everything else that is whitespace', () => {
    expect(render('list:\n{{- range list 1 2 }}\n- {{ . }}\n{{- end }}\n')).toBe('list:\n- 1\n- 2\n');
  });

  it('skips comments, with or without trim markers', () => {
    expect(render('a{{/* a comment */}}b')).toBe('ab');
    expect(render('a {{- /* x */ -}} b')).toBe('ab');
    expect(render('a {{- /* multi\nline */}} b')).toBe('a b');
    expect(render('{{/* {{ .x }} */}}ok')).toBe('ok');
  });

  it('rejects malformed comments', () => {
    expect(renderError('x {{/* no end').message).toBe('werf.yaml:1:3: unclosed comment');
    expect(renderError('{{/* c */ x }}').message).toBe('werf.yaml:1:1: comment ends before closing delimiter');
  });
});

describe('literals', () => {
  it('reads strings with Go escapes and raw strings', () => {
    expect(render('{{ "a\\tb\\n\\"c\\"\\\\" }}')).toBe('a\tb\n"c"\\');
    expect(render('{{ "\\x41\\u00e9\\U0001F600\\101" }}')).toBe('Aé😀A');
    expect(render('{{ "\\xc3\\xa9" }}')).toBe('é');
    expect(render('{{ `raw \\n {{ "x" }}` }}')).toBe('raw \\n {{ "x" }}');
    expect(render('{{ `multi\nline` }}')).toBe('multi\nline');
  });

  it('reads numbers: ints, floats, hex, octal, binary, exponents, chars', () => {
    expect(render('{{ 42 }} {{ -7 }} {{ +3 }} {{ 0x1F }} {{ 0o17 }} {{ 017 }} {{ 0b101 }} {{ 1_000 }}')).toBe('42 -7 3 31 15 15 5 1000');
    expect(render('{{ 1.5 }} {{ 1.0 }} {{ .5 }} {{ 1e3 }} {{ 1e6 }} {{ 2.5e-5 }} {{ 123456.0 }} {{ 1234567.0 }}')).toBe(
      '1.5 1 0.5 1000 1e+06 2.5e-05 123456 1.234567e+06',
    );
    expect(render("{{ 'a' }} {{ '\\n' }} {{ 'é' }} {{ '\\x41' }}")).toBe('97 10 233 65');
  });

  it('reads booleans and nil', () => {
    expect(render('{{ true }} {{ false }} {{ print nil }}')).toBe('true false <nil>');
    expect(renderError('{{ nil }}').message).toBe('werf.yaml:1:1: nil is not a command');
  });

  it('rejects bad literals', () => {
    expect(renderError('{{ "abc }}').message).toBe('werf.yaml:1:1: unterminated quoted string');
    expect(renderError('{{ `abc }}').message).toBe('werf.yaml:1:1: unterminated raw quoted string');
    expect(renderError("{{ 'ab' }}").message).toBe("werf.yaml:1:1: malformed character constant: 'ab'");
    expect(renderError('{{ 3x }}').message).toBe('werf.yaml:1:1: bad number syntax: "3x"');
    expect(renderError('{{ "\\q" }}').message).toBe('werf.yaml:1:1: invalid syntax in "\\q"');
  });
});

describe('pipelines', () => {
  it('passes the piped value as the last argument', () => {
    expect(render('{{ "abc" | upper }}')).toBe('ABC');
    expect(render('{{ "b" | printf "%s-%s" "a" }}')).toBe('a-b');
    expect(render('{{ .x | default "d" | upper | quote }}')).toBe('"D"');
  });

  it('evaluates parenthesised sub-pipelines', () => {
    expect(render('{{ printf "%s/%s" (upper "a") ("b" | upper) }}')).toBe('A/B');
    expect(render('{{ (list 1 2 3) }}')).toBe('[1 2 3]');
    expect(render('{{ (dict "a" (dict "b" "deep")).a.b }}')).toBe('deep');
  });

  it('reads field chains on dot, $ and variables', () => {
    const data = { a: { b: { c: 'abc' } }, list: [1] };
    expect(render('{{ .a.b.c }} {{ $.a.b.c }}', data)).toBe('abc abc');
    expect(render('{{ $x := .a }}{{ $x.b.c }}', data)).toBe('abc');
    expect(render('{{ with .a }}{{ $.list }} {{ .b.c }}{{ end }}', data)).toBe('[1] abc');
  });

  it('calls functions found in the data like methods, with arguments and piped values', () => {
    const files = {
      Get: (path: string) => `content of ${path}`,
      Exists: (path: string) => path === 'a.txt',
    };
    const data = { Files: files, Commit: { Hash: 'abc123', Date: { Unix: '1700000000' } } };
    expect(render('{{ .Files.Get "a.txt" }}', data)).toBe('content of a.txt');
    expect(render('{{ "b.txt" | .Files.Get }}', data)).toBe('content of b.txt');
    expect(render('{{ if .Files.Exists "a.txt" }}yes{{ end }}{{ if .Files.Exists "b" }}no{{ end }}', data)).toBe('yes');
    expect(render('{{ .Commit.Hash }} {{ .Commit.Date.Unix }}', data)).toBe('abc123 1700000000');
    expect(render('{{ $f := .Files }}{{ $f.Get "x" }}', data)).toBe('content of x');
  });

  it('calls methods of class instances with their receiver', () => {
    class Files {
      constructor(private readonly root: string) {}
      Get(path: string): string {
        return `${this.root}/${path}`;
      }
    }
    expect(render('{{ .Files.Get "a" }}', { Files: new Files('/r') })).toBe('/r/a');
    expect(render('{{ .Files.constructor }}', { Files: new Files('/r') })).toBe('<no value>');
    expect(render('{{ .toString }}', {})).toBe('<no value>');
  });

  it('reports errors thrown by data methods', () => {
    const data = {
      Files: {
        Get: (p: string) => {
          throw new Error(`the file "${p}" must be committed`);
        },
      },
    };
    expect(renderError('x\n  {{ .Files.Get "a" }}', data).message).toBe('werf.yaml:2:3: error calling Get: the file "a" must be committed');
  });

  it('rejects arguments to non-functions', () => {
    expect(renderError('{{ .a "x" }}', { a: 1 }).message).toBe('werf.yaml:1:1: a is not a method but has arguments');
    expect(renderError('{{ "x" | "y" }}').message).toBe('werf.yaml:1:1: non executable command in pipeline stage 2');
    expect(renderError('{{ $x := 1 }}{{ $x 2 }}').message).toBe("werf.yaml:1:14: can't give argument to non-function $x");
  });
});

describe('variables', () => {
  it('declares and assigns', () => {
    expect(render('{{ $x := "a" }}{{ $x }}{{ $x = "b" }}{{ $x }}')).toBe('ab');
    expect(render('{{ $ }}', 'root')).toBe('root');
    expect(render('{{ $_ := set . "Var" "v" }}{{ .Var }}', {})).toBe('v');
  });

  it('scopes a variable to the control structure it is declared in', () => {
    expect(render('{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ $y := 3 }}{{ $y }}{{ end }}{{ $x }}')).toBe('32');
    expect(render('{{ if $v := .a }}{{ $v }}{{ else }}{{ $v }}-else{{ end }}', { a: 0 })).toBe('0-else');
    expect(render('{{ with $v := .a }}{{ $v }}{{ end }}', { a: 'w' })).toBe('w');
    expect(renderError('{{ if true }}{{ $y := 3 }}{{ end }}{{ $y }}').message).toBe('werf.yaml:1:36: undefined variable "$y"');
    expect(renderError('{{ range list 1 }}{{ $i := . }}{{ end }}{{ $i }}').message).toBe('werf.yaml:1:41: undefined variable "$i"');
  });

  it('resets variables declared in a range body on every iteration', () => {
    expect(render('{{ $sum := 0 }}{{ range list 1 2 3 }}{{ $sum = add $sum . }}{{ end }}{{ $sum }}')).toBe('6');
  });

  it('rejects undefined variables at parse time', () => {
    expect(renderError('text\n{{ $nope }}').message).toBe('werf.yaml:2:1: undefined variable "$nope"');
    expect(renderError('{{ $nope = 1 }}').message).toBe('werf.yaml:1:1: undefined variable "$nope"');
  });

  it('gives each template its own variables', () => {
    expect(renderError('{{ define "t" }}{{ $x }}{{ end }}{{ $x := 1 }}{{ template "t" }}').message).toBe(
      'werf.yaml:1:17: undefined variable "$x"',
    );
    expect(render('{{ define "t" }}{{ $ }}{{ end }}{{ $x := 1 }}{{ template "t" "dot" }}')).toBe('dot');
  });
});

describe('if / else if / else', () => {
  it('follows Go truthiness', () => {
    const cases: [unknown, string][] = [
      [false, 'F'],
      [true, 'T'],
      [0, 'F'],
      [1, 'T'],
      [0.0, 'F'],
      ['', 'F'],
      ['0', 'T'],
      [[], 'F'],
      [[0], 'T'],
      [{}, 'F'],
      [{ a: 1 }, 'T'],
      [null, 'F'],
      [undefined, 'F'],
    ];
    for (const [v, want] of cases) expect(render('{{ if .v }}T{{ else }}F{{ end }}', { v })).toBe(want);
    expect(render('{{ if .missing }}T{{ else }}F{{ end }}', {})).toBe('F');
  });

  it('chains else if', () => {
    const t = '{{ if eq .n 1 }}one{{ else if eq .n 2 }}two{{ else if eq .n 3 }}three{{ else }}many{{ end }}';
    expect([1, 2, 3, 4].map((n) => render(t, { n }))).toEqual(['one', 'two', 'three', 'many']);
  });

  it('rejects misplaced else and end', () => {
    expect(renderError('{{ if true }}a{{ else }}b{{ else }}c{{ end }}').message).toBe('werf.yaml:1:26: expected {{end}}; found {{else}}');
    expect(renderError('a\n{{ else }}').message).toBe('werf.yaml:2:1: unexpected {{else}}');
    expect(renderError('{{ range . }}{{ else if true }}{{ end }}').message).toBe('werf.yaml:1:14: {{else if}} is not allowed in {{range}}');
    expect(renderError('{{ if }}x{{ end }}').message).toBe('werf.yaml:1:1: missing value for if');
  });
});

describe('with', () => {
  it('sets dot when the value is true, with else and else with', () => {
    expect(render('{{ with .a }}[{{ . }}]{{ end }}', { a: 'x' })).toBe('[x]');
    expect(render('{{ with .a }}[{{ . }}]{{ end }}', { a: '' })).toBe('');
    expect(render('{{ with .a }}a{{ else }}none{{ end }}', {})).toBe('none');
    const t = '{{ with .a }}a={{ . }}{{ else with .b }}b={{ . }}{{ else }}none{{ end }}';
    expect(render(t, { a: 1, b: 2 })).toBe('a=1');
    expect(render(t, { b: 2 })).toBe('b=2');
    expect(render(t, {})).toBe('none');
  });
});

describe('range', () => {
  it('iterates lists with and without variables', () => {
    expect(render('{{ range .l }}<{{ . }}>{{ end }}', { l: ['a', 'b'] })).toBe('<a><b>');
    expect(render('{{ range $v := .l }}{{ $v }}{{ end }}', { l: ['a', 'b'] })).toBe('ab');
    expect(render('{{ range $i, $v := .l }}{{ $i }}={{ $v }};{{ end }}', { l: ['a', 'b'] })).toBe('0=a;1=b;');
  });

  it('iterates maps in sorted key order, whatever the insertion order', () => {
    expect(render('{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ end }}', { zeta: 1, alpha: 2, Beta: 3, '10': 4, '9': 5 })).toBe(
      '10=4;9=5;Beta=3;alpha=2;zeta=1;',
    );
    expect(render('{{ range . }}{{ . }}{{ end }}', { b: 'B', a: 'A' })).toBe('AB');
  });

  it('iterates integers (Go 1.22)', () => {
    expect(render('{{ range 3 }}{{ . }}{{ end }}')).toBe('012');
    expect(render('{{ range $i := 3 }}{{ $i }}{{ end }}')).toBe('012');
    expect(render('{{ range 0 }}x{{ else }}none{{ end }}')).toBe('none');
    expect(renderError('{{ range $i, $v := 3 }}{{ end }}').message).toBe("werf.yaml:1:1: can't use 3 to iterate over more than one variable");
  });

  it('runs else for empty or missing collections', () => {
    expect(render('{{ range .l }}x{{ else }}empty{{ end }}', { l: [] })).toBe('empty');
    expect(render('{{ range .missing }}x{{ else }}empty{{ end }}', {})).toBe('empty');
    expect(render('{{ range .m }}x{{ else }}empty{{ end }}', { m: {} })).toBe('empty');
  });

  it('supports break and continue', () => {
    const t = '{{ range list 1 2 3 4 5 }}{{ if eq . 2 }}{{ continue }}{{ end }}{{ if eq . 4 }}{{ break }}{{ end }}{{ . }}{{ end }}';
    expect(render(t)).toBe('13');
    expect(render('{{ range list 1 2 }}{{ range list 1 2 3 }}{{ if eq . 2 }}{{ break }}{{ end }}{{ . }}{{ end }};{{ end }}')).toBe('1;1;');
    expect(renderError('{{ break }}').message).toBe('werf.yaml:1:1: {{break}} outside {{range}}');
    expect(renderError('{{ range . }}{{ end }}{{ continue }}').message).toBe('werf.yaml:1:23: {{continue}} outside {{range}}');
  });

  it('assigns to existing variables with =', () => {
    expect(render('{{ $i := 0 }}{{ $v := 0 }}{{ range $i, $v = list "a" "b" }}{{ end }}{{ $i }}{{ $v }}')).toBe('1b');
  });

  it("refuses what it can't iterate", () => {
    expect(renderError('{{ range "abc" }}{{ end }}').message).toBe("werf.yaml:1:1: range can't iterate over abc");
    expect(renderError('{{ range 1.5 }}{{ end }}').message).toBe("werf.yaml:1:1: range can't iterate over 1.5");
  });
});

describe('define, template, block', () => {
  it('defines and invokes templates with a pipeline as dot', () => {
    expect(render('{{ define "greet" }}Hello {{ . }}{{ end }}{{ template "greet" "you" }}!')).toBe('Hello you!');
    expect(render('{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" }}')).toBe('[<no value>]');
    expect(render('{{ template "t" .x }}{{ define "t" }}{{ .y }}{{ end }}', { x: { y: 'later' } })).toBe('later');
  });

  it('keeps text around a define', () => {
    expect(render('a\n{{ define "t" }}x{{ end }}\nb')).toBe('a\n\nb');
    expect(render('a\n{{- define "t" }}x{{ end -}}\nb')).toBe('ab');
  });

  it('renders a block in place and lets a later file override it', () => {
    expect(render('{{ block "b" . }}default {{ .x }}{{ end }}', { x: 1 })).toBe('default 1');
    const templates = [{ name: 'layout.tmpl', source: '{{ define "page" }}<{{ block "b" . }}default{{ end }}>{{ end }}' }];
    expect(render('{{ template "page" . }}', {}, { templates })).toBe('<default>');
    expect(render('{{ define "b" }}override{{ end }}{{ template "page" . }}', {}, { templates })).toBe('<override>');
    // Within one file, a block and a define of the same name clash, as in Go.
    expect(renderError('{{ block "b" . }}x{{ end }}{{ define "b" }}y{{ end }}').message).toBe('werf.yaml:1:28: multiple definition of template "b"');
  });

  it('uses defines from extra template files, and lets the main file override them', () => {
    const templates = [
      { name: 'helpers.tmpl', source: '{{ define "a" }}A from helpers{{ end }}{{ define "b" }}B from helpers{{ end }}' },
      { name: 'more.tmpl', source: '{{ define "b" }}B from more{{ end }}' },
    ];
    expect(render('{{ template "a" }} {{ template "b" }}', {}, { templates })).toBe('A from helpers B from more');
    expect(render('{{ define "a" }}A from main{{ end }}{{ template "a" }}', {}, { templates })).toBe('A from main');
    // A template file is itself a template, named after the file.
    expect(render('{{ template "page.tmpl" . }}', { x: 1 }, { templates: [{ name: 'page.tmpl', source: 'x={{ .x }}' }] })).toBe('x=1');
  });

  it('rejects a template defined twice in one file, a nested define and a missing template', () => {
    expect(renderError('{{ define "t" }}1{{ end }}\n{{ define "t" }}2{{ end }}').message).toBe('werf.yaml:2:1: multiple definition of template "t"');
    expect(renderError('{{ if true }}{{ define "x" }}{{ end }}{{ end }}').message).toMatch(/^werf\.yaml:1:14: \{\{define\}\} is only allowed at the top level/);
    expect(renderError('a\n  {{ template "nope" }}').message).toBe('werf.yaml:2:3: template "nope" not defined');
    expect(renderError('{{ template .x }}').message).toBe('werf.yaml:1:1: unexpected ".x" in template clause');
  });

  it('stops runaway recursion', () => {
    const e = renderError('{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}');
    expect(e.message).toMatch(/^werf\.yaml:1:17: exceeded maximum template depth \(1000\) \(via template "r" at werf\.yaml:1:17, /);
    const inc = renderError('{{ define "r" }}{{ include "r" . }}{{ end }}{{ include "r" . }}');
    expect(inc.message).toMatch(/^werf\.yaml:1:17: (error calling include: exceeded maximum template depth \(1000\)|template recursion is too deep)/);
  });
});

describe('syntax errors', () => {
  it('reports an unknown function at parse time', () => {
    const e = renderError('project: x\n---\nimage: {{ foo .x }}\n');
    expect(e.message).toBe('werf.yaml:3:8: function "foo" not defined');
  });

  it('reports parse errors before running anything', () => {
    const calls: string[] = [];
    const e = renderError('{{ .Files.Get "a" }}{{ nope }}', { Files: { Get: (p: string) => calls.push(p) } });
    expect(e.message).toBe('werf.yaml:1:21: function "nope" not defined');
    expect(calls).toEqual([]);
  });

  it('reports an unclosed action at the action', () => {
    expect(renderError('a: 1\nb: {{ .x ').message).toBe('werf.yaml:2:4: unclosed action');
    // Actions may span lines (Go 1.16), so an unclosed action usually swallows the next words.
    expect(renderError('a: {{ .x \nc: 3\n').message).toBe('werf.yaml:1:4: function "c" not defined');
    expect(renderError('{{ (print 1 }}').message).toBe('werf.yaml:1:1: unclosed left paren');
    expect(renderError('{{ print 1) }}').message).toBe('werf.yaml:1:1: unexpected ")" in command');
  });

  it('reports an unexpected {{end}} and a missing one', () => {
    expect(renderError('a\nb {{ end }}').message).toBe('werf.yaml:2:3: unexpected {{end}}');
    expect(renderError('{{ if .x }}\n{{ range .y }}\n{{ end }}').message).toBe('werf.yaml:1:1: unexpected EOF: {{if}} has no matching {{end}}');
    expect(renderError('{{ define "x" }}abc').message).toBe('werf.yaml:1:1: unexpected EOF: {{define}} has no matching {{end}}');
  });

  it('reports bad actions', () => {
    expect(renderError('{{ }}').message).toBe('werf.yaml:1:1: missing value for command');
    expect(renderError('{{ .a-b }}').message).toBe("werf.yaml:1:1: bad character U+002D '-'");
    expect(renderError('{{ "a" "b" }}').message).toBe('werf.yaml:1:1: can\'t give argument to non-function "a"');
    expect(renderError('{{ # }}').message).toBe('werf.yaml:1:1: unexpected "#" in command');
    expect(renderError('{{ print # }}').message).toBe('werf.yaml:1:1: unexpected "#" in operand');
    expect(renderError('{{ 1.x }}').message).toBe('werf.yaml:1:1: bad number syntax: "1.x"');
    expect(renderError('{{ "a".b }}').message).toBe('werf.yaml:1:1: unexpected . after term "\\"a\\""');
    expect(renderError('{{ $x, $y := 1 }}').message).toBe('werf.yaml:1:1: too many declarations in command');
  });

  it('counts columns in characters on the line of the action', () => {
    expect(renderError('é😀 {{ nope }}').message).toBe('werf.yaml:1:4: function "nope" not defined');
    expect(renderError('{{ "x" }}\n\n\t\t{{ nope }}').message).toBe('werf.yaml:3:3: function "nope" not defined');
  });

  it('reports errors in a .tmpl file with that file name and position', () => {
    const templates = [{ name: 'helpers.tmpl', source: '{{ define "a" }}\n  {{ bogus }}\n{{ end }}' }];
    expect(renderError('{{ include "a" . }}', {}, { templates }).message).toBe('helpers.tmpl:2:3: function "bogus" not defined');
  });

  it('throws ConfigError subclasses only', () => {
    const e = renderError('{{ fail "x" }}');
    expect(e.name).toBe('TemplateError');
    expect(e).toBeInstanceOf(ConfigError);
  });
});
