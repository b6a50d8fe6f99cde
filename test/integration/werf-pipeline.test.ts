// A werf CI pipeline, as werf's docs write one, run with `werf` replaced by `slipway` and nothing else changed: the
// WERF_* variables, werf's flags (the ones Slipway ignores included), build, export with a tag template and labels,
// and cleanup after the push to origin. Read back with skopeo.
import { execFile } from 'node:child_process';
import { chmod, cp, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { gitAsync, tempDirs } from '../support/git-repo.js';
import { uniqueRepo } from '../support/images.js';
import { registries, skopeoInspect } from '../support/registries.js';

const run = promisify(execFile);
const temp = tempDirs();
afterAll(temp.removeAll);

// The pipeline script: werf's, with the binary named `slipway`.
const PIPELINE = `#!/bin/bash
set -euo pipefail
slipway version
slipway build --repo "$WERF_REPO" --log-project-dir --parallel --platform linux/amd64
slipway export --tag "$EXPORT_REPO/%image%:$CI_COMMIT_SHORT_SHA" \\
  --add-label "org.opencontainers.image.revision=$CI_COMMIT_SHA" --add-label-separator ';'
slipway cleanup --dry-run --without-kube
`;

describe('a werf pipeline with the binary renamed', () => {
  it('builds, exports and plans a cleanup from WERF_* variables and werf flags', async () => {
    const { plain } = registries();
    const work = await temp.make('slipway-pipeline-');
    const origin = join(work, 'origin.git');
    const project = join(work, 'project');
    await cp(join(process.cwd(), 'examples', 'hello'), project, { recursive: true });
    await run('git', ['init', '-q', '--bare', origin]);
    await gitAsync(project, 'init', '-q', '-b', 'main');
    await gitAsync(project, 'add', '-A');
    await gitAsync(project, 'commit', '-qm', 'hello');
    await gitAsync(project, 'remote', 'add', 'origin', origin);
    await gitAsync(project, 'push', '-q', 'origin', 'main');
    const sha = (await run('git', ['rev-parse', 'HEAD'], { cwd: project })).stdout.trim();

    const bin = join(work, 'bin');
    await mkdir(bin);
    await symlink(join(process.cwd(), 'dist', 'slipway.cjs'), join(bin, 'slipway'));
    const script = join(work, 'pipeline.sh');
    await writeFile(script, PIPELINE);
    await chmod(script, 0o755);
    const stages = `${plain.host}/${uniqueRepo('pipeline/stages')}`;
    const exportRepo = `${plain.host}/${uniqueRepo('pipeline/out')}`;
    const { stdout, stderr } = await run(script, [], {
      cwd: project,
      env: {
        PATH: `${bin}:${process.env.PATH ?? ''}`, HOME: work, SLIPWAY_HOME: join(work, '.slipway'),
        WERF_REPO: stages, WERF_ENV: 'production', WERF_LOG_COLOR_MODE: 'off',
        EXPORT_REPO: exportRepo, CI_COMMIT_SHA: sha, CI_COMMIT_SHORT_SHA: sha.slice(0, 8),
      },
    });
    const out = `${stdout}${stderr}`;
    expect(out).toMatch(/Building stage web\//);
    const tag = `${exportRepo}/web:${sha.slice(0, 8)}`;
    expect(stdout).toContain(`${tag}@sha256:`);
    const config = await skopeoInspect(tag, { config: true }) as { config: { Labels?: Record<string, string> } };
    expect(config.config.Labels?.['org.opencontainers.image.revision']).toBe(sha);
    // The dry run keeps what origin/main's commit built.
    expect(stdout).toMatch(/^Dry run: 0 tags would be deleted/m);
  }, 180_000);
});
