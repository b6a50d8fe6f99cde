// Registry options of the command line, turned into one RegistryClient per command run.

import { RegistryClient } from '../registry/client.js';
import { dockerConfigCredentials } from '../registry/auth/credentials.js';
import type { Logger } from './log.js';
import type { Env } from './options.js';

export const REGISTRY_OPTION_NAMES = ['dockerConfig', 'insecureRegistry', 'skipTlsVerifyRegistry', 'registryRetries'] as const;

export interface RegistryCliOptions {
  dockerConfig: string | undefined;
  insecureRegistry: boolean;
  skipTlsVerifyRegistry: boolean;
  registryRetries: number;
}

export function registryClientFor(options: RegistryCliOptions, env: Env, log: Logger): RegistryClient {
  return new RegistryClient({
    credentials: dockerConfigCredentials({ ...(options.dockerConfig ? { configDir: options.dockerConfig } : {}), env }),
    insecure: options.insecureRegistry,
    skipTlsVerify: options.skipTlsVerifyRegistry,
    retries: options.registryRetries,
    debug: (line) => log.debug(line),
  });
}
