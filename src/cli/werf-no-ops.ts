// werf's flags of build, export, cleanup, purge and config (cmd/werf/common) that mean nothing for Slipway: they are
// accepted, so that a werf CI line runs unchanged, and ignored; `--log-verbose` says so for each one given, and the
// few whose absence changes what a werf user gets are warned about at every level. Each entry's `noOp` says why
// it is ignored; docs/werf-compatibility.md shows them, and test/unit/cli-werf-flags.test.ts holds the commands
// against werf's flag list (test/fixtures/werf-flags.json).
//
// The definitions are part of the one option table (options.ts): commands name them like any other option.

type Kind = 'boolean' | 'string' | 'string[]';

export interface NoOpDefinition {
  flag: `--${string}`;
  short?: `-${string}`;
  value: Kind;
  help: string;
  hidden: true;
  /** Why Slipway ignores it. */
  noOp: string;
  /** Ignoring it changes what a werf user would get: warn even without --log-verbose. */
  warn?: true;
}

function noOp(flag: `--${string}`, value: Kind, noOp: string, extra: { short?: `-${string}`; warn?: true } = {}): NoOpDefinition {
  return { flag, value, help: `werf's ${flag}: accepted and ignored (${noOp})`, hidden: true, noOp, ...extra };
}

const BACKEND = 'Slipway builds without a Docker or Buildah backend';
const HOST_CLEANUP = 'Slipway has no werf host storage to clean: its home is --home-dir';
const KUBE = 'Slipway never reads Kubernetes: cleanup keeps by git history and werf.yaml policies only, as werf --without-kube';
const LOG_STYLE = 'Slipway\'s log format is fixed';
const REGISTRY_KIND = 'Slipway speaks the OCI distribution API to every registry, authenticating from the docker config';
const NOT_YET = 'not implemented in Slipway';

export const WERF_NO_OP_OPTIONS = {
  // Configuration (config render/list/graph and every command that reads werf.yaml).
  allowIncludesUpdate: noOp('--allow-includes-update', 'boolean', 'Slipway does not read werf includes'),
  configRenderPath: noOp('--config-render-path', 'string', 'use slipway config render to see the rendered werf.yaml'),
  debugTemplates: noOp('--debug-templates', 'boolean', 'template errors always carry their file, line and column'),
  devBranch: noOp('--dev-branch', 'string', 'Slipway\'s --dev reads the work tree directly, without a dev branch'),
  tmpDir: noOp('--tmp-dir', 'string', 'Slipway keeps its scratch files under --home-dir'),
  // Logging.
  logColorMode: noOp('--log-color-mode', 'string', LOG_STYLE),
  logPretty: noOp('--log-pretty', 'boolean', LOG_STYLE),
  logTerminalWidth: noOp('--log-terminal-width', 'string', LOG_STYLE),
  logTime: noOp('--log-time', 'boolean', LOG_STYLE),
  logTimeFormat: noOp('--log-time-format', 'string', LOG_STYLE),
  logProjectDir: noOp('--log-project-dir', 'boolean', LOG_STYLE),
  // Repositories Slipway does not use.
  cacheRepo: noOp('--cache-repo', 'string[]', 'stages are looked up in --repo only'),
  secondaryRepo: noOp('--secondary-repo', 'string[]', 'stages are looked up in --repo only'),
  finalRepo: noOp('--final-repo', 'string', 'final images go where slipway export --tag sends them', { warn: true }),
  containerRegistryMirror: noOp('--container-registry-mirror', 'string[]', 'base images are pulled from the registry their reference names'),
  repoContainerRegistry: noOp('--repo-container-registry', 'string', REGISTRY_KIND),
  repoDockerHubPassword: noOp('--repo-docker-hub-password', 'string', REGISTRY_KIND),
  repoDockerHubToken: noOp('--repo-docker-hub-token', 'string', REGISTRY_KIND),
  repoDockerHubUsername: noOp('--repo-docker-hub-username', 'string', REGISTRY_KIND),
  repoGithubToken: noOp('--repo-github-token', 'string', REGISTRY_KIND),
  repoHarborPassword: noOp('--repo-harbor-password', 'string', REGISTRY_KIND),
  repoHarborUsername: noOp('--repo-harbor-username', 'string', REGISTRY_KIND),
  repoQuayToken: noOp('--repo-quay-token', 'string', REGISTRY_KIND),
  finalRepoContainerRegistry: noOp('--final-repo-container-registry', 'string', REGISTRY_KIND),
  finalRepoDockerHubPassword: noOp('--final-repo-docker-hub-password', 'string', REGISTRY_KIND),
  finalRepoDockerHubToken: noOp('--final-repo-docker-hub-token', 'string', REGISTRY_KIND),
  finalRepoDockerHubUsername: noOp('--final-repo-docker-hub-username', 'string', REGISTRY_KIND),
  finalRepoGithubToken: noOp('--final-repo-github-token', 'string', REGISTRY_KIND),
  finalRepoHarborPassword: noOp('--final-repo-harbor-password', 'string', REGISTRY_KIND),
  finalRepoHarborUsername: noOp('--final-repo-harbor-username', 'string', REGISTRY_KIND),
  finalRepoQuayToken: noOp('--final-repo-quay-token', 'string', REGISTRY_KIND),
  // Kubernetes and Helm.
  insecureHelmDependencies: noOp('--insecure-helm-dependencies', 'boolean', 'Slipway has no Helm charts'),
  kubeConfig: noOp('--kube-config', 'string', KUBE),
  kubeConfigBase64: noOp('--kube-config-base64', 'string', KUBE),
  kubeContext: noOp('--kube-context', 'string', KUBE),
  kubeApiServer: noOp('--kube-api-server', 'string', KUBE),
  kubeCaData: noOp('--kube-ca-data', 'string', KUBE),
  kubeToken: noOp('--kube-token', 'string', KUBE),
  kubeTokenPath: noOp('--kube-token-path', 'string', KUBE),
  kubeScanNamespaces: noOp('--kube-scan-namespaces', 'string[]', KUBE),
  scanContextNamespaceOnly: noOp('--scan-context-namespace-only', 'boolean', KUBE),
  scanContextOnly: noOp('--scan-context-only', 'string', KUBE),
  skipTlsVerifyKube: noOp('--skip-tls-verify-kube', 'boolean', KUBE),
  withoutKube: noOp('--without-kube', 'boolean', 'Slipway never reads Kubernetes: this is what it always does'),
  // Coordination and the werf host.
  synchronization: noOp('--synchronization', 'string', 'Slipway coordinates through the stages storage itself', { short: '-S' }),
  allowedBackendStorageVolumeUsage: noOp('--allowed-backend-storage-volume-usage', 'string', HOST_CLEANUP),
  allowedBackendStorageVolumeUsageMargin: noOp('--allowed-backend-storage-volume-usage-margin', 'string', HOST_CLEANUP),
  allowedLocalCacheVolumeUsage: noOp('--allowed-local-cache-volume-usage', 'string', HOST_CLEANUP),
  allowedLocalCacheVolumeUsageMargin: noOp('--allowed-local-cache-volume-usage-margin', 'string', HOST_CLEANUP),
  backendStoragePath: noOp('--backend-storage-path', 'string', HOST_CLEANUP),
  disableAutoHostCleanup: noOp('--disable-auto-host-cleanup', 'boolean', HOST_CLEANUP),
  // Building.
  backendNetwork: noOp('--backend-network', 'string', `${BACKEND}; RUN's network is werf.yaml's network or RUN --network`),
  introspectBeforeError: noOp('--introspect-before-error', 'boolean', `${BACKEND}: there is no container to enter`),
  introspectError: noOp('--introspect-error', 'boolean', `${BACKEND}: there is no container to enter`),
  introspectStage: noOp('--introspect-stage', 'string[]', `${BACKEND}: there is no container to enter`),
  sshKey: noOp('--ssh-key', 'string[]', 'Slipway forwards no SSH agent into RUN'),
  virtualMerge: noOp('--virtual-merge', 'boolean', 'Slipway reads the checked-out commit'),
  addCustomTag: noOp('--add-custom-tag', 'string[]', `${NOT_YET}: export the images with slipway export --tag instead`, { warn: true }),
  follow: noOp('--follow', 'boolean', `${NOT_YET}: Slipway builds once`, { warn: true }),
  // Reports of cleanup and purge.
  saveCleanupReport: noOp('--save-cleanup-report', 'boolean', `${NOT_YET}: the deleted tags are printed`, { warn: true }),
  cleanupReportPath: noOp('--cleanup-report-path', 'string', `${NOT_YET}: the deleted tags are printed`),
} as const;

