// Go text/template with Sprig functions, as werf renders werf.yaml: renderTemplate is the entry point.
//
// Implemented: the whole template language of Go 1.23 (trim markers, comments, pipelines, variables and
// their scoping, if/else if/with/else with/range (lists, maps in key order, integers)/break/continue,
// define/template/block), Go's builtins, fmt's formatting of values and printf verbs, the Sprig
// functions listed in sprig.ts, and werf's include, tpl, required, toYaml, fromYaml and debug helpers.
//
// Known differences from werf (Go):
// - Values are JavaScript values: a number is an int when integral and a float64 otherwise (GoFloat
//   keeps 1.0, fromJson numbers and float64 results floats); int and int64 are not told apart, so
//   typeOf (add 1 2) says "int" where Go says "int64".
// - eq/lt/... compare an int with a float numerically where Go reports incompatible types.
// - A function-valued field is always called (Go calls methods only); there are no channels or
//   iterator functions to range over.
// - Regular expressions are RE2 translated to JavaScript: flags only at the start ((?i), (?s), (?m)),
//   no (?U); \b, \w and (?i) follow JavaScript's Unicode rules.
// - fromYaml yields plain maps at every level (yaml.v2 makes nested maps map[interface{}]interface{},
//   which sprig's dict functions refuse).
// - Every function of sprig v3.2.3's TxtFuncMap is there but expandenv (excluded as in werf); env is left
//   to the caller (options.functions). duration and durationRound take an integral number as an int64
//   (Go's sprig gives 0s for an int); time zones come from the system's zoneinfo files, as Go's do.
// - Recursion through {{template}}, include and tpl stops at depth 1000 (Go: 100000), or earlier with
//   "template recursion is too deep" if the JavaScript stack runs out first.

import { ConfigError } from '../../errors.js';
import { goBuiltins, werfFunctions } from './builtins.js';
import { Engine, type FuncSpec } from './exec.js';
import { sprigFunctions } from './sprig.js';

export type TemplateFunction = (...args: unknown[]) => unknown;

export interface TemplateOptions {
  /** File name used in error messages, e.g. 'werf.yaml'. */
  name: string;
  /** Extra template files (werf's .werf/*.tmpl): their {{define}}s become available to template/include. */
  templates?: { name: string; source: string }[];
  /** Functions added to (and overriding) the builtins, e.g. werf's `env` and giterminism-aware helpers. */
  functions?: Record<string, TemplateFunction>;
}

function functionTable(extra: Record<string, TemplateFunction> | undefined): Map<string, FuncSpec> {
  const table = new Map<string, FuncSpec>();
  // Later sources override earlier ones, as Funcs() overrides text/template's builtins.
  for (const source of [goBuiltins(), sprigFunctions(), werfFunctions()]) {
    for (const [name, spec] of Object.entries(source)) table.set(name, spec);
  }
  for (const [name, fn] of Object.entries(extra ?? {})) {
    table.set(name, { params: [], variadic: 'any', plain: true, fn: (...args: unknown[]) => fn(...args) });
  }
  return table;
}

/**
 * Renders a Go template (werf.yaml) with `data` as dot.
 *
 * The extra templates are parsed first, in order, then the main source; a later {{define}} of the same
 * name replaces an earlier one, and each file's body is also a template named after the file. Every
 * failure is a ConfigError whose message starts with `<file>:<line>:<col>: `.
 */
export function renderTemplate(source: string, data: unknown, options: TemplateOptions): string {
  const engine = new Engine(functionTable(options.functions));
  for (const t of options.templates ?? []) engine.addFile(t.name, t.source);
  const main = engine.addFile(options.name, source);
  try {
    return engine.execute(main, data);
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    if (e instanceof RangeError) {
      throw new ConfigError(`${options.name}: template recursion is too deep for the JavaScript stack`, { cause: e });
    }
    throw new ConfigError(`${options.name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
