export type { ProjectEvent, ProjectEventListener } from './events.js';
export type { ProjectOptions } from './project.js';
export { buildProject, type BuildProjectOptions } from './build-project.js';
export { exportProject, type ExportProjectOptions } from './export-project.js';
export { cleanupProject, purgeProject, type CleanupProjectOptions, type PurgeProjectOptions } from './cleanup-project.js';
