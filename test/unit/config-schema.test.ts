import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import {
  ConfigValidationError,
  formatIssue,
  parseWerfConfig,
  splitDocuments,
  type ParseWerfConfigOptions,
} from '../../src/config/schema/index.js';
import type { DockerfileImage, StapelImage, WerfConfig } from '../../src/config/werf-config.js';

const META = 'project: app\nconfigVersion: 1\n---\n'; // the next document starts on line 4

function parse(text: string, options?: ParseWerfConfigOptions): WerfConfig {
  return parseWerfConfig(text, options);
}

/** The formatted problems of an invalid configuration. */
function problems(text: string, options?: ParseWerfConfigOptions): string[] {
  try {
    parseWerfConfig(text, options);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.issues.map(formatIssue);
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

function dockerfileImage(config: WerfConfig, name: string): DockerfileImage {
  const image = config.images.find((i) => i.name === name);
  if (image?.kind !== 'dockerfile') throw new Error(`no Dockerfile image ${name}`);
  return image;
}

function stapelImage(config: WerfConfig, name: string): StapelImage {
  const image = config.images.find((i) => i.name === name);
  if (image?.kind !== 'stapel') throw new Error(`no stapel image ${name}`);
  return image;
}

describe('splitDocuments (werf splitContent)', () => {
  it('splits on --- lines, also with trailing blanks or a comment, and skips empty documents', () => {
    const text = '---\n# only a comment\n---\na: 1\n--- \nb: 2\n---   # a comment-with-dashes\n\nc: 3\n---';
    const docs = splitDocuments(text);
    expect(docs.map((d) => [d.index, d.line, d.text])).toEqual([
      [1, 4, 'a: 1\n'],
      [2, 6, 'b: 2\n'],
      [3, 8, '\nc: 3\n'],
    ]);
  });

  it('does not split on ---- or on --- followed by content', () => {
    expect(splitDocuments('a: 1\n----\nb: 2\n')).toHaveLength(1);
    expect(splitDocuments('a: 1\n--- b\n')).toHaveLength(1);
  });

  it('keeps the last document without a trailing newline', () => {
    expect(splitDocuments('a: 1\n---\nimage: x')).toEqual([
      { index: 1, line: 1, offset: 0, text: 'a: 1\n' },
      { index: 2, line: 3, offset: 9, text: 'image: x' },
    ]);
  });
});

describe('parseWerfConfig: valid configurations', () => {
  it('reads the minimal example (meta plus one Dockerfile image)', () => {
    const config = parse('project: myproject\nconfigVersion: 1\n---\nimage: myapp\ndockerfile: Dockerfile\n');
    expect(config.project).toBe('myproject');
    expect(config.configVersion).toBe(1);
    expect(config.images).toHaveLength(1);
    const image = dockerfileImage(config, 'myapp');
    expect(image).toMatchObject({
      kind: 'dockerfile',
      final: true,
      dockerfile: 'Dockerfile',
      context: '',
      staged: false,
      platform: [],
      dependencies: [],
      source: { file: 'werf.yaml', document: 2, line: 4 },
    });
    expect(config.documents.map((d) => [d.kind, d.imageNames])).toEqual([
      ['meta', []],
      ['image', ['myapp']],
    ]);
    expect(config.cleanup).toEqual({
      disable: false,
      disableKubernetesBasedPolicy: false,
      disableGitHistoryBasedPolicy: false,
      disableBuiltWithinLastNHoursPolicy: false,
      keepImagesBuiltWithinLastNHours: 2,
      keepPolicies: [],
    });
    expect(config.gitWorktree).toEqual({ forceShallowClone: false, allowUnshallow: true, allowFetchOriginBranchesAndTags: true });
  });

  it('reads a meta document with every section', () => {
    const config = parse(`configVersion: 1
project: app
build:
  cacheVersion: 1
  platform: [linux/amd64, linux/arm64]
  staged: yes
  imageSpec:
    author: me
    clearHistory: true
    config:
      keepEssentialWerfLabels: true
      removeLabels: ["/^io\\\\.k8s\\\\..*/"]
      labels:
        team: backend
deploy:
  helmChartDir: .helm
  helmReleaseSlug: false
cleanup:
  disableKubernetesBasedPolicy: true
  keepImagesBuiltWithinLastNHours: 24
  keepPolicies:
  - references:
      branch: /.*/
      limit:
        last: 10
        in: 168h
    imagesPerReference:
      last: 2
      in: 1h30m
      operator: Or
  - references:
      tag: v1.0.0
gitWorktree:
  forceShallowClone: true
  allowUnshallow: false
---
image: x
dockerfile: Dockerfile
`);
    expect(config.build).toMatchObject({ cacheVersion: '1', platform: ['linux/amd64', 'linux/arm64'], staged: true });
    expect(config.build.imageSpec).toMatchObject({ author: 'me', clearHistory: true, keepEssentialWerfLabels: true, labels: { team: 'backend' } });
    expect(config.build.imageSpec?.removeLabels).toEqual(['/^io\\.k8s\\..*/']);
    expect(config.deploy).toEqual({ helmChartDir: '.helm', helmReleaseSlug: false });
    expect(config.cleanup.keepImagesBuiltWithinLastNHours).toBe(24);
    expect(config.cleanup.disableKubernetesBasedPolicy).toBe(true);
    const [branches, tags] = config.cleanup.keepPolicies;
    expect(branches?.references.branch?.regex.test('feature/x')).toBe(true);
    expect(branches?.references.limit).toEqual({ last: 10, inMs: 168 * 3_600_000, in: '168h', operator: 'And' });
    expect(branches?.imagesPerReference).toEqual({ last: 2, inMs: 5_400_000, in: '1h30m', operator: 'Or' });
    expect(tags?.references.tag?.regex.test('v1.0.0')).toBe(true);
    expect(tags?.references.tag?.regex.test('v1x0x0')).toBe(false);
    expect(tags?.references.branch).toBeUndefined();
    expect(config.gitWorktree).toEqual({ forceShallowClone: true, allowUnshallow: false, allowFetchOriginBranchesAndTags: true });
    // staged comes from the meta default; the global imageSpec is merged into final images.
    const image = dockerfileImage(config, 'x');
    expect(image.staged).toBe(true);
    expect(image.imageSpec).toMatchObject({ author: 'me', labels: { team: 'backend' }, removeLabels: ['/^io\\.k8s\\..*/'] });
  });

  it('reads a Dockerfile image with every directive', () => {
    const config = parse(`${META}image: [backend, backend-alias]
final: false
dockerfile: Dockerfile
staged: true
cacheVersion: 2
context: backend
contextAddFiles: [dist]
platform: [linux/amd64]
target: production
args:
  VERSION: "1.0"
  RETRIES: 3
  DEBUG: true
addHost: registry.local:10.0.0.1
network: host
ssh: default
secrets:
- env: GITHUB_TOKEN
- src: ~/.npmrc
- id: api-key
  value: secret
dependencies:
- from: base
  imports:
  - type: ImageName
    targetBuildArg: BASE_IMAGE
  - type: ImageDigest
    targetBuildArg: BASE_DIGEST
imageSpec:
  author: me
  clearHistory: true
  config:
    clearCmd: true
    clearUser: true
    removeLabels: [a, /b.*/]
    removeVolumes: [/data]
    removeEnv: [/^DEBUG_.*/]
    volumes: [/cache]
    labels: {a: b}
    env: {A: b}
    expose: ["8080/tcp"]
    user: app
    cmd: [run]
    entrypoint: [/bin/sh, -c]
    workingDir: /app
    stopSignal: SIGTERM
    healthcheck:
      test: [CMD, curl, -f, http://localhost/]
      interval: 30
      startperiod: 10
      retries: 3
---
image: base
dockerfile: base.Dockerfile
`);
    expect(config.images.map((i) => i.name)).toEqual(['backend', 'backend-alias', 'base']);
    const image = dockerfileImage(config, 'backend-alias');
    expect(image).toMatchObject({
      final: false,
      dockerfile: 'Dockerfile',
      staged: true,
      cacheVersion: '2',
      context: 'backend',
      contextAddFiles: ['dist'],
      platform: ['linux/amd64'],
      target: 'production',
      args: { VERSION: '1.0', RETRIES: '3', DEBUG: 'true' },
      addHost: ['registry.local:10.0.0.1'],
      network: 'host',
      ssh: 'default',
      dependsOn: { from: undefined, imports: [], dependencies: ['base'] },
    });
    expect(image.secrets).toEqual([
      { kind: 'env', id: 'GITHUB_TOKEN', env: 'GITHUB_TOKEN' },
      { kind: 'src', id: '.npmrc', src: '~/.npmrc' },
      { kind: 'value', id: 'api-key', value: 'secret' },
    ]);
    expect(image.dependencies).toEqual([
      {
        image: 'base',
        before: undefined,
        after: undefined,
        imports: [
          { type: 'ImageName', targetBuildArg: 'BASE_IMAGE', targetEnv: undefined },
          { type: 'ImageDigest', targetBuildArg: 'BASE_DIGEST', targetEnv: undefined },
        ],
      },
    ]);
    expect(image.imageSpec).toMatchObject({
      author: 'me',
      clearHistory: true,
      clearCmd: true,
      clearUser: true,
      removeLabels: ['a', '/b.*/'],
      cmd: ['run'],
      entrypoint: ['/bin/sh', '-c'],
      healthcheck: { test: ['CMD', 'curl', '-f', 'http://localhost/'], interval: 30, timeout: undefined, startPeriod: 10, retries: 3 },
    });
    // Each name is its own image: editing one does not change the other.
    dockerfileImage(config, 'backend').args['X'] = 'y';
    expect(image.args['X']).toBeUndefined();
  });

  it('reads a stapel image with every directive', () => {
    const config = parse(`${META}image: app
cacheVersion: 1
platform: [linux/amd64]
from: alpine:3.20
fromLatest: true
fromCacheVersion: 1
network: host
disableGitAfterPatch: true
git:
- to: /app
  includePaths: src
  excludePaths: [docs, "*.md"]
  owner: 1000
  group: app
  stageDependencies:
    install: package.json
    beforeSetup: ["config/**"]
- url: https://github.com/werf/werf.git
  basicAuth:
    username: bot
    password:
      env: GIT_PASSWORD
  branch: main
  add: /cmd
  to: /werf
shell:
  beforeInstall: apk add curl
  install: [npm ci]
  setup: [npm run build]
  installCacheVersion: 2
mount:
- from: tmp_dir
  to: /tmp
- fromPath: ~/.npm
  to: /root/.npm
import:
- from: builder
  before: install
  add: /build/app
  to: /usr/local/bin/app
- from: nginx:1.25
  after: setup
  add: /etc/nginx
dependencies:
- from: builder
  after: install
  imports:
  - type: ImageDigest
    targetEnv: BUILDER_DIGEST
docker:
  EXPOSE: "80"
  ENV: {A: b}
  CMD: [nginx, -g, daemon off;]
  WORKDIR: /app
imageSpec:
  config:
    cmd: [/usr/local/bin/app]
---
image: builder
final: false
from: golang:1.22
ansible:
  install:
  - name: build
    shell: go build ./...
`);
    const app = stapelImage(config, 'app');
    expect(app).toMatchObject({
      from: 'alpine:3.20',
      fromLatest: true,
      fromCacheVersion: '1',
      disableGitAfterPatch: true,
      cacheVersion: '1',
      network: 'host',
      shell: { beforeInstall: ['apk add curl'], install: ['npm ci'], beforeSetup: [], setup: ['npm run build'], installCacheVersion: '2' },
      mount: [
        { from: 'tmp_dir', to: '/tmp' },
        { fromPath: '~/.npm', to: '/root/.npm' },
      ],
      dependsOn: { from: undefined, imports: ['builder'], dependencies: ['builder'] },
      docker: { expose: ['80'], env: { A: 'b' }, cmd: ['nginx', '-g', 'daemon off;'], workdir: '/app' },
    });
    expect(app.git[0]).toMatchObject({
      url: undefined,
      add: '/',
      to: '/app',
      includePaths: ['src'],
      excludePaths: ['docs', '*.md'],
      owner: '1000',
      stageDependencies: { install: ['package.json'], beforeSetup: ['config/**'], setup: [] },
    });
    expect(app.git[1]).toMatchObject({ url: 'https://github.com/werf/werf.git', branch: 'main', add: '/cmd', basicAuth: { username: 'bot', password: { env: 'GIT_PASSWORD' } } });
    expect(app.import).toEqual([
      expect.objectContaining({ image: 'builder', external: false, before: 'install', to: '/usr/local/bin/app' }),
      expect.objectContaining({ image: 'nginx:1.25', external: true, after: 'setup', add: '/etc/nginx', to: '/etc/nginx' }),
    ]);
    expect(app.dependencies[0]).toEqual({ image: 'builder', before: undefined, after: 'install', imports: [{ type: 'ImageDigest', targetEnv: 'BUILDER_DIGEST', targetBuildArg: undefined }] });
    expect(stapelImage(config, 'builder').ansible?.install).toEqual([{ name: 'build', shell: 'go build ./...' }]);
  });

  it('reads the nameless image and YAML 1.1 values as werf does', () => {
    const config = parse(`${META}image: ~\nfrom: alpine\nfinal: no\ncacheVersion: 1.10\n`);
    expect(config.images[0]?.name).toBe('');
    expect(config.images[0]?.final).toBe(false);
    expect(config.images[0]?.cacheVersion).toBe('1.10');
  });

  it('follows anchors, aliases and merge keys', () => {
    const config = parse(`${META}image: b
from: alpine
platform: &platforms [linux/amd64]
shell:
  <<: {install: [make], setup: [ignored]}
  setup: [done]
imageSpec:
  config:
    volumes: *platforms
`);
    expect(stapelImage(config, 'b').shell).toMatchObject({ install: ['make'], setup: ['done'] });
    expect(stapelImage(config, 'b').imageSpec?.volumes).toEqual(['linux/amd64']);
  });

  it('treats `from` naming another image as a dependency, and anything else as a reference', () => {
    const config = parse(`${META}image: base
from: ubuntu:22.04
---
image: app
from: base
---
image: other
from: registry.example.com/base
`);
    expect(stapelImage(config, 'app').dependsOn.from).toBe('base');
    expect(stapelImage(config, 'other').dependsOn.from).toBeUndefined();
  });

  it('reads legacy artifacts (never final) and imports from them', () => {
    const config = parse(`${META}artifact: assets
from: node:20
---
image: web
from: nginx
import:
- artifact: assets
  add: /dist
  to: /usr/share/nginx/html
  after: setup
`);
    expect(stapelImage(config, 'assets')).toMatchObject({ artifact: true, final: false });
    expect(stapelImage(config, 'web').dependsOn.imports).toEqual(['assets']);
  });

  it('applies SLIPWAY_PROJECT_NAME / WERF_PROJECT_NAME', () => {
    expect(parse(`${META}image: a\nfrom: x\n`, { projectName: { value: 'other', from: 'WERF_PROJECT_NAME' } }).project).toBe('other');
  });
});

describe('parseWerfConfig: problems, with document, key path and line', () => {
  it('reports an unknown key, with the document and image', () => {
    expect(problems(`${META}image: backend\ndockerfile: Dockerfile\ncontxt: .\n`)).toEqual([
      'werf.yaml:6: document 2 (image "backend"): unknown key "contxt"',
    ]);
  });

  it('reports unknown nested keys with their path', () => {
    expect(problems(`${META}image: backend\ndockerfile: Dockerfile\nimageSpec:\n  config:\n    lables: {a: b}\n`)).toEqual([
      'werf.yaml:8: document 2 (image "backend"): imageSpec.config: unknown key "lables"',
    ]);
  });

  it('explains directives of the other kind of image', () => {
    expect(problems(`${META}image: a\ndockerfile: Dockerfile\nshell:\n  install: ls\n`)).toEqual([
      'werf.yaml:6: document 2 (image "a"): unknown key "shell": this is a Dockerfile image (it has "dockerfile"), and "shell" is a stapel directive',
    ]);
    expect(problems(`${META}image: a\nfrom: alpine\ncontext: .\n`)).toEqual([
      'werf.yaml:6: document 2 (image "a"): unknown key "context": this is a stapel image (it has no "dockerfile"), and "context" is a Dockerfile image directive',
    ]);
  });

  it('reports wrong types', () => {
    expect(
      problems(`${META}image: a
dockerfile: Dockerfile
final: maybe
platform: linux/amd64
args:
  X: {nested: true}
staged: 1
`),
    ).toEqual([
      'werf.yaml:6: document 2 (image "a"): final: expected a boolean (true or false), got "maybe"',
      'werf.yaml:7: document 2 (image "a"): platform: expected a list of strings, got "linux/amd64"',
      'werf.yaml:9: document 2 (image "a"): args.X: expected a string, got a mapping',
      'werf.yaml:10: document 2 (image "a"): staged: expected a boolean (true or false), got "1"',
    ]);
  });

  it('reports a bad dependency import type', () => {
    expect(
      problems(`${META}image: a
dockerfile: Dockerfile
dependencies:
- from: b
  imports:
  - type: ImageSize
    targetBuildArg: B
---
image: b
dockerfile: Dockerfile
`),
    ).toEqual([
      'werf.yaml:9: document 2 (image "a"): dependencies[0].imports[0].type: expected one of ImageName, ImageTag, ImageRepo, ImageID, ImageDigest, got "ImageSize"',
    ]);
  });

  it('reports a dependency, fromImage or import on a missing image', () => {
    expect(
      problems(`${META}image: a
dockerfile: Dockerfile
dependencies:
- from: nope
---
image: b
fromImage: missing
import:
- from: gone
  add: /x
  after: install
- from: nginx:1.25
  add: /etc/nginx
  after: install
`),
    ).toEqual([
      'werf.yaml:7: document 2 (image "a"): dependencies[0].from: image "nope" is not defined in werf.yaml',
      'werf.yaml:10: document 3 (image "b"): fromImage: image "missing" is not defined in werf.yaml',
      'werf.yaml:12: document 3 (image "b"): import[0].from: image "gone" is not defined in werf.yaml',
    ]);
  });

  it('reports duplicate image names, across documents and within a list', () => {
    expect(problems(`${META}image: a\nfrom: x\n---\nimage: [b, a]\nfrom: y\n`)).toEqual([
      'werf.yaml:7: document 3 (images "b", "a"): image: image "a" is already defined in document 2 (line 4): image names must be unique',
    ]);
    expect(problems(`${META}image: [c, c]\nfrom: y\n`)).toEqual([
      'werf.yaml:4: document 2 (images "c", "c"): image: image "c" is already defined in document 2 (line 4): image names must be unique',
    ]);
  });

  it('reports dependency cycles once, at the first image of the cycle', () => {
    expect(
      problems(`${META}image: a
fromImage: b
---
image: b
from: alpine
import:
- from: a
  add: /x
  after: install
---
image: c
from: alpine
dependencies:
- from: c
  after: setup
`),
    ).toEqual([
      'werf.yaml:5: document 2 (image "a"): fromImage: dependency cycle between images: a -> b -> a',
      'werf.yaml:17: document 4 (image "c"): dependencies[0].from: dependency cycle between images: c -> c',
    ]);
  });

  it('reports a build arg set both in args and by a dependency import', () => {
    expect(
      problems(`${META}image: a
dockerfile: Dockerfile
args:
  BASE: x
dependencies:
- from: b
  imports:
  - type: ImageName
    targetBuildArg: BASE
---
image: b
dockerfile: Dockerfile
`),
    ).toEqual([
      'werf.yaml:7: document 2 (image "a"): args.BASE: build arg "BASE" is also set by a dependency import ("targetBuildArg"): avoid duplicated build args',
    ]);
  });

  it('reports dependency rules of each kind of image', () => {
    expect(
      problems(`${META}image: a
dockerfile: Dockerfile
dependencies:
- from: c
  before: install
  imports:
  - type: ImageName
    targetEnv: X
---
image: b
from: alpine
dependencies:
- image: c
  imports:
  - type: ImageTag
    targetBuildArg: Y
---
image: c
from: alpine
`),
    ).toEqual([
      'werf.yaml:8: document 2 (image "a"): dependencies[0]: unknown key "before": "before" and "after" are for stapel image dependencies, not Dockerfile ones',
      'werf.yaml:10: document 2 (image "a"): dependencies[0].imports[0]: missing key "targetBuildArg"',
      'werf.yaml:11: document 2 (image "a"): dependencies[0].imports[0]: unknown key "targetEnv": Dockerfile images receive dependencies through build args ("targetBuildArg")',
      'werf.yaml:16: document 3 (image "b"): dependencies[0]: missing key "before" or "after": the stage (install or setup) is required',
      'werf.yaml:18: document 3 (image "b"): dependencies[0].imports[0]: missing key "targetEnv"',
      'werf.yaml:19: document 3 (image "b"): dependencies[0].imports[0]: unknown key "targetBuildArg": stapel images receive dependencies through environment variables ("targetEnv")',
    ]);
  });

  it('reports stapel base image problems', () => {
    expect(problems(`${META}image: a\nshell:\n  install: ls\n`)).toEqual([
      'werf.yaml:4: document 2 (image "a"): missing key "from": the base image (an image reference, or the name of another image) is required',
    ]);
    expect(problems(`${META}image: a\nfrom: alpine\nfromImage: b\n---\nimage: b\nfrom: x\n`)).toEqual([
      'werf.yaml:6: document 2 (image "a"): specify only one of "from", "fromImage"',
    ]);
    expect(problems(`${META}image: a\nfrom: a\n`)).toEqual(['werf.yaml:5: document 2 (image "a"): from: image "a" cannot use itself as its base image']);
    expect(problems(`${META}image: a\nfrom: scratch\nfromLatest: true\n`)).toEqual([
      'werf.yaml:6: document 2 (image "a"): fromLatest: "fromLatest" cannot be used with "from: scratch"',
    ]);
  });

  it('reports git, mount, import and shell problems', () => {
    expect(
      problems(`${META}image: a
from: alpine
git:
- add: /src
- to: /app
  branch: main
- url: https://example.com/r.git
  to: app
  tag: v1
  commit: abc
shell:
  install: ls
ansible:
  install: []
mount:
- from: home_dir
  to: /root
- from: tmp_dir
  fromPath: /tmp
  to: /tmp
- from: tmp_dir
  to: /cache
- from: build_dir
  to: /cache
import:
- from: b
  add: /x
  before: install
  after: setup
- from: b
  add: relative
  before: beforeInstall
---
image: b
from: alpine
`),
    ).toEqual([
      'werf.yaml:7: document 2 (image "a"): git[0]: missing key "to": the absolute destination path in the image is required',
      'werf.yaml:9: document 2 (image "a"): git[1].branch: "branch" is only for remote repositories (with "url")',
      'werf.yaml:11: document 2 (image "a"): git[2].to: "to" must be an absolute path in the image, got "app"',
      'werf.yaml:13: document 2 (image "a"): git[2]: specify only one of "branch", "tag" and "commit" (got tag and commit)',
      'werf.yaml:16: document 2 (image "a"): specify only one of "shell" and "ansible"',
      'werf.yaml:19: document 2 (image "a"): mount[0].from: expected one of tmp_dir, build_dir, got "home_dir"',
      'werf.yaml:22: document 2 (image "a"): mount[1]: specify only one of "from" and "fromPath"',
      'werf.yaml:27: document 2 (image "a"): mount[3].to: conflict between mounts: "to: /cache" is already used at mount[2]',
      'werf.yaml:32: document 2 (image "a"): import[0]: specify only one of "before" and "after"',
      'werf.yaml:34: document 2 (image "a"): import[1].add: "add" must be an absolute path, got "relative"',
      'werf.yaml:35: document 2 (image "a"): import[1].before: expected one of install, setup, got "beforeInstall"',
    ]);
  });

  it('reports Dockerfile path and context problems', () => {
    expect(
      problems(`${META}image: a
dockerfile: ""
context: /abs
contextAddFile: [x]
contextAddFiles: [/y]
`),
    ).toEqual([
      'werf.yaml:5: document 2 (image "a"): dockerfile: expected the path of the Dockerfile, relative to the context',
      'werf.yaml:6: document 2 (image "a"): context: the context must be a path relative to the project directory',
      'werf.yaml:7: document 2 (image "a"): only one of "contextAddFiles" and "contextAddFile" can be used: move everything into "contextAddFiles"',
      'werf.yaml:8: document 2 (image "a"): contextAddFiles[0]: each path must be relative to the context',
    ]);
    expect(problems(`${META}image: a\ndockerfile: /Dockerfile\n`)).toEqual([
      'werf.yaml:5: document 2 (image "a"): dockerfile: the Dockerfile path must be relative to the context',
    ]);
  });

  it('reports import, mount and nested directive problems with helpful messages', () => {
    expect(
      problems(`${META}artifact: x
from: alpine
final: true
import:
- add: /x
  after: install
- from: nginx:1
  before: setup
mount:
- from: tmp_dir
git:
- to: /app
  stageDependencies:
    beforeInstall: ["*"]
imageSpec:
  config:
    healthcheck:
      startPeriod: 10
`),
    ).toEqual([
      'werf.yaml:6: document 2 (artifact "x"): final: an artifact cannot be final: use "image:" with "final: true" instead',
      'werf.yaml:8: document 2 (artifact "x"): import[0]: missing key "from": the image to import from is required',
      'werf.yaml:10: document 2 (artifact "x"): import[1]: missing key "add": the absolute path to copy from the source image is required',
      'werf.yaml:13: document 2 (artifact "x"): mount[0]: missing key "to": the absolute path in the image is required',
      'werf.yaml:17: document 2 (artifact "x"): git[0].stageDependencies: unknown key "beforeInstall": git changes cannot trigger beforeInstall (use install, beforeSetup or setup)',
      'werf.yaml:21: document 2 (artifact "x"): imageSpec.config.healthcheck: unknown key "startPeriod": werf reads this value from "startperiod" (all lower case)',
    ]);
  });

  it('reports bad keep-policy references and werf 1.1 cleanup policies', () => {
    expect(
      problems(`configVersion: 1
project: app
cleanup:
  policies: []
  keepPolicies:
  - references: {}
  - references:
      branch: /[/
`),
    ).toEqual([
      'werf.yaml:4: document 1 (meta): cleanup: unknown key "policies": werf 1.1 cleanup policies are not supported; use "keepPolicies"',
      'werf.yaml:6: document 1 (meta): cleanup.keepPolicies[0].references: missing key "branch" or "tag": one of them is required',
      'werf.yaml:8: document 1 (meta): cleanup.keepPolicies[1].references.branch: invalid value "/[/": expected a name or a /regular expression/',
    ]);
  });

  it('reports secrets problems', () => {
    expect(
      problems(`${META}image: a
dockerfile: Dockerfile
secrets:
- env: A
  src: ./a
- value: secret
- id: x
- env: TOKEN
- id: TOKEN
  value: v
`),
    ).toEqual([
      'werf.yaml:7: document 2 (image "a"): secrets[0]: specify only one of "env", "src" and "value"',
      'werf.yaml:9: document 2 (image "a"): secrets[1]: missing key "id": it is required with "value"',
      'werf.yaml:10: document 2 (image "a"): secrets[2]: one of "env", "src" or "value" is required',
      'werf.yaml:12: document 2 (image "a"): secrets[4]: duplicate secret id "TOKEN": already used at secrets[3]',
    ]);
  });

  it('reports image name problems', () => {
    // A nameless Dockerfile image is accepted, as werf accepts it; alone only, as for stapel images.
    expect(parse(`${META}image: ~\ndockerfile: Dockerfile\n`).images.map((i) => [i.name, i.kind])).toEqual([['', 'dockerfile']]);
    expect(problems(`${META}image: ~\ndockerfile: Dockerfile\n---\nimage: b\ndockerfile: Dockerfile\n`)).toEqual([
      'werf.yaml:4: document 2 (image ~): image: the nameless image (`image: ~`) cannot be used together with other images: give every image a name',
    ]);
    expect(problems(`${META}image: ~\nfrom: alpine\n---\nimage: b\nfrom: alpine\n`)).toEqual([
      'werf.yaml:4: document 2 (image ~): image: the nameless image (`image: ~`) cannot be used together with other images: give every image a name',
    ]);
    expect(problems(`${META}image: 123\nfrom: alpine\n`)).toEqual([
      'werf.yaml:4: document 2: image: expected an image name or a list of names, got "123"',
    ]);
    expect(problems(`${META}image: []\nfrom: alpine\n`)).toEqual(['werf.yaml:4: document 2: image: expected at least one image name']);
    expect(problems(`${META}dockerfile: Dockerfile\n`)).toEqual(['werf.yaml:4: document 2: missing key "image": the image name is required']);
  });

  it('reports meta document problems', () => {
    expect(problems('configVersion: 2\nproject: Bad_Name\n---\nimage: a\nfrom: x\n')).toEqual([
      "werf.yaml:1: document 1 (meta): configVersion: expected 1, got \"2\": 'configVersion: 1' is required",
      'werf.yaml:2: document 1 (meta): project: bad project name "Bad_Name": use lower-case letters, digits and dashes, not starting or ending with a dash (^(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$), at most 50 characters',
    ]);
    expect(problems(`configVersion: 1\nproject: ${'a'.repeat(51)}\n`)[0]).toContain('at most 50 characters');
    expect(problems('configVersion: 1\n')).toEqual(['werf.yaml:1: document 1 (meta): missing key "project": the project name is required']);
    expect(problems('image: a\nfrom: x\n')).toEqual([
      'werf.yaml: the meta document is missing: add a document with "configVersion: 1" and "project: <name>", separated from the image documents by a line of ---',
    ]);
    expect(problems(`${META}project: b\nconfigVersion: 1\n`)).toEqual([
      'werf.yaml:4: document 2 (meta): duplicate meta document: the meta document is document 1',
    ]);
    expect(problems(`${META}from: alpine\n`)).toEqual([
      'werf.yaml:4: document 2: cannot recognize the document: the meta document has "configVersion", an image document has "image" (with "dockerfile" for a Dockerfile image)',
    ]);
    expect(problems(`${META}- a\n- b\n`)).toEqual(['werf.yaml:4: document 2: expected a mapping of directives, got a list']);
    expect(problems(`${META.replace('---', 'shell: {}\n---')}image: a\nfrom: x\n`)).toEqual([
      'werf.yaml:3: document 1 (meta): unknown key "shell": image directives go in their own document (separated by ---), not in the meta document',
    ]);
  });

  it('reports cleanup and build problems', () => {
    expect(
      problems(`configVersion: 1
project: app
build:
  imageSpec:
    config:
      cmd: [run]
cleanup:
  keepPolicies:
  - imagesPerReference:
      last: 1
  - references:
      branch: main
      tag: /v.*/
  - references:
      branch: main
      limit:
        in: 7d
        operator: Xor
`),
    ).toEqual([
      'werf.yaml:6: document 1 (meta): build.imageSpec.config: unknown key "cmd": only keepEssentialWerfLabels, clearWerfLabels, removeLabels and labels can be set for all images; set cmd in an image\'s imageSpec',
      'werf.yaml:9: document 1 (meta): cleanup.keepPolicies[0]: missing key "references": a keep policy needs a branch or a tag',
      'werf.yaml:13: document 1 (meta): cleanup.keepPolicies[1].references: specify only one of "branch" and "tag"',
      'werf.yaml:17: document 1 (meta): cleanup.keepPolicies[2].references.limit.in: invalid duration "7d": expected a Go duration such as 12h, 168h or 1h30m (there is no unit for days)',
      'werf.yaml:18: document 1 (meta): cleanup.keepPolicies[2].references.limit.operator: expected one of And, Or, got "Xor"',
    ]);
  });

  it('reports YAML syntax errors with their line, and skips checks that would cascade', () => {
    expect(problems(`${META}image: a\nfrom: x\nfrom: y\n---\nimage: b\nfromImage: a\n`)).toEqual([
      'werf.yaml:6: document 2: invalid YAML: Map keys must be unique',
    ]);
    expect(problems(`${META}image: [a\nfrom: x\n`)[0]).toMatch(/^werf\.yaml:5: document 2: invalid YAML: /);
  });

  it('collects every problem of the file into one ConfigError, sorted by line', () => {
    let caught: unknown;
    try {
      parseWerfConfig(`${META}image: a\ndockerfile: Dockerfile\nfinal: maybe\n---\nimage: b\nfrom: alpine\nbogus: 1\n`);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toBe(
      [
        'werf.yaml: 2 problems',
        'werf.yaml:6: document 2 (image "a"): final: expected a boolean (true or false), got "maybe"',
        'werf.yaml:10: document 3 (image "b"): unknown key "bogus"',
      ].join('\n'),
    );
    expect((caught as ConfigError).hint).toBeUndefined();
  });

  it('says in its hint that lines are those of the rendered file when the source was templated', () => {
    try {
      parseWerfConfig(`${META}image: a\nfrom: x\nbogus: 1\n`, { templated: true, file: 'werf.yml' });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toBe('werf.yml:6: document 2 (image "a"): unknown key "bogus"');
      expect((error as ConfigError).hint).toMatch(/rendered configuration.*slipway config render/);
    }
  });

  it('checks the project name override', () => {
    expect(problems(`${META}image: a\nfrom: x\n`, { projectName: { value: 'Not Valid', from: 'WERF_PROJECT_NAME' } })).toEqual([
      expect.stringMatching(/^werf\.yaml: \$WERF_PROJECT_NAME: bad project name "Not Valid"/),
    ]);
  });

  it('asks the inspector about giterminism-gated directives', () => {
    const inspector = {
      fromLatest: () => 'fromLatest not allowed',
      gitBranch: () => 'git branch not allowed',
      mountBuildDir: () => 'build_dir not allowed',
      mountFromPath: (p: string) => `fromPath ${p} not allowed`,
      contextAddFile: (p: string) => `contextAddFile ${p} not allowed`,
      secretEnv: (n: string) => `secret ${n} not allowed`,
    };
    expect(
      problems(
        `${META}image: a
from: alpine
fromLatest: true
git:
- url: https://example.com/r.git
  branch: main
  to: /r
mount:
- from: build_dir
  to: /b
- fromPath: /host
  to: /h
secrets:
- env: TOKEN
---
image: d
dockerfile: Dockerfile
context: ctx
contextAddFiles: [untracked.txt]
`,
        { inspector },
      ),
    ).toEqual([
      'werf.yaml:6: document 2 (image "a"): fromLatest: fromLatest not allowed',
      'werf.yaml:9: document 2 (image "a"): git[0].branch: git branch not allowed',
      'werf.yaml:12: document 2 (image "a"): mount[0].from: build_dir not allowed',
      'werf.yaml:14: document 2 (image "a"): mount[1].fromPath: fromPath /host not allowed',
      'werf.yaml:17: document 2 (image "a"): secrets[0].env: secret TOKEN not allowed',
      'werf.yaml:22: document 3 (image "d"): contextAddFiles[0]: contextAddFile ctx/untracked.txt not allowed',
    ]);
  });
});
