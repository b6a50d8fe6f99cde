// `slipway slugify -f FORMAT STRING`: werf's `werf slugify` (cmd/werf/slugify/slugify.go), printing the string
// slugged by werf's algorithms (src/export/slug.ts), plus Slipway's `image-slug` (what %image_slug% gives) and
// `project`. As in werf there is no default format, the short names `tag`, `ns` and `r` work, and the messages are
// werf's: `--format FORMAT argument required`, `unknown format "x"`, `accepts 1 position argument, received N`.
//
// The format is a local option of this command: werf reads no env var for it, and it is no option of any other
// command, so it stays out of the shared option table.

import { Option, type Command } from 'commander';
import { UsageError } from '../../errors.js';
import { quote } from '../../go/strconv.js';
import { dockerTag, helmRelease, kubernetesNamespace, project, slugify } from '../../text/slug.js';
import type { CliRuntime, SlipwayCommand } from '../command.js';

export const SLUGIFY_FORMATS = {
  'docker-tag': dockerTag,
  'image-slug': slugify,
  'kubernetes-namespace': kubernetesNamespace,
  'helm-release': helmRelease,
  project,
} as const satisfies Record<string, (data: string) => string>;

export type SlugifyFormat = keyof typeof SLUGIFY_FORMATS;

/** werf's short spellings. */
const FORMAT_ALIASES: Readonly<Record<string, SlugifyFormat>> = { tag: 'docker-tag', ns: 'kubernetes-namespace', r: 'helm-release' };

const FORMAT_HINT = `formats: ${Object.keys(SLUGIFY_FORMATS).join(', ')} (werf's short names: tag, ns, r)`;

function formatOf(name: string | undefined): SlugifyFormat {
  if (name === undefined || name === '') throw new UsageError('--format FORMAT argument required', { hint: FORMAT_HINT });
  if (Object.hasOwn(SLUGIFY_FORMATS, name)) return name as SlugifyFormat;
  const alias = Object.hasOwn(FORMAT_ALIASES, name) ? FORMAT_ALIASES[name] : undefined;
  if (alias === undefined) throw new UsageError(`unknown format ${quote(name)}`, { hint: FORMAT_HINT });
  return alias;
}

/** What `slipway slugify` prints (without the newline), or a UsageError for a wrong format or argument count. */
export function slugifyAs(format: string | undefined, args: readonly string[]): string {
  if (args.length !== 1) throw new UsageError(`accepts 1 position argument, received ${args.length}`, { hint: 'slipway slugify -f FORMAT STRING' });
  return SLUGIFY_FORMATS[formatOf(format)](args[0]!);
}

const FORMAT_HELP =
  'docker-tag (tag): a docker tag, unchanged when already valid (what %image_safe_slug% gives); ' +
  'image-slug: the plain slug, no length limit (what %image_slug% gives); ' +
  'kubernetes-namespace (ns): a DNS-1123 label of at most 63; ' +
  'helm-release (r): a DNS-1123 subdomain of at most 53; ' +
  'project: a werf project name of at most 50';

export const slugifyCommand: SlipwayCommand = {
  name: 'slugify',
  register(program: Command, runtime: CliRuntime): Command {
    const command = program
      .command('slugify')
      .summary('Print a string slugged for a format')
      .description(
        "Print STRING made valid for the format, with werf's slug algorithms: unchanged when already valid, else " +
          'transliterated to lowercase ASCII letters, digits and dashes, cut to the length limit, with a hash of the ' +
          'original appended so that different strings stay different.\n\n' +
          'Examples:\n' +
          '  $ slipway slugify -f kubernetes-namespace My_branch\n' +
          '  my-branch-8ebf2d1d\n' +
          '  $ slipway slugify -f docker-tag helo/ehlo\n' +
          '  helo-ehlo-b6f6ab1f\n' +
          '  $ slipway slugify -f docker-tag 16.04\n' +
          '  16.04',
      )
      .argument('[STRING...]', 'the string to slug (exactly one)')
      .addOption(new Option('-f, --format <format>', FORMAT_HELP));
    command.action(() => {
      const { format } = command.opts<{ format?: string }>();
      runtime.io.stdout(`${slugifyAs(format, command.args)}\n`);
    });
    return command;
  },
};
