// werf's `/regex/` config values. werf compiles every one the same way, `regexp.Compile(fmt.Sprintf("^%s$", body))`
// with the slashes stripped, and compares a value without slashes as an exact string:
//   - imageSpec `removeLabels` and `removeEnv` (not `removeVolumes`, exact paths only): compileRemovePatterns in
//     pkg/build/stage/image_spec.go in werf/werf;
//   - keepPolicies `references.branch` / `references.tag`: processRegexpString in pkg/config/raw_meta_cleanup.go
//     (an exact name goes through regexp.QuoteMeta into the same `^%s$`);
//   - giterminism `config.goTemplateRendering.allowEnvVariables`: IsEnvNameAccepted in
//     pkg/giterminism_manager/config/config.go.
// So there is one anchoring rule, `^` + body + `$` as text (src/go/regexp.ts compileAnchored): `/a|b/` matches
// any name that starts with `a` or ends with `b`, as in werf. (Two of Slipway's four copies wrapped the body in
// `^(?:…)$`, and all of them compiled the body as JavaScript syntax rather than RE2.)
// werf tests only the prefix and suffix, so a lone `/` would be a regex there (and crash `removeLabels`); Slipway
// needs at least two characters and reads `/` as a name.

import { compileAnchored, quoteMeta } from '../go/regexp.js';

/** Whether a config value is a `/regex/` (else it is an exact name). */
export function isRegexValue(value: string): boolean {
  return value.length >= 2 && value.startsWith('/') && value.endsWith('/');
}

/** The RegExp werf builds for a `/regex/` value. Throws RegexpSyntaxError for a body Go would reject. */
export function compileRegexValue(value: string): RegExp {
  return compileAnchored(value.slice(1, -1));
}

/** `/regex/` compiled as werf does, an exact name as `^QuoteMeta(name)$`. Throws RegexpSyntaxError. */
export function compileNameOrRegexValue(value: string): RegExp {
  return isRegexValue(value) ? compileRegexValue(value) : compileAnchored(quoteMeta(value));
}
