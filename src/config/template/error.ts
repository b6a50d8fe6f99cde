import { ConfigError } from '../../errors.js';

const MAX_FRAMES_SHOWN = 8;

/**
 * A template error. The message starts with `<file>:<line>:<col>: ` of the failing action, in the file
 * that holds it; when the action ran inside {{template}}, include or tpl, the calls that led there
 * follow, innermost first: `(via include "x" at werf.yaml:5:3, ...)`.
 */
export class TemplateError extends ConfigError {
  readonly head: string;
  readonly frames: string[] = [];

  constructor(head: string, options: { cause?: unknown } = {}) {
    super(head, options);
    this.head = head;
  }

  addFrame(frame: string): this {
    this.frames.push(frame);
    let shown = this.frames.map((f) => `via ${f}`);
    if (shown.length > MAX_FRAMES_SHOWN) {
      const half = MAX_FRAMES_SHOWN / 2;
      shown = [...shown.slice(0, half), `… ${shown.length - MAX_FRAMES_SHOWN} more …`, ...shown.slice(-half)];
    }
    this.message = `${this.head} (${shown.join(', ')})`;
    return this;
  }
}
