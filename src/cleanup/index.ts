export * from './git-policy.js';
export * from './plan.js';
export * from './inventory.js';
export * from './cleanup.js';
