// Which stages a build needs, in which order, and what each starts from: pure, before any image is resolved.

import { InvalidInputError } from '../../errors.js';
import { formatPlatform, normalizePlatform, parsePlatform, type Platform } from '../../oci/platform.js';
import { DockerfileError, ShellExpansionError } from './errors.js';
import { splitCSV, type ExpandedInstruction } from './expand.js';
import { ArgEnvScope } from './scope.js';
import { ShellLex } from './shell-lex.js';
import type { Dockerfile, Instruction, StageSource } from './types.js';

export interface PlanOptions {
  /** The stage to build (`FROM ... AS <target>`, case-insensitive); the last stage by default. */
  target?: string;
  /** Build arguments: werf.yaml `args` and dependency imports. */
  buildArgs: Readonly<Record<string, string>>;
  /** The platform the image is built for (TARGET* ARGs, and stages without --platform). */
  targetPlatform: Platform;
  /** The platform the build runs on (BUILD* ARGs). */
  buildPlatform: Platform;
}

/** A `COPY --from` or `RUN --mount=from=` of an instruction, resolved. */
export interface StageReference {
  /** Index of the instruction in PlannedStage.instructions. */
  instruction: number;
  /** `copy` for COPY --from, `mount` for RUN --mount (`mount` is then the index among the RUN's mounts). */
  via: 'copy' | 'mount';
  mount?: number;
  /** The --from value after expansion. */
  value: string;
  source: StageSource;
}

export interface PlannedStage {
  /** 0-based position in the Dockerfile. */
  index: number;
  /** The stage name, lowercased, if it has one. */
  name?: string;
  /** The FROM line. */
  line: number;
  /** What the stage starts from; an image reference is as written after expansion (not normalised). */
  from: StageSource;
  /** The platform the stage is built for: its --platform, else its base stage's, else the target platform. */
  platform: Platform;
  /** The FROM instruction, as written and with the meta ARGs substituted (for canonicalInstruction). */
  fromInstruction: Instruction;
  fromExpanded: ExpandedInstruction;
  /** The instructions after FROM. */
  instructions: Instruction[];
  /** COPY --from and RUN --mount=from= of the stage, resolved. */
  references: StageReference[];
  /** Indexes of the stages this one needs (its base stage and the stages it copies or mounts from), sorted. */
  dependencies: number[];
}

export interface StagePlan {
  /** The needed stages, every stage after the stages it depends on; the target last. */
  stages: PlannedStage[];
  /** The target's stage index. */
  target: number;
  /** Build args that no ARG of the Dockerfile (meta ARGs and the needed stages) declares, sorted. */
  unusedBuildArgs: string[];
  /** The meta ARG scope: automatic platform ARGs, then the meta ARGs in order (build args applied). */
  metaArgs: ReadonlyMap<string, string>;
  buildArgs: Readonly<Record<string, string>>;
  /** The Dockerfile's escape character and name, for expansion and messages. */
  escape: string;
  file: string;
}

/** The ARGs Docker defines without declaration (passed to RUN; never reported as unused). */
export const BUILTIN_BUILD_ARGS: readonly string[] = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

/** The automatic platform ARGs, as BuildKit defines them. */
export function platformArgs(targetPlatform: Platform, buildPlatform: Platform): Map<string, string> {
  const t = normalizePlatform(targetPlatform);
  const b = normalizePlatform(buildPlatform);
  return new Map([
    ['BUILDPLATFORM', formatPlatform(b)],
    ['BUILDOS', b.os],
    ['BUILDARCH', b.architecture],
    ['BUILDVARIANT', b.variant ?? ''],
    ['TARGETPLATFORM', formatPlatform(t)],
    ['TARGETOS', t.os],
    ['TARGETARCH', t.architecture],
    ['TARGETVARIANT', t.variant ?? ''],
  ]);
}

function argWords(instr: Instruction): { name: string; rawDefault?: string }[] {
  return instr.args.map((word) => {
    const eq = word.indexOf('=');
    return eq < 0 ? { name: word } : { name: word.slice(0, eq), rawDefault: word.slice(eq + 1) };
  });
}

function wrap(file: string, line: number, prefix: string, err: unknown): never {
  if (err instanceof ShellExpansionError || err instanceof InvalidInputError) {
    throw new DockerfileError(file, line, `${prefix}${err.message}`, { cause: err });
  }
  throw err;
}

/**
 * The meta ARG scope: the automatic platform ARGs (overridable by build args), then each ARG before the first
 * FROM in order: a build arg of its name wins, else its default expanded with the scope so far; an ARG with
 * neither stays unset.
 */
