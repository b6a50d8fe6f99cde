// How Dockerfile instructions that change only metadata edit an image config, as
// BuildKit's dockerfile2llb does. Pure: the config is edited as parsed JSON, so every
// field Slipway does not know survives.

import { posix } from 'node:path';
import type { ImageConfig } from '../oci/index.js';
import type { ExpandedInstruction } from './dockerfile/expand.js';
import { commandLine, healthcheckConfig } from './dockerfile/instructions.js';
import type { Instruction } from './dockerfile/types.js';
import { redactUrlsIn } from '../registry/redact.js';
import { SERVICE_HISTORY_COMMENT } from '../stages/stage-id.js';

/** Every config and history timestamp Slipway writes: fixed, so the same inputs give the same bytes. */
export const BUILD_EPOCH = '1970-01-01T00:00:00Z';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

export interface ContainerConfig {
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  Labels?: Record<string, string> | null;
  StopSignal?: string;
  Shell?: string[];
  Healthcheck?: Record<string, unknown>;
  OnBuild?: string[] | null;
  [unknown: string]: unknown;
}

/** A deep copy to edit. */
export function cloneConfig(config: ImageConfig): ImageConfig {
  return JSON.parse(JSON.stringify(config)) as ImageConfig;
}

export function containerConfig(config: ImageConfig): ContainerConfig {
  config.config ??= {};
  return config.config as ContainerConfig;
}

/** Per-stage state that decides how ENTRYPOINT treats an inherited CMD. */
export interface StageMetaState {
  cmdSet: boolean;
}

/**
 * Apply a metadata instruction (`instruction`, expanded as `expanded`) to `config`. ENV is
 * applied by the caller through the ARG/ENV scope (it must see the values expansion saw).
 */
export function applyMetadataInstruction(config: ImageConfig, original: Instruction, instruction: ExpandedInstruction, state: StageMetaState): void {
  const c = containerConfig(config);
  const { args } = instruction;
  switch (instruction.keyword) {
    case 'LABEL': {
      c.Labels = { ...(c.Labels ?? {}) };
      for (let i = 0; i + 1 < args.length; i += 2) c.Labels[args[i]!] = args[i + 1]!;
      return;
    }
    case 'MAINTAINER':
      config.author = args[0] ?? '';
      return;
    case 'WORKDIR': {
      c.WorkingDir = posix.resolve('/', c.WorkingDir || '/', args[0] ?? '/');
      return;
    }
    case 'USER':
      c.User = args[0] ?? '';
      return;
    case 'EXPOSE': {
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
      for (const port of args) c.ExposedPorts[port.includes('/') ? port.toLowerCase() : `${port}/tcp`] = {};
      return;
    }
    case 'VOLUME': {
      c.Volumes = { ...(c.Volumes ?? {}) };
      for (const volume of args) c.Volumes[volume] = {};
      return;
    }
    case 'CMD':
      c.Cmd = commandLine(instruction, shellOf(c));
      state.cmdSet = true;
      return;
    case 'ENTRYPOINT':
      c.Entrypoint = commandLine(instruction, shellOf(c));
      // An ENTRYPOINT drops a CMD inherited from the base image, not one set in this stage.
      if (!state.cmdSet) c.Cmd = null;
      return;
    case 'SHELL':
      c.Shell = [...args];
      return;
    case 'STOPSIGNAL':
      c.StopSignal = args[0] ?? '';
      return;
    case 'HEALTHCHECK':
      c.Healthcheck = { ...healthcheckConfig(original) };
      return;
    case 'ONBUILD':
      c.OnBuild = [...(c.OnBuild ?? []), args.join(' ')];
      return;
    default:
      throw new Error(`applyMetadataInstruction: ${instruction.keyword} is not a metadata instruction`);
  }
}

function shellOf(c: ContainerConfig): string[] {
  return c.Shell && c.Shell.length > 0 ? c.Shell : DEFAULT_SHELL;
}

/** Append a history entry (Docker's format), marking whether the step added a layer. */
export function addHistory(config: ImageConfig, createdBy: string, emptyLayer: boolean): void {
  // The history is published with the image: credentials in a URL (ADD https://user:pass@...) stay out of it.
  const entry: Record<string, unknown> = { created: BUILD_EPOCH, created_by: redactUrlsIn(createdBy), comment: SERVICE_HISTORY_COMMENT };
  if (emptyLayer) entry.empty_layer = true;
  config.history = [...(config.history ?? []), entry];
}
