// ARG and ENV scoping inside one build stage, step by step, with Docker's rules:
// - an ARG is visible from its declaration to the end of its stage, never in other stages;
// - its value is the build arg of that name if one is given, else its default (expanded), else the value of
//   the meta ARG (declared before the first FROM) of that name, automatic platform ARGs included; an ARG
//   declared with none of these is unset;
// - for expansion, ENV (the base image's Env and ENV instructions) wins over an ARG of the same name, whatever
//   their order;
// - ARG values are not persisted into the image config; ENV values are (configEnv()).

import { DockerfileError, ShellExpansionError } from './errors.js';
import { expandInstruction, type ExpandedInstruction } from './expand.js';
import { ShellLex, type ExpansionEnv } from './shell-lex.js';
import type { Instruction } from './types.js';

export interface ArgEnvScopeOptions {
  /** Build arguments (werf.yaml `args`, dependency imports): override ARG defaults, for declared ARGs only. */
  buildArgs?: Readonly<Record<string, string>>;
  /** The meta ARG values (StagePlan.metaArgs): what `ARG NAME` without a default inherits. */
  metaArgs?: ExpansionEnv;
  /** The base image's config Env (`KEY=value` strings), or the base stage's configEnv(). */
  baseEnv?: readonly string[];
  /** The Dockerfile's escape character. */
  escape?: string;
  /** The Dockerfile's name, for messages. */
  file?: string;
}

function envKey(entry: string): string {
  const eq = entry.indexOf('=');
  return eq < 0 ? entry : entry.slice(0, eq);
}

function lookup(env: ExpansionEnv | undefined, name: string): string | undefined {
  if (env === undefined) return undefined;
  if (env instanceof Map) return env.get(name);
  const record = env as Readonly<Record<string, string>>;
  return Object.prototype.hasOwnProperty.call(record, name) ? record[name] : undefined;
}

export class ArgEnvScope {
  private readonly buildArgs: Readonly<Record<string, string>>;
  private readonly metaArgs: ExpansionEnv | undefined;
  private readonly escape: string;
  private readonly file: string;
  /** Declared ARGs in declaration order; undefined value: declared but unset. */
  private readonly args = new Map<string, string | undefined>();
  /** The image config Env, in order (`KEY=value`). */
  private readonly env: string[];
  private readonly usedBuildArgNames = new Set<string>();

  constructor(options: ArgEnvScopeOptions = {}) {
    this.buildArgs = options.buildArgs ?? {};
    this.metaArgs = options.metaArgs;
    this.escape = options.escape ?? '\\';
    this.file = options.file ?? 'Dockerfile';
    this.env = [...(options.baseEnv ?? [])];
  }

  /**
   * Declares an ARG; `rawDefault` is the default as written (`ARG NAME=<rawDefault>`), expanded here with the
   * scope in effect. Returns the value the ARG takes, undefined when it is unset.
   */
  declareArg(name: string, rawDefault?: string): string | undefined {
    let value: string | undefined;
    if (Object.prototype.hasOwnProperty.call(this.buildArgs, name)) {
      value = this.buildArgs[name];
      this.usedBuildArgNames.add(name);
    } else if (rawDefault !== undefined) {
      value = new ShellLex({ escape: this.escape }).process(rawDefault, this.lookupEnv()).result;
    } else {
      value = lookup(this.metaArgs, name);
    }
    // A re-declaration replaces the earlier one, and moves to the end.
    this.args.delete(name);
    this.args.set(name, value);
    return value;
  }

  /** Sets an ENV variable (value already expanded): replaces it in place in the config Env, or appends it. */
  setEnv(key: string, value: string): void {
    const entry = `${key}=${value}`;
    const i = this.env.findIndex((e) => envKey(e) === key);
    if (i >= 0) this.env[i] = entry;
    else this.env.push(entry);
  }

  /** Variables for expanding the next instruction: declared ARGs with a value, overridden by the config Env. */
  lookupEnv(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [k, v] of this.args) if (v !== undefined) out.set(k, v);
    for (const entry of this.env) {
      const eq = entry.indexOf('=');
      out.set(eq < 0 ? entry : entry.slice(0, eq), eq < 0 ? '' : entry.slice(eq + 1));
    }
    return out;
  }

  /** The image config Env as it stands (base image Env plus ENV instructions; never ARGs). */
  configEnv(): string[] {
    return [...this.env];
  }

  /** Declared ARGs with their values (undefined: declared, unset), in declaration order. */
  declaredArgs(): Map<string, string | undefined> {
    return new Map(this.args);
  }

  /** The build args that a declaration in this scope consumed. */
  usedBuildArgs(): Set<string> {
    return new Set(this.usedBuildArgNames);
  }

  /** An independent copy (e.g. to try a branch). */
  clone(): ArgEnvScope {
    const copy = new ArgEnvScope({ buildArgs: this.buildArgs, metaArgs: this.metaArgs ?? new Map(), baseEnv: this.env, escape: this.escape, file: this.file });
    for (const [k, v] of this.args) copy.args.set(k, v);
    for (const n of this.usedBuildArgNames) copy.usedBuildArgNames.add(n);
    return copy;
  }

  /**
   * Applies one instruction of the stage and returns it expanded. ARG declares (the returned args are
   * `NAME=value` with the value in effect, or `NAME` when unset); ENV expands every pair with the scope before
   * the instruction (so `ENV A=2 B=$A` gives B the old A) and then sets them; every other instruction is only
   * expanded (expandInstruction). Errors name the file and the instruction's line.
   */
  apply(instr: Instruction): ExpandedInstruction {
    if (instr.keyword === 'ARG') {
      const args: string[] = [];
      for (const word of instr.args) {
        // The name is taken as written; the default is expanded by declareArg.
        const eq = word.indexOf('=');
        const name = eq < 0 ? word : word.slice(0, eq);
        let value: string | undefined;
        try {
          value = this.declareArg(name, eq < 0 ? undefined : word.slice(eq + 1));
        } catch (err) {
          if (err instanceof ShellExpansionError) throw new DockerfileError(this.file, instr.line, `ARG: ${err.message}`, { cause: err });
          throw err;
        }
        args.push(value === undefined ? name : `${name}=${value}`);
      }
      return { keyword: 'ARG', line: instr.line, flags: { ...instr.flags }, args, json: false };
    }
    const expanded = expandInstruction(instr, this.lookupEnv(), { escape: this.escape, file: this.file });
    if (instr.keyword === 'ENV') {
      for (let i = 0; i + 1 < expanded.args.length; i += 2) this.setEnv(expanded.args[i]!, expanded.args[i + 1]!);
    }
    return expanded;
  }
}
