// The parser of Go text/template: tokens to a tree of nodes, with Go's checks (functions defined,
// variables declared, {{break}} inside {{range}}, one {{end}} per control structure).

import { TemplateError } from './error.js';
import { describeToken, lex, type Token, type TokenType } from './lexer.js';
import { quote } from '../../go/strconv.js';


export interface Tree {
  /** The template's name ({{define "name"}}, or the file name for a file's body). */
  name: string;
  /** The file holding the template, for error messages. */
  file: string;
  /** That file's text, to turn offsets into lines and columns. */
  source: string;
  root: Node[];
}

export interface ControlNode {
  kind: 'if' | 'with' | 'range';
  pos: number;
  pipe: Pipe;
  list: Node[];
  elseList: Node[] | null;
}

export type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pos: number; pipe: Pipe }
  | ControlNode
  | { kind: 'template'; pos: number; name: string; pipe: Pipe | null }
  | { kind: 'break' | 'continue'; pos: number };

export interface Pipe {
  isAssign: boolean;
  decl: string[];
  cmds: Command[];
}

export interface Command {
  args: Arg[];
}

export type Arg =
  | { kind: 'field'; idents: string[] }
  | { kind: 'variable'; name: string; idents: string[] }
  | { kind: 'chain'; node: Arg; fields: string[] }
  | { kind: 'identifier'; name: string }
  | { kind: 'dot' }
  | { kind: 'nil' }
  | { kind: 'bool'; value: boolean }
  | { kind: 'number'; value: number; isFloat: boolean; text: string }
  | { kind: 'string'; value: string; text: string }
  | { kind: 'pipe'; pipe: Pipe };

type Terminator = { kind: 'end'; pos: number } | { kind: 'else'; pos: number; chained: 'if' | 'with' | null };

export interface ParseResult {
  tree: Tree;
  /** Templates defined with {{define}} or {{block}}, in this file. */
  defines: Map<string, Tree>;
}

/** 1-based line and column (in characters) of an offset. */
export function location(source: string, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = source.indexOf('\n'); i >= 0 && i < offset; i = source.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  let col = 1;
  for (const _ of source.slice(lineStart, offset)) col++;
  return { line, col };
}

export function positionString(file: string, source: string, offset: number): string {
  const { line, col } = location(source, offset);
  return `${file}:${line}:${col}`;
}

/** How a node appears in messages (Go's Node.String, roughly). */
export function argString(a: Arg): string {
  switch (a.kind) {
    case 'field':
      return '.' + a.idents.join('.');
    case 'variable':
      return [a.name, ...a.idents].join('.');
    case 'chain':
      return argString(a.node) + '.' + a.fields.join('.');
    case 'identifier':
      return a.name;
    case 'dot':
      return '.';
    case 'nil':
      return 'nil';
    case 'bool':
      return String(a.value);
    case 'number':
      return a.text;
    case 'string':
      return a.text;
    case 'pipe':
      return '(' + pipeString(a.pipe) + ')';
  }
}

export function pipeString(p: Pipe): string {
  let s = '';
  if (p.decl.length > 0) s = p.decl.join(', ') + (p.isAssign ? ' = ' : ' := ');
  return s + p.cmds.map((c) => c.args.map(argString).join(' ')).join(' | ');
}

const COMMAND_START = new Set<TokenType>([
  'bool',
  'charConstant',
  'complex',
  'dot',
  'field',
  'identifier',
  'number',
  'nil',
  'rawString',
  'string',
  'variable',
  'leftParen',
]);

class Parser {
  private readonly toks: Token[];
  private i = 0;
  private cur: Token;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  readonly defines = new Map<string, Tree>();

  constructor(
    private readonly name: string,
    private readonly file: string,
    private readonly source: string,
    private readonly hasFunction: (name: string) => boolean,
  ) {
    this.toks = lex(source);
    this.cur = this.toks[0]!;
  }