export function resolveMetaArgs(dockerfile: Dockerfile, options: Omit<PlanOptions, 'target'>): Map<string, string> {
  const scope = platformArgs(options.targetPlatform, options.buildPlatform);
  for (const [k] of scope) {
    if (Object.prototype.hasOwnProperty.call(options.buildArgs, k)) scope.set(k, options.buildArgs[k]!);
  }
  const lex = new ShellLex({ escape: dockerfile.escape });
  for (const instr of dockerfile.metaArgs) {
    for (const { name, rawDefault } of argWords(instr)) {
      let value: string | undefined;
      if (Object.prototype.hasOwnProperty.call(options.buildArgs, name)) value = options.buildArgs[name];
      else if (rawDefault !== undefined) {
        try {
          value = lex.process(rawDefault, scope).result;
        } catch (err) {
          wrap(dockerfile.file, instr.line, 'ARG: ', err);
        }
      }
      if (value !== undefined) scope.set(name, value);
    }
  }
  return scope;
}

/** Resolves a --from value: a stage index, a stage name, `scratch`, or an image reference. */
function resolveSource(value: string, dockerfile: Dockerfile, line: number, what: string): StageSource {
  if (value === '') throw new DockerfileError(dockerfile.file, line, `${what} expands to an empty string`);
  if (/^[+-]?\d+$/.test(value)) {
    const index = Number(value);
    if (index < 0 || index >= dockerfile.stages.length) {
      throw new DockerfileError(dockerfile.file, line, `invalid stage index ${value} in ${what}: the Dockerfile has ${dockerfile.stages.length} stage(s), numbered from 0`);
    }
    return { kind: 'stage', index };
  }
  const byName = dockerfile.stages.find((s) => s.name === value.toLowerCase());
  if (byName) return { kind: 'stage', index: byName.index };
  if (value === 'scratch') return { kind: 'scratch' };
  return { kind: 'image', ref: value };
}

function mountFrom(spec: string): string | undefined {
  let fields: string[];
  try {
    fields = splitCSV(spec);
  } catch {
    return undefined;
  }
  for (const field of fields) {
    const eq = field.indexOf('=');
    if (eq >= 0 && field.slice(0, eq).toLowerCase() === 'from') return field.slice(eq + 1);
  }
  return undefined;
}

function stageList(dockerfile: Dockerfile): string {
  return dockerfile.stages.map((s) => (s.name === undefined ? `#${s.index}` : `${s.name} (#${s.index})`)).join(', ');
}

/**
 * Plans a build: resolves the meta ARGs and each stage's FROM, finds the target (the last stage by default)
 * and every stage it needs (FROM another stage, COPY --from and RUN --mount=from= by name or index; a --from
 * that names no stage is an external image), in dependency order.
 *
 * `--from` values are expanded with the stage's ARG/ENV scope as written in the Dockerfile, falling back to the
 * meta ARGs (as buildah does; the base image's Env is not known yet and takes no part).
 */
