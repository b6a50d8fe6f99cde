// The evaluator: walks a parsed template with Go text/template's semantics.

import { TemplateError } from './error.js';
import { fmtValue } from './format.js';
import { argString, parseTemplate, positionString, type Arg, type Command, type ControlNode, type Node, type Pipe, type Tree } from './parser.js';
import { quote } from '../../go/strconv.js';
import {
  GoFloat,
  argTypeName,
  getKey,
  hasKey,
  isInt,
  isMap,
  isNumber,
  numValue,
  sortedKeys,
  toPlain,
  truth,
} from './values.js';

/** Maximum nesting of {{template}}, include and tpl (Go allows 100000; a JavaScript stack does not). */
export const MAX_TEMPLATE_DEPTH = 1000;

/**
 * How an argument is checked and converted before a function sees it, after Go's parameter types:
 * 'any' is interface{} (a missing value becomes nil), 'value' is reflect.Value (kept as is),
 * 'map' is map[string]interface{} (nil allowed), the others must have that Go type.
 */
export type ParamKind = 'any' | 'value' | 'string' | 'int' | 'float' | 'bool' | 'map' | GoTypeParam;

/** A parameter of a Go type the engine models with a class (time.Time, sprig.certificate): the value must be one. */
export interface GoTypeParam {
  goType: string;
  accepts(v: unknown): boolean;
}

export interface CallContext {
  engine: Engine;
  /** `file:line:col` of the action making the call (computed on demand: it scans the file). */
  callSite(): string;
}

export interface FuncSpec {
  params: ParamKind[];
  /** Kind of the variadic arguments; absent for a fixed number of arguments. */
  variadic?: ParamKind;
  fn: (this: CallContext, ...args: any[]) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The builtin and/or: arguments are evaluated lazily and the deciding one is returned. */
  shortCircuit?: 'and' | 'or';
  /** Arguments are handed over as plain JavaScript (functions supplied by the caller). */
  plain?: boolean;
  /** The function runs templates itself (include, tpl): their errors carry their own position. */
  nested?: boolean;
}

const MISSING = Symbol('missing');
type Final = unknown;

const enum Signal {
  None,
  Break,
  Continue,
}

interface Variable {
  name: string;
  value: unknown;
}