  // --- token stream ---------------------------------------------------------------------------

  private tok(i: number): Token {
    return this.toks[Math.min(i, this.toks.length - 1)]!;
  }

  private next(): Token {
    const t = this.tok(this.i++);
    this.cur = t;
    if (t.type === 'error') this.fail(t.pos, t.val);
    return t;
  }

  private backup(): void {
    this.i--;
  }

  private peek(): Token {
    const t = this.tok(this.i);
    if (t.type === 'error') this.fail(t.pos, t.val);
    return t;
  }

  private nextNonSpace(): Token {
    let t: Token;
    do t = this.next();
    while (t.type === 'space');
    return t;
  }

  private peekNonSpace(): Token {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  private fail(pos: number, msg: string): never {
    throw new TemplateError(`${positionString(this.file, this.source, pos)}: ${msg}`);
  }

  private errorf(msg: string): never {
    this.fail(this.cur.action, msg);
  }

  private unexpected(t: Token, context: string): never {
    this.cur = t;
    this.errorf(`unexpected ${describeToken(t)} in ${context}`);
  }

  private expect(type: TokenType, context: string): Token {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }

  // --- structure ------------------------------------------------------------------------------

  parse(): Node[] {
    const root: Node[] = [];
    while (this.peek().type !== 'eof') {
      if (this.peek().type === 'leftDelim') {
        const mark = this.i;
        const delim = this.next();
        if (this.nextNonSpace().type === 'define') {
          this.parseDefinition(delim);
          continue;
        }
        this.i = mark;
      }
      const n = this.textOrAction();
      if (n.kind === 'end' || n.kind === 'else') this.fail(n.pos, `unexpected ${terminatorString(n)}`);
      root.push(n);
    }
    return root;
  }

  private parseDefinition(delim: Token): void {
    const context = 'define clause';
    const t = this.nextNonSpace();
    if (t.type !== 'string' && t.type !== 'rawString') this.unexpected(t, context);
    const name = this.unquote(t);
    this.expect('rightDelim', context);
    const body = this.subTemplate(delim.pos, 'define');
    this.addDefine(name, body, delim.pos);
  }

  /** Parses the body of a {{define}} or {{block}}: its own variable scope, up to {{end}}. */
  private subTemplate(pos: number, context: string): Node[] {
    const savedVars = this.vars;
    const savedDepth = this.rangeDepth;
    this.vars = ['$'];
    this.rangeDepth = 0;
    const [list, end] = this.itemList(pos, context);
    if (end.kind !== 'end') this.fail(end.pos, `unexpected ${terminatorString(end)} in ${context} clause`);
    this.vars = savedVars;
    this.rangeDepth = savedDepth;
    return list;
  }

  private addDefine(name: string, root: Node[], pos: number): void {
    const old = this.defines.get(name);
    if (old && !isEmptyList(old.root)) {
      if (isEmptyList(root)) return;
      this.fail(pos, `multiple definition of template ${quote(name)}`);
    }
    this.defines.set(name, { name, file: this.file, source: this.source, root });
  }

  private itemList(openPos: number, context: string): [Node[], Terminator] {
    const list: Node[] = [];
    while (this.peekNonSpace().type !== 'eof') {
      const n = this.textOrAction();
      if (n.kind === 'end' || n.kind === 'else') return [list, n];
      list.push(n);
    }
    this.fail(openPos, `unexpected EOF: {{${context}}} has no matching {{end}}`);
  }

  private textOrAction(): Node | Terminator {
    const t = this.nextNonSpace();
    switch (t.type) {
      case 'text':
        return { kind: 'text', text: t.val };
      case 'leftDelim':
        return this.action();
      default:
        this.unexpected(t, 'input');
    }
  }

  private action(): Node | Terminator {
    const t = this.nextNonSpace();
    const pos = t.action;
    switch (t.type) {
      case 'block':
        return this.blockControl(pos);
      case 'break':
      case 'continue': {
        const close = this.nextNonSpace();
        if (close.type !== 'rightDelim') this.unexpected(close, `{{${t.type}}}`);
        if (this.rangeDepth === 0) this.fail(pos, `{{${t.type}}} outside {{range}}`);
        return { kind: t.type, pos };
      }
      case 'else': {
        const peek = this.peekNonSpace();
        if (peek.type === 'if' || peek.type === 'with') return { kind: 'else', pos, chained: peek.type };
        this.expect('rightDelim', 'else');
        return { kind: 'else', pos, chained: null };
      }
      case 'end':
        this.expect('rightDelim', 'end');
        return { kind: 'end', pos };
      case 'if':
      case 'with':
      case 'range':
        return this.control(t.type, pos);
      case 'template':
        return this.templateControl(pos);
      case 'define':
        this.fail(pos, '{{define}} is only allowed at the top level of a template, not inside an action or a control structure');
    }
    this.backup();
    return { kind: 'action', pos, pipe: this.pipeline('command', 'rightDelim') };
  }

  private control(kind: 'if' | 'with' | 'range', pos: number): Node {
    const savedVars = this.vars.length;
    const pipe = this.pipeline(kind, 'rightDelim');
    if (kind === 'range') this.rangeDepth++;
    const [list, next] = this.itemList(pos, kind);
    if (kind === 'range') this.rangeDepth--;
    let elseList: Node[] | null = null;
    if (next.kind === 'else') {
      if (next.chained) {
        if (next.chained !== kind) this.fail(next.pos, `{{else ${next.chained}}} is not allowed in {{${kind}}}`);
        this.nextNonSpace(); // the "if" or "with"
        elseList = [this.control(kind, next.pos)];
      } else {
        const [list2, end] = this.itemList(pos, kind);
        if (end.kind !== 'end') this.fail(end.pos, `expected {{end}}; found ${terminatorString(end)}`);
        elseList = list2;
      }
    }
    this.vars.length = savedVars;
    return { kind, pos, pipe, list, elseList };
  }

  private templateControl(pos: number): Node {
    const context = 'template clause';
    const name = this.templateName(this.nextNonSpace(), context);
    let pipe: Pipe | null = null;
    if (this.nextNonSpace().type !== 'rightDelim') {
      this.backup();
      pipe = this.pipeline(context, 'rightDelim');
    }
    return { kind: 'template', pos, name, pipe };
  }

  private blockControl(pos: number): Node {
    const context = 'block clause';
    const name = this.templateName(this.nextNonSpace(), context);
    const pipe = this.pipeline(context, 'rightDelim');
    const body = this.subTemplate(pos, 'block');
    this.addDefine(name, body, pos);
    return { kind: 'template', pos, name, pipe };
  }

  private templateName(t: Token, context: string): string {
    if (t.type !== 'string' && t.type !== 'rawString') this.unexpected(t, context);
    return this.unquote(t);
  }

  // --- pipelines ------------------------------------------------------------------------------

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): Pipe {
    const pipe: Pipe = { isAssign: false, decl: [], cmds: [] };
    for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== 'variable') break;
      const mark = this.i;
      this.next();
      const after = this.peekNonSpace();
      if (after.type === 'assign' || after.type === 'declare') {
        this.nextNonSpace();
        pipe.isAssign = after.type === 'assign';
        pipe.decl.push(v.val);
        break;
      }
      if (after.type === 'char' && after.val === ',') {
        this.nextNonSpace();
        pipe.decl.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = this.peekNonSpace();
          if (p.type === 'variable' || p.type === 'rightDelim' || p.type === 'rightParen') continue;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      }
      this.i = mark;
      break;
    }
    if (pipe.isAssign) for (const name of pipe.decl) this.useVar(name);
    for (;;) {
      const t = this.nextNonSpace();
      if (t.type === end) {
        this.checkPipeline(pipe, context);
        if (!pipe.isAssign) this.vars.push(...pipe.decl);
        return pipe;
      }
      if (COMMAND_START.has(t.type)) {
        this.backup();
        pipe.cmds.push(this.command());
        continue;
      }
      this.unexpected(t, context);
    }
  }

  private checkPipeline(pipe: Pipe, context: string): void {
    if (pipe.cmds.length === 0) this.errorf(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const k = c.args[0]!.kind;
      if (k === 'bool' || k === 'dot' || k === 'nil' || k === 'number' || k === 'string') {
        this.errorf(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private command(): Command {
    const cmd: Command = { args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.next();
      if (t.type === 'space') continue;
      if (t.type === 'rightDelim' || t.type === 'rightParen') {
        this.backup();
        break;
      }
      if (t.type === 'pipe') break;
      this.unexpected(t, 'operand');
    }
    if (cmd.args.length === 0) this.errorf('empty command');
    return cmd;
  }

  private operand(): Arg | null {
    let node = this.term();
    if (!node) return null;
    if (this.peek().type === 'field') {
      const fields: string[] = [];
      while (this.peek().type === 'field') fields.push(this.next().val.slice(1));
      switch (node.kind) {
        case 'field':
          node = { kind: 'field', idents: [...node.idents, ...fields] };
          break;
        case 'variable':
          node = { kind: 'variable', name: node.name, idents: [...node.idents, ...fields] };
          break;
        case 'bool':
        case 'string':
        case 'number':
        case 'nil':
        case 'dot':
          this.errorf(`unexpected . after term ${quote(argString(node))}`);
        // falls through (errorf never returns)
        default:
          node = { kind: 'chain', node, fields };
      }
    }
    return node;
  }

  private term(): Arg | null {
    const t = this.nextNonSpace();
    switch (t.type) {
      case 'identifier':
        if (!this.hasFunction(t.val)) this.errorf(`function ${quote(t.val)} not defined`);
        return { kind: 'identifier', name: t.val };
      case 'dot':
        return { kind: 'dot' };
      case 'nil':
        return { kind: 'nil' };
      case 'variable':
        this.useVar(t.val);
        return { kind: 'variable', name: t.val, idents: [] };
      case 'field':
        return { kind: 'field', idents: [t.val.slice(1)] };
      case 'bool':
        return { kind: 'bool', value: t.val === 'true' };
      case 'charConstant':
        return { kind: 'number', value: this.unquoteChar(t), isFloat: false, text: t.val };
      case 'complex':
        this.errorf(`complex number ${t.val} is not supported`);
      // falls through (errorf never returns)
      case 'number':
        return this.number(t);
      case 'leftParen':
        return { kind: 'pipe', pipe: this.pipeline('parenthesized pipeline', 'rightParen') };
      case 'string':
      case 'rawString':
        return { kind: 'string', value: this.unquote(t), text: t.val };
    }
    this.backup();
    return null;
  }

  private useVar(name: string): void {
    if (!this.vars.includes(name)) this.errorf(`undefined variable ${quote(name)}`);
  }

  // --- literals -------------------------------------------------------------------------------

  private number(t: Token): Arg {
    const text = t.val;
    if (text.endsWith('i') && !/^[+-]?0[xX]/.test(text)) this.errorf(`complex number ${text} is not supported`);
    const clean = text.replace(/_/g, '');
    const intMatch = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/.exec(clean);
    if (intMatch) {
      const sign = intMatch[1] === '-' ? -1n : 1n;
      let body = intMatch[2]!;
      if (/^0[0-7]+$/.test(body)) body = '0o' + body.slice(1);
      const big = sign * BigInt(body);
      if (big > 0xffffffffffffffffn || big < -0x8000000000000000n) this.errorf(`integer overflow: ${quote(text)}`);
      return { kind: 'number', value: Number(big), isFloat: false, text };
    }
    if (/^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?)$/.test(clean)) {
      const value = Number(clean);
      if (!/[.eE]/.test(clean)) this.errorf(`integer overflow: ${quote(text)}`);
      return { kind: 'number', value, isFloat: true, text };
    }
    this.errorf(`illegal number syntax: ${quote(text)}`);
  }

  private unquote(t: Token): string {
    if (t.type === 'rawString') return t.val.slice(1, -1).replace(/\r/g, '');
    const bytes = this.unescape(t.val.slice(1, -1), '"', t.val);
    return Buffer.from(bytes).toString('utf8');
  }

  private unquoteChar(t: Token): number {
    const body = t.val.slice(1, -1);
    if (body.startsWith('\\')) {
      const bytes = this.unescape(body, "'", t.val);
      const s = Buffer.from(bytes).toString('utf8');
      const cps = Array.from(s);
      // \x and octal escapes denote a byte value, not UTF-8.
      if (/^\\(x[0-9a-fA-F]{2}|[0-7]{3})$/.test(body)) return bytes[0]!;
      if (cps.length !== 1) this.errorf(`malformed character constant: ${t.val}`);
      return cps[0]!.codePointAt(0)!;
    }
    const cps = Array.from(body);
    if (cps.length !== 1) this.errorf(`malformed character constant: ${t.val}`);
    return cps[0]!.codePointAt(0)!;
  }

  /** Go escape sequences to bytes (\x and octal escapes are raw bytes, like in Go). */
  private unescape(body: string, quote: string, literal: string): number[] {
    const out: number[] = [];
    const bad = (): never => this.errorf(`invalid syntax in ${literal}`);
    const pushRune = (cp: number): void => {
      out.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
    };
    for (let i = 0; i < body.length; ) {
      const cp = body.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      if (ch !== '\\') {
        if (ch === quote) bad();
        pushRune(cp);
        i += ch.length;
        continue;
      }
      const e = body[i + 1];
      i += 2;
      switch (e) {
        case 'a':
          out.push(7);
          break;
        case 'b':
          out.push(8);
          break;
        case 'f':
          out.push(12);
          break;
        case 'n':
          out.push(10);
          break;
        case 'r':
          out.push(13);
          break;
        case 't':
          out.push(9);
          break;
        case 'v':
          out.push(11);
          break;
        case '\\':
          out.push(92);
          break;
        case "'":
        case '"':
          if (e !== quote) bad();
          out.push(e.charCodeAt(0));
          break;
        case 'x': {
          const h = body.slice(i, i + 2);
          if (!/^[0-9a-fA-F]{2}$/.test(h)) bad();
          out.push(parseInt(h, 16));
          i += 2;
          break;
        }
        case 'u':
        case 'U': {
          const len = e === 'u' ? 4 : 8;
          const h = body.slice(i, i + len);
          if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(h)) bad();
          const v = parseInt(h, 16);
          if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) bad();
          pushRune(v);
          i += len;
          break;
        }
        default: {
          const o = body.slice(i - 1, i + 2);
          if (!/^[0-7]{3}$/.test(o)) bad();
          const v = parseInt(o, 8);
          if (v > 255) bad();
          out.push(v);
          i += 2;
        }
      }
    }
    return out;
  }
}

function terminatorString(t: Terminator): string {
  return t.kind === 'end' ? '{{end}}' : t.chained ? `{{else ${t.chained}}}` : '{{else}}';
}

function isEmptyList(list: Node[]): boolean {
  return list.every((n) => n.kind === 'text' && n.text.trim() === '');
}

/** Parses one file (the main template, a .tmpl file, or a tpl string). */
export function parseTemplate(name: string, file: string, source: string, hasFunction: (name: string) => boolean): ParseResult {
  const p = new Parser(name, file, source, hasFunction);
  const root = p.parse();
  return { tree: { name, file, source, root }, defines: p.defines };
}

