// What a call throws, checked to be of the expected class: errorOf(UsageError, () => ...) returns the
// UsageError for further expectations, and fails the test when the call returns or throws something else.

import { expect } from 'vitest';
import { ConfigError, UsageError } from '../../src/errors.js';

export function errorOf<T extends Error>(type: abstract new (...args: never[]) => T, fn: () => unknown): T {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as T;
  }
  throw new Error(`expected a ${type.name}`);
}

export function usageErrorOf(fn: () => unknown): UsageError {
  return errorOf(UsageError, fn);
}

export function configErrorOf(fn: () => unknown): ConfigError {
  return errorOf(ConfigError, fn);
}
