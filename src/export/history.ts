// What export does to an image's history: the entries stay (they line up with the layers), the comment Slipway
// writes on each of them goes, as the service labels do. Comments other builders wrote are kept. Pure.

import { SERVICE_HISTORY_COMMENT } from '../stages/stage-id.js';

export function withoutServiceComments(entries: readonly unknown[]): unknown[] {
  return entries.map((entry) => {
    if (typeof entry !== 'object' || entry === null || (entry as { comment?: unknown }).comment !== SERVICE_HISTORY_COMMENT) return entry;
    const { comment: _comment, ...rest } = entry as Record<string, unknown>;
    return rest;
  });
}
