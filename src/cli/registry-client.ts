// Registry options of the command line, turned into one RegistryClient per command run.

import { RegistryClient } from '../registry/client.js';
import { dockerConfigCredentials } from '../registry/auth/credentials.js';
import { proxySettingsFromEnv } from '../registry/proxy.js';
import type { Logger } from './log.js';
import type { Env } from './options.js';

export const REGISTRY_OPTION_NAMES = ['dockerConfig', 'insecureRegistry', 'skipTlsVerifyRegistry', 'registryRetries', 'registryTimeout'] as const;

export interface RegistryCliOptions {
  dockerConfig: string | undefined;
  insecureRegistry: boolean;
  skipTlsVerifyRegistry: boolean;
  registryRetries: number;
  registryTimeout: number;
}

export function registryClientFor(options: RegistryCliOptions, env: Env, log: Logger): RegistryClient {
  return new RegistryClient({
    credentials: dockerConfigCredentials({ ...(options.dockerConfig ? { configDir: options.dockerConfig } : {}), env }),
    insecure: options.insecureRegistry,
    skipTlsVerify: options.skipTlsVerifyRegistry,
    retries: options.registryRetries,
    timeoutMs: options.registryTimeout * 1000,
    proxy: proxySettingsFromEnv(env),
    debug: (line) => log.debug(line),
  });
}
