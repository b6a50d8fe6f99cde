// Files above the project directory, as werf reads them (werf's own scripts/werf-in-image project does): a
// `.Files.Get "../../x"` in werf.yaml and a Dockerfile context above the project directory, for any committed
// file of the git work tree; nothing beyond the work tree, nothing uncommitted.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSlipway } from '../support/cli.js';
import { commitAll, makeRepo, removeTempDirs, write } from '../support/git-repo.js';
import { imageConfig } from '../support/image-fs.js';
import { uniqueRepo } from '../support/images.js';
import { registries } from '../support/registries.js';

afterAll(removeTempDirs);

const WERF_YAML = [
  'project: above', 'configVersion: 1', '---',
  '{{ $shared := .Files.Get "../../shared/values.yaml" | fromYaml }}',
  'image: app', 'context: ../../shared/ctx', 'dockerfile: Dockerfile', 'args:', '  TEAM: {{ $shared.team }}', '',
].join('\n');

describe('files above the project directory', () => {
  it('.Files.Get "../../x" and a context above the project directory read committed files of the work tree', async () => {
    const repo = makeRepo({
      'services/app/werf.yaml': WERF_YAML,
      'shared/values.yaml': 'team: platform\n',
      'shared/ctx/Dockerfile': 'FROM scratch\nARG TEAM\nLABEL team=$TEAM\nCOPY conf/ /conf/\n',
      'shared/ctx/conf/app.conf': 'port=8080\n',
    });
    const project = join(repo, 'services/app');
    const stages = `${registries().plain.host}/${uniqueRepo('above/stages')}`;
    const env = { SLIPWAY_HOME: join(repo, '.slipway-home') };
    const first = await runSlipway(['build', '--dir', project, '--repo', stages], env);
    expect(first.code, first.out).toBe(0);
    const tag = /^image app: (\S+)$/m.exec(first.out)![1]!;
    expect((await imageConfig(tag)).config!.Labels).toHaveProperty(['team'], 'platform');

    // An uncommitted change above the project directory is refused, as any uncommitted context file is.
    write(repo, 'shared/ctx/conf/app.conf', 'port=9090\n');
    const dirty = await runSlipway(['build', '--dir', project, '--repo', stages], env);
    expect(dirty.code).not.toBe(0);
    expect(dirty.out).toContain('../../shared/ctx/conf/app.conf');
    commitAll(repo, 'port');

    // Beyond the work tree: refused, naming the path.
    write(repo, 'services/app/werf.yaml', WERF_YAML.replace('../../shared/values.yaml', '../../../values.yaml'));
    commitAll(repo, 'outside');
    const outside = await runSlipway(['build', '--dir', project, '--repo', stages], env);
    expect(outside.code).not.toBe(0);
    expect(outside.out).toMatch(/the path "\.\.\/\.\.\/\.\.\/values\.yaml" is outside the git work tree/);
  });
});
