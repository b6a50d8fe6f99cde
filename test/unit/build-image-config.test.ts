import { describe, expect, it } from 'vitest';
import { applyMetadataInstruction, cloneConfig, containerConfig } from '../../src/builder/image-config.js';
import { expandInstruction } from '../../src/builder/dockerfile/expand.js';
import { parseDockerfile } from '../../src/builder/dockerfile/parse.js';
import type { ImageConfig } from '../../src/oci/index.js';

/** Apply every instruction after FROM of a one-stage Dockerfile to `base`. */
function apply(text: string, base: ImageConfig = { os: 'linux', architecture: 'amd64', config: {} }): ImageConfig {
  const dockerfile = parseDockerfile(text, 'Dockerfile');
  const config = cloneConfig(base);
  const state = { cmdSet: false };
  for (const instruction of dockerfile.stages[0]!.instructions) {
    applyMetadataInstruction(config, instruction, expandInstruction(instruction, new Map([['PORT', '8080']]), { file: 'Dockerfile' }), state);
  }
  return config;
}

describe('metadata instructions', () => {
  it('set the config fields Docker sets', () => {
    const config = apply([
      'FROM scratch',
      'LABEL a=1 "b c"="d e"',
      'WORKDIR /srv',
      'WORKDIR app',
      'USER nobody:nogroup',
      'EXPOSE $PORT 53/udp',
      'VOLUME ["/data"]',
      'SHELL ["/bin/bash", "-c"]',
      'CMD echo hi',
      'STOPSIGNAL SIGTERM',
      'HEALTHCHECK --interval=5s --retries=2 CMD ["check"]',
      'ONBUILD COPY . /src',
      'MAINTAINER someone',
    ].join('\n'));
    expect(containerConfig(config)).toEqual({
      Labels: { a: '1', 'b c': 'd e' },
      WorkingDir: '/srv/app',
      User: 'nobody:nogroup',
      ExposedPorts: { '8080/tcp': {}, '53/udp': {} },
      Volumes: { '/data': {} },
      Shell: ['/bin/bash', '-c'],
      Cmd: ['/bin/bash', '-c', 'echo hi'],
      StopSignal: 'SIGTERM',
      Healthcheck: { Test: ['CMD', 'check'], Interval: 5_000_000_000, Retries: 2 },
      OnBuild: ['COPY . /src'],
    });
    expect(config.author).toBe('someone');
  });

  it('ENTRYPOINT drops an inherited CMD but keeps one set in the same stage', () => {
    const base: ImageConfig = { os: 'linux', architecture: 'amd64', config: { Cmd: ['inherited'] } };
    expect(containerConfig(apply('FROM x\nENTRYPOINT ["/run"]', base)).Cmd).toBeNull();
    expect(containerConfig(apply('FROM x\nCMD ["mine"]\nENTRYPOINT ["/run"]', base)).Cmd).toEqual(['mine']);
    expect(containerConfig(apply('FROM x\nHEALTHCHECK NONE', base)).Healthcheck).toEqual({ Test: ['NONE'] });
  });
});