export function planStages(dockerfile: Dockerfile, options: PlanOptions): StagePlan {
  const { file } = dockerfile;
  const metaArgs = resolveMetaArgs(dockerfile, options);
  const lex = new ShellLex({ escape: dockerfile.escape });
  const targetPlatform = normalizePlatform(options.targetPlatform);

  // FROM lines, in order: a base stage must come earlier in the file.
  const planned: PlannedStage[] = [];
  const finalEnv: string[][] = [];
  for (const stage of dockerfile.stages) {
    let base: string;
    try {
      base = lex.process(stage.base, metaArgs).result;
    } catch (err) {
      wrap(file, stage.line, 'FROM: ', err);
    }
    if (base === '') {
      throw new DockerfileError(file, stage.line, `invalid base image: "${stage.base}" expands to an empty string`, {
        hint: 'give the ARG a default before the first FROM, or pass it as a build arg (werf.yaml `args`)',
      });
    }
    let explicitPlatform: Platform | undefined;
    const fromExpanded: ExpandedInstruction = { keyword: 'FROM', line: stage.line, flags: {}, args: [base, ...stage.from.args.slice(1)], json: false };
    if (stage.platform !== undefined) {
      let value: string;
      try {
        value = lex.process(stage.platform, metaArgs).result;
      } catch (err) {
        wrap(file, stage.line, 'FROM --platform: ', err);
      }
      if (value === '') throw new DockerfileError(file, stage.line, `empty platform value from expression "${stage.platform}"`);
      fromExpanded.flags['platform'] = value;
      try {
        explicitPlatform = parsePlatform(value);
      } catch (err) {
        wrap(file, stage.line, 'FROM --platform: ', err);
      }
    }
    const earlier = planned.find((p) => p.name !== undefined && p.name === base.toLowerCase());
    let from: StageSource;
    let platform: Platform;
    if (earlier) {
      from = { kind: 'stage', index: earlier.index };
      platform = earlier.platform;
    } else if (base === 'scratch') {
      from = { kind: 'scratch' };
      platform = explicitPlatform ?? targetPlatform;
    } else {
      from = explicitPlatform ? { kind: 'image', ref: base, platform: explicitPlatform } : { kind: 'image', ref: base };
      platform = explicitPlatform ?? targetPlatform;
    }
    const p: PlannedStage = {
      index: stage.index,
      line: stage.line,
      from,
      platform,
      fromInstruction: stage.from,
      fromExpanded,
      instructions: stage.instructions,
      references: [],
      dependencies: [],
    };
    if (stage.name !== undefined) p.name = stage.name;
    planned.push(p);

    // References, expanded with the stage's own ARG/ENV scope (meta ARGs as a fallback).
    const scope = new ArgEnvScope({ buildArgs: options.buildArgs, metaArgs, baseEnv: earlier ? finalEnv[earlier.index] : [], escape: dockerfile.escape, file });
    const expandRef = (raw: string, line: number, what: string): string => {
      const env = new Map(metaArgs);
      for (const [k, v] of scope.lookupEnv()) env.set(k, v);
      try {
        return lex.process(raw, env).result;
      } catch (err) {
        return wrap(file, line, `${what}: `, err);
      }
    };
    stage.instructions.forEach((instr, i) => {
      if (instr.keyword === 'ARG' || instr.keyword === 'ENV') {
        try {
          scope.apply(instr);
        } catch {
          // e.g. ${PATH:?} needs the base image's Env, unknown here: the build reports it with the real scope.
        }
      } else if (instr.keyword === 'COPY' && typeof instr.flags['from'] === 'string') {
        const value = expandRef(instr.flags['from'], instr.line, 'COPY --from');
        p.references.push({ instruction: i, via: 'copy', value, source: resolveSource(value, dockerfile, instr.line, `COPY --from="${instr.flags['from']}"`) });
      } else if (instr.keyword === 'RUN' && Array.isArray(instr.flags['mount'])) {
        instr.flags['mount'].forEach((spec, m) => {
          const raw = mountFrom(spec);
          if (raw === undefined) return;
          const value = expandRef(raw, instr.line, 'RUN --mount from');
          p.references.push({ instruction: i, via: 'mount', mount: m, value, source: resolveSource(value, dockerfile, instr.line, `RUN --mount from="${raw}"`) });
        });
      }
    });
    finalEnv[stage.index] = scope.configEnv();
    const deps = new Set<number>();
    if (from.kind === 'stage') deps.add(from.index);
    for (const ref of p.references) if (ref.source.kind === 'stage') deps.add(ref.source.index);
    p.dependencies = [...deps].sort((a, b) => a - b);
  }

  // The target.
  let target: number;
  if (options.target === undefined || options.target === '') {
    target = dockerfile.stages.length - 1;
  } else {
    const found = dockerfile.stages.find((s) => s.name === options.target!.toLowerCase());
    if (!found) {
      throw new DockerfileError(file, undefined, `target stage "${options.target}" could not be found; the Dockerfile's stages are: ${stageList(dockerfile)}`, {
        hint: 'werf.yaml `target` must name a stage declared with FROM ... AS <name>',
      });
    }
    target = found.index;
  }

  // Cycles (COPY --from can name a later stage, so the graph is not ordered by the file).
  const state = new Map<number, 'visiting' | 'done'>();
  const visit = (i: number, path: number[]): void => {
    const s = state.get(i);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(i)), i].map((n) => planned[n]!.name ?? `#${n}`).join(' -> ');
      throw new DockerfileError(file, planned[i]!.line, `circular dependency between stages: ${cycle}`);
    }
    state.set(i, 'visiting');
    for (const d of planned[i]!.dependencies) visit(d, [...path, i]);
    state.set(i, 'done');
  };
  for (const p of planned) visit(p.index, []);

  // The stages the target needs, each after its dependencies; among ready stages the earliest in the file first.
  const needed = new Set<number>();
  const collect = (i: number): void => {
    if (needed.has(i)) return;
    needed.add(i);
    for (const d of planned[i]!.dependencies) collect(d);
  };
  collect(target);
  const order: PlannedStage[] = [];
  const placed = new Set<number>();
  while (order.length < needed.size) {
    const next = [...needed].sort((a, b) => a - b).find((i) => !placed.has(i) && planned[i]!.dependencies.every((d) => placed.has(d)))!;
    placed.add(next);
    order.push(planned[next]!);
  }

  // Build args nobody declares.
  const declared = new Set<string>([...BUILTIN_BUILD_ARGS, ...platformArgs(options.targetPlatform, options.buildPlatform).keys()]);
  for (const instr of dockerfile.metaArgs) for (const { name } of argWords(instr)) declared.add(name);
  for (const p of order) {
    for (const instr of p.instructions) {
      if (instr.keyword === 'ARG') for (const { name } of argWords(instr)) declared.add(name);
    }
  }
  const unusedBuildArgs = Object.keys(options.buildArgs)
    .filter((k) => !declared.has(k))
    .sort();

  return { stages: order, target, unusedBuildArgs, metaArgs, buildArgs: { ...options.buildArgs }, escape: dockerfile.escape, file };
}

/**
 * The ARG/ENV scope a stage starts with during the build: `baseEnv` is the base image's config Env (for a stage
 * FROM another stage, that stage's final configEnv()).
 */
export function createStageScope(plan: StagePlan, baseEnv: readonly string[]): ArgEnvScope {
  return new ArgEnvScope({ buildArgs: plan.buildArgs, metaArgs: plan.metaArgs, baseEnv, escape: plan.escape, file: plan.file });
}

