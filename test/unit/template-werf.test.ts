import { describe, it, expect } from 'vitest';
import { parseAllDocuments } from 'yaml';

import { render, renderError } from '../support/template.js';

describe('a realistic werf.yaml', () => {
  const helpers = `{{- define "app.base" -}}
from: {{ .BaseImage }}
{{- end }}

{{- define "app.labels" -}}
project: {{ .project }}
commit: {{ .commit }}
{{- end }}
`;

  const werfYaml = `{{- $_ := set . "BaseImage" (env "BASE_IMAGE" "alpine:3.20") }}
{{- $_ := set . "Apps" (list "api" "worker") -}}
project: demo
configVersion: 1
build:
  platform:
  {{- range (env "PLATFORMS" "linux/amd64,linux/arm64" | splitList ",") }}
  - {{ . }}
  {{- end }}
{{- range $i, $name := .Apps }}
---
image: {{ $name }}
dockerfile: Dockerfile
args:
  INDEX: {{ $i | quote }}
  VERSION: {{ $.Files.Get "VERSION" | trim | quote }}
  COMMIT: {{ $.Commit.Hash | trunc 8 | quote }}
imageSpec:
  labels:
    {{- include "app.labels" (dict "project" "demo" "commit" $.Commit.Hash) | nindent 4 }}
{{- end }}
---
image: base
{{ include "app.base" . }}
`;

  const data = {
    Files: {
      Get: (path: string) => {
        if (path !== 'VERSION') throw new Error(`the file "${path}" must be committed`);
        return '1.2.3\n';
      },
    },
    Env: 'production',
    Commit: { Hash: '0123456789abcdef', Date: { Human: '2024-01-01 00:00:00 +0000 UTC', Unix: '1704067200' } },
  };

  const env = (name: unknown, ...rest: unknown[]): string => {
    const values: Record<string, string> = { BASE_IMAGE: 'debian:12' };
    const value = values[String(name)];
    if (value !== undefined && value !== '') return value;
    if (rest.length > 0) return String(rest[0]);
    throw new Error(`the environment variable "${String(name)}" must be set or default must be provided`);
  };

  it('renders to the expected YAML documents', () => {
    const out = render(werfYaml, { ...data }, {
      templates: [{ name: '_helpers.tmpl', source: helpers }],
      functions: { env },
    });
    expect(out).toBe(`project: demo
configVersion: 1
build:
  platform:
  - linux/amd64
  - linux/arm64
---
image: api
dockerfile: Dockerfile
args:
  INDEX: "0"
  VERSION: "1.2.3"
  COMMIT: "01234567"
imageSpec:
  labels:
    project: demo
    commit: 0123456789abcdef
---
image: worker
dockerfile: Dockerfile
args:
  INDEX: "1"
  VERSION: "1.2.3"
  COMMIT: "01234567"
imageSpec:
  labels:
    project: demo
    commit: 0123456789abcdef
---
image: base
from: debian:12
`);
    const docs = parseAllDocuments(out);
    expect(Array.isArray(docs) && docs.map((d) => d.toJS() as Record<string, unknown>).map((d) => d.image ?? d.project)).toEqual(['demo', 'api', 'worker', 'base']);
  });

  it('reports an env error from an extra function with its position', () => {
    const e = renderError('project: demo\nimage: {{ env "NOPE" }}\n', data, { functions: { env } });
    expect(e.message).toBe('werf.yaml:2:8: error calling env: the environment variable "NOPE" must be set or default must be provided');
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('reports a giterminism error from .Files.Get', () => {
    const e = renderError('x: {{ .Files.Get "secret.txt" }}', data);
    expect(e.message).toBe('werf.yaml:1:4: error calling Get: the file "secret.txt" must be committed');
  });
});

describe('include', () => {
  it('renders a named template to a string that can be piped', () => {
    expect(render('{{ define "t" }}a: {{ .x }}\nb: 2{{ end }}{{ include "t" . | indent 2 }}', { x: 1 })).toBe('  a: 1\n  b: 2');
    expect(render('{{ define "t" }}{{ . }}{{ end }}{{ include "t" "dot" | upper }}')).toBe('DOT');
    expect(render('{{ $s := include "t" 1 }}{{ len $s }}{{ define "t" }}abc{{ end }}')).toBe('3');
  });

  it('fails with the position of the include when the template is missing', () => {
    expect(renderError('image: a\nfrom: {{ include "nope" . }}').message).toBe('werf.yaml:2:7: error calling include: template "nope" not defined');
  });

  it('reports errors inside the included template at their own position, with the chain of calls', () => {
    const templates = [
      { name: 'a.tmpl', source: '{{ define "outer" }}\n{{ include "inner" . }}{{ end }}' },
      { name: 'b.tmpl', source: '\n\n{{ define "inner" }}  {{ fail "deep failure" }}{{ end }}' },
    ];
    const e = renderError('x\n  {{ include "outer" . }}', {}, { templates });
    expect(e.message).toBe(
      'b.tmpl:3:23: error calling fail: deep failure (via include "inner" at a.tmpl:2:1, via include "outer" at werf.yaml:2:3)',
    );
  });

  it('reports {{template}} calls in the chain too', () => {
    const e = renderError('{{ define "t" }}{{ required "x is required" .x }}{{ end }}\n{{ template "t" . }}');
    expect(e.message).toBe('werf.yaml:1:17: error calling required: x is required (via template "t" at werf.yaml:2:1)');
  });
});

describe('tpl', () => {
  it('renders a string as a template with the given data', () => {
    expect(render('{{ tpl "{{ .name }}-{{ upper .env }}" . }}', { name: 'app', env: 'prod' })).toBe('app-PROD');
    expect(render('{{ tpl .Values.tag . }}', { Values: { tag: '{{ .Env }}-1' }, Env: 'dev' })).toBe('dev-1');
  });

  it('sees the defines of the template set, and adds its own', () => {
    expect(render('{{ define "t" }}T{{ end }}{{ tpl "{{ include \\"t\\" . }}" . }}')).toBe('T');
    expect(render('{{ tpl "{{ define \\"new\\" }}N{{ end }}" . }}{{ include "new" . }}')).toBe('N');
  });

  it('reports errors in the string with the tpl call site', () => {
    expect(renderError('a\n{{ tpl "x {{ nope }}" . }}').message).toBe('tpl:1:3: function "nope" not defined (via tpl at werf.yaml:2:1)');
    expect(renderError('{{ tpl "{{ fail \\"bad\\" }}" . }}').message).toBe('tpl:1:1: error calling fail: bad (via tpl at werf.yaml:1:1)');
  });
});

describe('required', () => {
  it('passes values through and rejects nil or empty strings', () => {
    expect(render('{{ required "need x" .x }}|{{ .x | required "need x" }}|{{ required "m" 0 }}|{{ required "m" false }}', { x: 'v' })).toBe(
      'v|v|0|false',
    );
    expect(renderError('a: 1\nb: {{ required "b is required" .b }}').message).toBe('werf.yaml:2:4: error calling required: b is required');
    expect(renderError('{{ required "empty" "" }}').message).toBe('werf.yaml:1:1: error calling required: empty');
    expect(renderError('{{ .x | required "nil" }}', { x: null }).message).toBe('werf.yaml:1:1: error calling required: nil');
  });
});

describe('toYaml and fromYaml', () => {
  it('toYaml writes sorted block YAML without a trailing newline', () => {
    const data = { b: [1, 'two', { c: 3 }], a: { yes: 'yes', multi: 'x\ny', empty: '', n: null, num: '10' }, z: true };
    expect(render('{{ toYaml . }}', data)).toBe(`a:
  empty: ""
  multi: |-
    x
    y
  "n": null
  num: "10"
  "yes": "yes"
b:
- 1
- two
- c: 3
z: true`);
    expect(render('{{ toYaml "s" }}|{{ toYaml (list) }}|{{ toYaml (dict) }}|{{ toYaml 1.5 }}')).toBe('s|[]|{}|1.5');
    expect(render('{{ toYaml (dict "a2" 1 "a10" 2 "B" 3 "_x" 4) }}')).toBe('_x: 4\nB: 3\na2: 1\na10: 2');
  });

  it('toYaml nests under nindent', () => {
    expect(render('spec:{{ toYaml .s | nindent 2 }}', { s: { k: ['a'] } })).toBe('spec:\n  k:\n  - a');
  });

  it('fromYaml reads a map like yaml.v2 (YAML 1.1 booleans, ints, floats)', () => {
    const src = 'a: 1\\nb: [x, y, on, \\"no\\"]\\nc: 1.0\\nd: {e: ~}\\nf: 0777\\ng: 2024-01-01';
    expect(render(`{{ $d := fromYaml "${src}" }}{{ $d.a }} {{ $d.b }} {{ $d.c }} {{ $d.d }} {{ $d.f }} {{ $d.g }} {{ typeOf $d.c }}`)).toBe(
      '1 [x true true no] 1 map[e:<nil>] 511 2024-01-01 float64',
    );
    expect(render('{{ fromYaml "" }}')).toBe('map[]');
    expect(render('{{ (fromYaml (toYaml .)).a.b }}', { a: { b: 'round trip' } })).toBe('round trip');
  });

  it('fromYaml refuses what is not a map', () => {
    expect(renderError('{{ fromYaml "- a\\n- b" }}').message).toMatch(/^werf\.yaml:1:1: error calling fromYaml: yaml: unmarshal errors:/);
    expect(renderError('{{ fromYaml "a: [" }}').message).toMatch(/^werf\.yaml:1:1: error calling fromYaml: yaml: /);
  });
});

describe('functions supplied by the caller', () => {
  it('override builtins and receive plain JavaScript values', () => {
    const seen: unknown[] = [];
    const functions = {
      upper: (s: unknown) => `custom(${String(s)})`,
      probe: (...args: unknown[]) => {
        seen.push(...args);
        return 'ok';
      },
    };
    expect(render('{{ upper "a" }} {{ probe 1 1.0 "s" .missing (list 1) }}', {}, { functions })).toBe('custom(a) ok');
    expect(seen).toEqual([1, 1, 's', null, [1]]);
  });

  it('are known at parse time', () => {
    expect(render('{{ myfn }}', {}, { functions: { myfn: () => 'x' } })).toBe('x');
    expect(renderError('{{ myfn }}').message).toBe('werf.yaml:1:1: function "myfn" not defined');
  });

  it('must be synchronous', () => {
    const e = renderError('{{ later }}', {}, { functions: { later: async () => 'x' } });
    expect(e.message).toBe('werf.yaml:1:1: error calling later: it returned a Promise; template functions must be synchronous');
  });

  it('env is not a builtin and expandenv does not exist', () => {
    expect(renderError('{{ env "HOME" }}').message).toBe('werf.yaml:1:1: function "env" not defined');
    expect(renderError('{{ expandenv "$HOME" }}').message).toBe('werf.yaml:1:1: function "expandenv" not defined');
  });

  it('debug helpers render nothing', () => {
    expect(render('[{{ printf_debug "%s" "x" }}{{ include_debug "t" . }}{{ tpl_debug "x" . }}{{ dump_debug . }}]')).toBe('[]');
  });
});

describe('determinism', () => {
  it('does not depend on the insertion order of objects', () => {
    const t = '{{ . }}|{{ range $k, $v := . }}{{ $k }}{{ end }}|{{ keys . }}|{{ values . }}|{{ toJson . }}|{{ toYaml . }}';
    expect(render(t, { b: 1, a: 2, c: 3 })).toBe(render(t, { c: 3, a: 2, b: 1 }));
  });

  it('does not modify anything but what set/unset/merge touch', () => {
    const data = { list: [3, 1, 2], map: { a: 1 } };
    render('{{ sortAlpha .list }}{{ reverse .list }}{{ append .list 4 }}{{ omit .map "a" }}{{ dict "x" .map }}', data);
    expect(data).toEqual({ list: [3, 1, 2], map: { a: 1 } });
  });
});