/** The no-ops every command that reads werf.yaml takes (werf's config options and logging). */
export const WERF_CONFIG_NO_OPS = [
  'allowIncludesUpdate', 'configRenderPath', 'debugTemplates', 'devBranch', 'tmpDir',
  'logColorMode', 'logPretty', 'logTerminalWidth', 'logTime', 'logTimeFormat',
] as const;

/** The no-ops of the commands that work with a stages storage (build, export, cleanup, purge). */
export const WERF_STORAGE_NO_OPS = [
  ...WERF_CONFIG_NO_OPS, 'logProjectDir', 'cacheRepo', 'secondaryRepo', 'finalRepo', 'containerRegistryMirror',
  'repoContainerRegistry', 'repoDockerHubPassword', 'repoDockerHubToken', 'repoDockerHubUsername', 'repoGithubToken',
  'repoHarborPassword', 'repoHarborUsername', 'repoQuayToken', 'finalRepoContainerRegistry', 'finalRepoDockerHubPassword',
  'finalRepoDockerHubToken', 'finalRepoDockerHubUsername', 'finalRepoGithubToken', 'finalRepoHarborPassword',
  'finalRepoHarborUsername', 'finalRepoQuayToken', 'insecureHelmDependencies', 'kubeConfig', 'kubeConfigBase64', 'kubeContext',
  'synchronization',
] as const;

export const WERF_HOST_CLEANUP_NO_OPS = [
  'allowedBackendStorageVolumeUsage', 'allowedBackendStorageVolumeUsageMargin', 'allowedLocalCacheVolumeUsage',
  'allowedLocalCacheVolumeUsageMargin', 'backendStoragePath', 'disableAutoHostCleanup',
] as const;

export const WERF_BUILDING_NO_OPS = ['backendNetwork', 'introspectBeforeError', 'introspectError', 'introspectStage', 'sshKey', 'virtualMerge'] as const;

export const WERF_KUBE_SCAN_NO_OPS = [
  'kubeApiServer', 'kubeCaData', 'kubeToken', 'kubeTokenPath', 'kubeScanNamespaces', 'scanContextNamespaceOnly', 'scanContextOnly',
  'skipTlsVerifyKube', 'withoutKube',
] as const;

export const WERF_CLEANUP_REPORT_NO_OPS = ['saveCleanupReport', 'cleanupReportPath'] as const;