function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && e.message.includes('call stack');
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A set of templates (the main file, .werf/*.tmpl files, their {{define}}s) and functions. */
export class Engine {
  readonly templates = new Map<string, Tree>();
  depth = 0;

  constructor(readonly funcs: Map<string, FuncSpec>) {}

  readonly hasFunction = (name: string): boolean => this.funcs.has(name);

  /** Parses a file and adds its body (under `name`) and its {{define}}s to the set; later files win. */
  addFile(name: string, source: string, file = name): Tree {
    const { tree, defines } = parseTemplate(name, file, source, this.hasFunction);
    this.associate(tree);
    for (const t of defines.values()) this.associate(t);
    return tree;
  }

  private associate(tree: Tree): void {
    const old = this.templates.get(tree.name);
    // Like Go, an empty definition never replaces a template that has content.
    if (old && isEmptyTree(tree) && !isEmptyTree(old)) return;
    this.templates.set(tree.name, tree);
  }

  /** Runs a template to a string. `frame` describes the call for error messages (include, tpl). */
  execute(tree: Tree, data: unknown, frame?: () => string): string {
    if (this.depth >= MAX_TEMPLATE_DEPTH) {
      throw new Error(`exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
    }
    this.depth++;
    try {
      return new State(this, tree, data).run();
    } catch (e) {
      if (frame && e instanceof TemplateError) e.addFrame(frame());
      throw e;
    } finally {
      this.depth--;
    }
  }
}

function isEmptyTree(tree: Tree): boolean {
  return tree.root.every((n) => n.kind === 'text' && n.text.trim() === '');
}

class State {
  private readonly out: string[] = [];
  private vars: Variable[];
  private tree: Tree;
  private pos = 0;

  constructor(
    private readonly engine: Engine,
    tree: Tree,
    private readonly data: unknown,
  ) {
    this.tree = tree;
    this.vars = [{ name: '$', value: data }];
  }

  run(): string {
    try {
      this.walk(this.data, this.tree.root);
    } catch (e) {
      // Out of stack: report it here, or (if that overflows too) in an outer template.
      if (isStackOverflow(e)) this.fail('template recursion is too deep (out of stack)', e);
      throw e;
    }
    return this.out.join('');
  }

  // --- errors and variables ---------------------------------------------------------------------

  private where(): string {
    return positionString(this.tree.file, this.tree.source, this.pos);
  }

  private fail(msg: string, cause?: unknown): never {
    throw new TemplateError(`${this.where()}: ${msg}`, cause === undefined ? {} : { cause });
  }

  private push(name: string, value: unknown): void {
    this.vars.push({ name, value });
  }

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.fail(`undefined variable: ${name}`);
  }

  private setTopVar(n: number, value: unknown): void {
    this.vars[this.vars.length - n]!.value = value;
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) return this.vars[i]!.value;
    }
    this.fail(`undefined variable: ${name}`);
  }

  // --- statements -----------------------------------------------------------------------------

  private walk(dot: unknown, list: Node[]): Signal {
    for (const node of list) {
      let sig = Signal.None;
      switch (node.kind) {
        case 'text':
          this.out.push(node.text);
          break;
        case 'action': {
          this.pos = node.pos;
          // Declarations persist until the end of the enclosing control structure.
          const val = this.evalPipeline(dot, node.pipe);
          if (node.pipe.decl.length === 0) this.printValue(node, val);
          break;
        }
        case 'if':
        case 'with':
          sig = this.walkIfOrWith(dot, node);
          break;
        case 'range':
          sig = this.walkRange(dot, node);
          break;
        case 'template':
          this.walkTemplate(dot, node);
          break;
        case 'break':
          return Signal.Break;
        case 'continue':
          return Signal.Continue;
      }
      if (sig !== Signal.None) return sig;
    }
    return Signal.None;
  }

  private printValue(node: Node & { kind: 'action' }, val: unknown): void {
    if (val === undefined || val === null) {
      this.out.push('<no value>');
      return;
    }
    if (typeof val === 'function') this.fail(`can't print ${node.pipe.cmds.map((c) => c.args.map(argString).join(' ')).join(' | ')} of type func`);
    this.out.push(fmtValue(val));
  }

  private walkIfOrWith(dot: unknown, node: ControlNode): Signal {
    const mark = this.vars.length;
    this.pos = node.pos;
    const val = this.evalPipeline(dot, node.pipe);
    let sig = Signal.None;
    if (truth(val)) sig = this.walk(node.kind === 'with' ? val : dot, node.list);
    else if (node.elseList) sig = this.walk(dot, node.elseList);
    this.vars.length = mark;
    return sig;
  }

  private walkRange(dot: unknown, node: ControlNode): Signal {
    const mark = this.vars.length;
    this.pos = node.pos;
    const val = this.evalPipeline(dot, node.pipe);
    const inner = this.vars.length;
    const { decl, isAssign } = node.pipe;
    let ran = false;
    const one = (index: unknown, elem: unknown): Signal => {
      ran = true;
      if (decl.length > 0) {
        if (isAssign) this.setVar(decl[0]!, decl.length > 1 ? index : elem);
        else this.setTopVar(1, elem);
      }
      if (decl.length > 1) {
        if (isAssign) this.setVar(decl[1]!, elem);
        else this.setTopVar(2, index);
      }
      const sig = this.walk(elem, node.list);
      this.vars.length = inner;
      return sig;
    };
    if (Array.isArray(val)) {
      for (let i = 0; i < val.length; i++) {
        if (one(i, val[i] === undefined ? null : val[i]) === Signal.Break) break;
      }
    } else if (isInt(val)) {
      if (decl.length > 1) this.fail(`can't use ${fmtValue(val)} to iterate over more than one variable`);
      const n = numValue(val);
      for (let i = 0; i < n; i++) {
        if (one(undefined, i) === Signal.Break) break;
      }
    } else if (isMap(val)) {
      for (const k of sortedKeys(val)) {
        const v = val[k];
        if (one(k, v === undefined ? null : v) === Signal.Break) break;
      }
    } else if (val !== undefined && val !== null) {
      this.pos = node.pos;
      this.fail(`range can't iterate over ${fmtValue(val)}`);
    }
    if (!ran && node.elseList) this.walk(dot, node.elseList);
    this.vars.length = mark;
    return Signal.None;
  }

  private walkTemplate(dot: unknown, node: Node & { kind: 'template' }): void {
    this.pos = node.pos;
    const tmpl = this.engine.templates.get(node.name);
    if (!tmpl) this.fail(`template ${quote(node.name)} not defined`);
    const newDot = node.pipe ? this.evalPipeline(dot, node.pipe) : undefined;
    if (this.engine.depth >= MAX_TEMPLATE_DEPTH) this.fail(`exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
    const saved = { tree: this.tree, vars: this.vars, pos: this.pos };
    this.engine.depth++;
    this.tree = tmpl;
    this.vars = [{ name: '$', value: newDot }];
    try {
      this.walk(newDot, tmpl.root);
    } catch (e) {
      if (e instanceof TemplateError) e.addFrame(`template ${quote(node.name)} at ${positionString(saved.tree.file, saved.tree.source, node.pos)}`);
      throw e;
    } finally {
      this.engine.depth--;
      this.tree = saved.tree;
      this.vars = saved.vars;
      this.pos = saved.pos;
    }
  }

  // --- expressions ----------------------------------------------------------------------------

  private evalPipeline(dot: unknown, pipe: Pipe): unknown {
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      // Like Go, a nil interface result becomes "no value".
      if (value === null) value = undefined;
    }
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVar(name, value);
      else this.push(name, value);
    }
    return value;
  }

  private evalCommand(dot: unknown, cmd: Command, final: Final): unknown {
    const first = cmd.args[0]!;
    switch (first.kind) {
      case 'field':
        return this.evalFieldChain(dot, dot, first.idents, cmd.args, final);
      case 'chain':
        return this.evalChain(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first.name, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first.pipe);
      case 'variable':
        return this.evalVariable(dot, first, cmd.args, final);
    }
    this.notAFunction(cmd.args, final);
    switch (first.kind) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        this.fail('nil is not a command');
      // falls through (fail never returns)
      case 'number':
        return constant(first);
      case 'string':
        return first.value;
    }
  }

  private notAFunction(args: Arg[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.fail(`can't give argument to non-function ${argString(args[0]!)}`);
  }

  /** An argument's value, unconverted. */
  private evalArg(dot: unknown, arg: Arg): unknown {
    switch (arg.kind) {
      case 'dot':
        return dot;
      case 'nil':
        return null;
      case 'field':
        return this.evalFieldChain(dot, dot, arg.idents, [arg], MISSING);
      case 'variable':
        return this.evalVariable(dot, arg, [arg], MISSING);
      case 'pipe':
        return this.evalPipeline(dot, arg.pipe);
      case 'identifier':
        return this.evalFunction(dot, arg.name, [arg], MISSING);
      case 'chain':
        return this.evalChain(dot, arg, [arg], MISSING);
      case 'bool':
        return arg.value;
      case 'number':
        return constant(arg);
      case 'string':
        return arg.value;
    }
  }

  private evalChain(dot: unknown, chain: Arg & { kind: 'chain' }, args: Arg[], final: Final): unknown {
    if (chain.node.kind === 'nil') this.fail(`indirection through explicit nil in ${argString(chain)}`);
    const receiver = this.evalArg(dot, chain.node);
    return this.evalFieldChain(dot, receiver, chain.fields, args, final);
  }

  private evalVariable(dot: unknown, v: Arg & { kind: 'variable' }, args: Arg[], final: Final): unknown {
    const value = this.varValue(v.name);
    if (v.idents.length === 0) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, v.idents, args, final);
  }

  private evalFieldChain(dot: unknown, receiver: unknown, idents: string[], args: Arg[], final: Final): unknown {
    const n = idents.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, idents[i]!, [], MISSING, receiver);
    return this.evalField(dot, idents[n - 1]!, args, final, receiver);
  }

  private evalField(dot: unknown, name: string, args: Arg[], final: Final, receiver: unknown): unknown {
    if (receiver === undefined) return undefined; // a missing key propagates as "no value"
    if (receiver === null) this.fail(`nil pointer evaluating interface {}.${name}`);
    const hasArgs = args.length > 1 || final !== MISSING;
    if (isMap(receiver)) {
      if (hasKey(receiver, name)) {
        const v = getKey(receiver, name);
        if (typeof v === 'function') {
          const method = v as (...a: unknown[]) => unknown;
          const spec: FuncSpec = { params: [], variadic: 'any', plain: true, fn: (...a: unknown[]) => method.apply(receiver, a) };
          return this.evalCall(dot, spec, name, args.slice(1), final);
        }
        if (hasArgs) this.fail(`${name} is not a method but has arguments`);
        return v === undefined ? null : v;
      }
      if (hasArgs) this.fail(`${name} is not a method but has arguments`);
      return undefined;
    }
    this.fail(`can't evaluate field ${name} in type ${argTypeName(receiver)}`);
  }

  private evalFunction(dot: unknown, name: string, args: Arg[], final: Final): unknown {
    const spec = this.engine.funcs.get(name);
    if (!spec) this.fail(`${quote(name)} is not a defined function`);
    return this.evalCall(dot, spec, name, args.slice(1), final);
  }

  private evalCall(dot: unknown, spec: FuncSpec, name: string, args: Arg[], final: Final): unknown {
    const numIn = args.length + (final === MISSING ? 0 : 1);
    const fixed = spec.params.length;
    if (spec.variadic !== undefined) {
      if (numIn < fixed) this.fail(`wrong number of args for ${name}: want at least ${fixed} got ${numIn}`);
    } else if (numIn !== fixed) {
      this.fail(`wrong number of args for ${name}: want ${fixed} got ${numIn}`);
    }

    if (spec.shortCircuit) {
      let v: unknown;
      for (const arg of args) {
        v = this.evalArg(dot, arg);
        if (truth(v) === (spec.shortCircuit === 'or')) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }

    const argv: unknown[] = [];
    const kindAt = (i: number): ParamKind => (i < fixed ? spec.params[i]! : spec.variadic!);
    args.forEach((arg, i) => argv.push(this.convert(this.evalArg(dot, arg), kindAt(i), arg)));
    if (final !== MISSING) argv.push(this.convert(final, kindAt(numIn - 1), null));
    const callArgs = spec.plain ? argv.map(toPlain) : argv;

    const tree = this.tree;
    const pos = this.pos;
    const ctx: CallContext = { engine: this.engine, callSite: () => positionString(tree.file, tree.source, pos) };
    let result: unknown;
    try {
      result = spec.fn.apply(ctx, callArgs);
    } catch (e) {
      if (spec.nested && e instanceof TemplateError) throw e;
      if (isStackOverflow(e)) throw e; // State.run reports it
      this.fail(`error calling ${name}: ${errorMessage(e)}`, e);
    }
    if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
      this.fail(`error calling ${name}: it returned a Promise; template functions must be synchronous`);
    }
    return result === undefined ? null : result;
  }

  /** Checks and converts an argument for a parameter, with Go's messages. */
  private convert(value: unknown, kind: ParamKind, arg: Arg | null): unknown {
    const expected: Record<Exclude<ParamKind, GoTypeParam>, string> = {
      any: 'interface {}',
      value: 'reflect.Value',
      string: 'string',
      int: 'int',
      float: 'float64',
      bool: 'bool',
      map: 'map[string]interface {}',
    };
    const name = typeof kind === 'object' ? kind.goType : expected[kind];
    const wrong = (): never => {
      if (value === undefined) this.fail(`invalid value; expected ${name}`);
      if (arg && arg.kind === 'nil') this.fail(`cannot assign nil to ${name}`);
      this.fail(`wrong type for value; expected ${name}; got ${argTypeName(value)}`);
    };
    if (typeof kind === 'object') return kind.accepts(value) ? value : wrong();
    switch (kind) {
      case 'value':
        return value;
      case 'any':
        return value === undefined ? null : value;
      case 'string':
        return typeof value === 'string' ? value : wrong();
      case 'int':
        if (typeof value === 'number' && Number.isInteger(value)) return value;
        if (typeof value === 'bigint') return Number(value);
        if (value instanceof GoFloat && Number.isInteger(value.value)) return value.value;
        return wrong();
      case 'float':
        return isNumber(value) ? numValue(value) : wrong();
      case 'bool':
        return typeof value === 'boolean' ? value : wrong();
      case 'map':
        if (value === undefined || value === null) return null;
        return isMap(value) ? value : wrong();
    }
  }
}

function constant(n: Arg & { kind: 'number' }): unknown {
  if (!n.isFloat) return n.value;
  return Number.isInteger(n.value) ? new GoFloat(n.value) : n.value;
}
