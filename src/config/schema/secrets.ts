// Image `secrets`: env, src and value secrets, each checked by giterminism.

import type { Secret } from '../werf-config.js';
import { DocumentContext } from './context.js';
import { baseName } from './rules.js';
import { formatPath, MapView, type Path } from './yaml-view.js';

export function readSecrets(view: MapView, cx: DocumentContext): Secret[] {
  const secrets: Secret[] = [];
  const ids = new Map<string, Path>();
  for (const item of view.list('secrets') ?? []) {
    const secret = cx.reader.map(item.node, item.path);
    if (secret === undefined) continue;
    const id = secret.str('id');
    const env = secret.str('env');
    const src = secret.str('src');
    const value = secret.str('value');
    secret.reportUnknownKeys();
    const given = [env, src, value].filter((v) => v !== undefined && v !== '').length;
    if (given === 0) {
      cx.report(secret.node, secret.path, 'one of "env", "src" or "value" is required');
      continue;
    }
    if (given > 1) {
      cx.report(secret.node, secret.path, 'specify only one of "env", "src" and "value"');
      continue;
    }
    let result: Secret;
    if (env !== undefined && env !== '') {
      result = { kind: 'env', id: id || env, env };
      cx.inspect(secret.at('env'), secret.pathOf('env'), cx.inspector.secretEnv?.(env));
    } else if (src !== undefined && src !== '') {
      result = { kind: 'src', id: id || baseName(src), src };
      cx.inspect(secret.at('src'), secret.pathOf('src'), cx.inspector.secretSrc?.(src));
    } else {
      if (id === undefined || id === '') {
        cx.report(secret.node, secret.path, 'missing key "id": it is required with "value"');
        continue;
      }
      result = { kind: 'value', id, value: value ?? '' };
      cx.inspect(secret.at('value'), secret.pathOf('value'), cx.inspector.secretValue?.(id));
    }
    const seen = ids.get(result.id);
    if (seen !== undefined) {
      cx.report(secret.node, secret.path, `duplicate secret id ${JSON.stringify(result.id)}: already used at ${formatPath(seen)}`);
      continue;
    }
    ids.set(result.id, secret.path);
    secrets.push(result);
  }
  return secrets;
}

/** `image:` (or the legacy `artifact:`): the names the document defines. */
