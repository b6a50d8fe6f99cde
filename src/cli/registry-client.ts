// Registry options of the command line, turned into one RegistryClient per command run. The client (node:http and
// the rest) is loaded when a command needs one, not when the CLI starts.

import type { RegistryClient } from '../registry/client.js';
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

export async function registryClientFor(options: RegistryCliOptions, env: Env, log: Logger): Promise<RegistryClient> {
  const [{ RegistryClient }, { dockerConfigCredentials }, { proxySettingsFromEnv }] = await Promise.all([
    import('../registry/client.js'), import('../registry/auth/credentials.js'), import('../registry/proxy.js'),
  ]);
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
