// Rendering helpers for the template engine's unit tests (test/unit/template-*.test.ts).

import { expect } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { renderTemplate, type TemplateOptions } from '../../src/config/template/index.js';

/** Renders `source` as werf.yaml would be rendered. */
export function render(source: string, data: unknown = {}, options: Partial<TemplateOptions> = {}): string {
  return renderTemplate(source, data, { name: 'werf.yaml', ...options });
}

/** The ConfigError rendering `source` throws; fails the test when it renders. */
export function renderError(source: string, data: unknown = {}, options: Partial<TemplateOptions> = {}): ConfigError {
  try {
    render(source, data, options);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error(`expected ${JSON.stringify(source)} to fail`);
}

/** The message of renderError(). */
export function renderErrorMessage(source: string, data: unknown = {}, options: Partial<TemplateOptions> = {}): string {
  return renderError(source, data, options).message;
}
