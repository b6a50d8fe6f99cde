// Stapel shell stages: the commands of one user stage (beforeInstall, install, beforeSetup, setup) run as one
// bash script in the RUN sandbox. werf brings its own bash (its stapel toolchain under /.werf/stapel); Slipway
// bind-mounts Debian's static bash read-only at the same place, so the script runs on images without bash.
// Neither the bash nor the script is ever written into a layer: they are bind mounts, removed with the sandbox.

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildError } from '../../errors.js';
import type { Descriptor, ImageConfig } from '../../oci/index.js';
import type { ImageStore } from '../../store/image-store.js';
import type { BuildServices } from '../build-state.js';
import { containerConfig } from '../image-config.js';
import { createLayer } from '../layer/create-layer.js';
import type { BuiltLayer } from '../layer/types.js';
import { chainIds } from '../run/layer-dirs.js';
import { diffRun, type RunDiff } from '../run/run-diff.js';
import { runEnv } from '../run/run-instruction.js';
import { removeTree } from '../run/privileges.js';
import { runInSandbox, type NetworkMode, type SandboxMount } from '../run/sandbox.js';

/** Where werf's stapel bash lives in its containers; Slipway mounts bash-static there. */
export const STAPEL_BASH = '/.werf/stapel/embedded/bin/bash';
const SCRIPT_DIR = '/.werf/stapel/scripts';

/** The host's static bash: SLIPWAY_STAPEL_BASH, else Debian's bash-static. */
export function hostStaticBash(env: Readonly<Record<string, string | undefined>>): string {
  const given = env['SLIPWAY_STAPEL_BASH'];
  const path = given !== undefined && given !== '' ? given : '/bin/bash-static';
  if (!existsSync(path)) {
    throw new BuildError(`stapel shell stages need a static bash at ${path}, which does not exist`, {
      hint: 'install Debian\'s bash-static (apt-get install bash-static), or point SLIPWAY_STAPEL_BASH at a statically linked bash',
    });
  }
  return path;
}

/** The script of one user stage: every command, stopping at the first that fails (werf runs them with bash -e). */
export function stageScript(commands: readonly string[]): string {
  return `set -e\n${commands.join('\n')}\n`;
}

export interface ShellRun {
  services: BuildServices;
  bash: string;
  stage: string;
  commands: readonly string[];
  config: ImageConfig;
  layers: readonly Descriptor[];
  /** Where layers not yet in the stages storage are read. */
  layerSource: ImageStore | undefined;
  network: NetworkMode;
  /** The image's `mount`s, resolved to host directories. */
  mounts: readonly SandboxMount[];
  output: (chunk: Buffer) => void;
}

/** Run the stage's script over the image and return its changes as a layer. */
export async function runShellStage(run: ShellRun): Promise<BuiltLayer> {
  const { services } = run;
  const settings = services.run;
  await mkdir(services.tmpDir, { recursive: true });
  const scratch = await mkdtemp(join(services.tmpDir, 'stapel-'));
  try {
    const script = join(scratch, run.stage);
    await writeFile(script, stageScript(run.commands), { mode: 0o644 });
    const store = run.layerSource ?? services.storage.store;
    const diffIds = run.config.rootfs?.diff_ids ?? [];
    const stack = await settings.layers.stack(async () => store, run.layers, diffIds);
    const config = containerConfig(run.config);
    const target = `${SCRIPT_DIR}/${run.stage}`;
    const mounts: SandboxMount[] = [
      { kind: 'bind', source: run.bash, target: STAPEL_BASH, readonly: true, file: true },
      { kind: 'bind', source: script, target, readonly: true, file: true },
      ...run.mounts,
    ];
    const result = await runInSandbox<RunDiff>({
      layers: settings.layers, stack,
      command: {
        argv: [STAPEL_BASH, '-e', target], env: runEnv(config.Env ?? [], new Map(), '/root'),
        workdir: config.WorkingDir || '/', uid: 0, gid: 0, groups: [0], network: run.network, mounts,
      },
      output: run.output, inspect: diffRun, runtime: settings.runtime, note: (m) => services.log.note?.(m),
      ...(settings.signal ? { signal: settings.signal } : {}),
      ...(settings.timeoutMs !== undefined ? { timeoutMs: settings.timeoutMs } : {}),
    });
    try {
      if (result.exitCode !== 0) {
        throw new BuildError(`the shell commands exited with code ${result.exitCode}`, {
          hint: result.tail ? `the last lines of their output:\n${result.tail}` : 'they printed nothing',
        });
      }
      const diff = result.value!;
      const layer = await createLayer(diff.entries, { tmpDir: services.tmpDir, parentDirs: 'omit' });
      const chain = chainIds([...diffIds, layer.diffId]);
      await settings.layers.adopt(chain[chain.length - 1]!, layer.diffId, result.upper, diff.opaque).catch(() => undefined);
      return layer;
    } finally {
      await removeTree(result.dir);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
