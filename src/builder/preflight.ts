// Refusals before any work: what the build of the selected images (and what they depend on) would refuse anyway,
// found by reading their Dockerfiles before anything is built, stored or pushed. A build that would stop at the
// third image's Dockerfile otherwise builds, stores and (with --repo) pushes the first two first.
//
// Checked per Dockerfile image, on the stages its target needs (as the build plans them): the Dockerfile parses;
// every RUN --mount written without variables is one Slipway mounts (type bind, cache, tmpfs or secret, with
// target=; not cache from= nor secret env=); every RUN --network written without variables, and the image's
// `network`, is default, none or host. Values with `$` are expanded at build time and checked there. Stapel images
// are left to their builder (docs/stapel.md: it refuses ansible before anything is built).

import { posix } from 'node:path';

import { imageLogName, resolveDependencyOrder, type WerfConfig, type WerfImage } from '../config/index.js';
import { BuildError } from '../errors.js';
import type { ProjectFiles } from '../project/index.js';
import { parseDockerfile, planStages } from './dockerfile/index.js';
import type { StagePlan } from './dockerfile/plan.js';
import { hostPlatform } from './build-images.js';
import { parseRunMount } from './run/run-instruction.js';

const NETWORKS = ['default', 'none', 'host'];

/** Throws the first refusal the build of `images` would meet in a Dockerfile, naming the image and the line. */
export function preflightImages(config: WerfConfig, files: ProjectFiles, images: readonly WerfImage[]): void {
  for (const image of resolveDependencyOrder(config.images, images)) {
    if (image.kind !== 'dockerfile') continue;
    const name = `image ${imageLogName(image.name)}`;
    if (image.network !== undefined && !NETWORKS.includes(image.network)) {
      throw new BuildError(`${name}: network "${image.network}" is not supported: nothing was built`, { hint: 'use network: default, none or host' });
    }
    const path = posix.join(image.context, image.dockerfile);
    const dockerfile = parseDockerfile(files.readFile(path, 'dockerfile').toString('utf8'), path);
    let plan: StagePlan;
    try {
      const platform = hostPlatform();
      plan = planStages(dockerfile, {
        ...(image.target !== undefined ? { target: image.target } : {}),
        buildArgs: image.args, targetPlatform: platform, buildPlatform: platform,
      });
    } catch {
      // Planning can depend on what the build knows (dependency args): the build reports it.
      continue;
    }
    for (const stage of plan.stages) {
      for (const instruction of stage.instructions) {
        if (instruction.keyword !== 'RUN') continue;
        const where = `${name}: ${path}:${instruction.line}`;
        const mounts = instruction.flags['mount'];
        for (const spec of Array.isArray(mounts) ? mounts : []) {
          if (spec.includes('$')) continue;
          const mount = parseRunMount(spec, where);
          if (mount.type === 'cache' && mount.from !== undefined) {
            throw new BuildError(`${where}: RUN --mount type=cache,from= is not supported: nothing was built`, { hint: 'drop from=: the cache lives on this machine' });
          }
          if (mount.type === 'secret' && mount.env !== undefined) {
            throw new BuildError(`${where}: RUN --mount type=secret,env= is not supported: nothing was built`, { hint: 'mount the secret as a file (target=) and read it' });
          }
        }
        const network = instruction.flags['network'];
        if (typeof network === 'string' && network !== '' && !network.includes('$') && !NETWORKS.includes(network)) {
          throw new BuildError(`${where}: network "${network}" is not supported: nothing was built`, { hint: 'use --network=default, none or host' });
        }
      }
    }
  }
}
